"""Cut images and other arrays into tiles."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["iter_tiles", "split_array"]

_PARTIAL = ("keep", "drop", "pad")


def _pair(value: int | tuple[int, int], what: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in pair):
        raise ValueError(f"iter_tiles: {what} must be a positive int or (height, width), got {value!r}")
    return int(pair[0]), int(pair[1])


def iter_tiles(
    array: np.ndarray,
    tile_size: int | tuple[int, int],
    *,
    partial: str = "keep",
    pad_value: Any = 0,
    axes: tuple[int, int] = (0, 1),
) -> Iterator[tuple[tuple[int, int], np.ndarray]]:
    """Cut an array into tiles, row by row, and yield each with the position of its top-left corner.

    ``tile_size`` counts pixels along the two ``axes`` (height, width); other axes (channels) are
    kept whole. Tiles are views of ``array`` (no copy) except padded ones. Tiles at the bottom and
    right edges that do not fill a whole tile are handled by ``partial``:

    - ``"keep"``: yield them smaller than ``tile_size``;
    - ``"drop"``: skip them (only whole tiles, the far edges are lost);
    - ``"pad"``: yield full-size copies filled with ``pad_value`` beyond the array.

    Args:
        array: e.g. an ``H x W`` or ``H x W x C`` image (``C x H x W`` with ``axes=(1, 2)``).
        tile_size: tile height and width in pixels, or one int for square tiles.
        partial: ``"keep"``, ``"drop"`` or ``"pad"``.
        pad_value: fill value for ``partial="pad"``.
        axes: the (vertical, horizontal) axes of ``array``.

    Returns:
        An iterator of ``((y, x), tile)``, ``y``/``x`` being pixel offsets along ``axes``.

    Raises:
        ValueError: bad ``tile_size``, ``partial`` or ``axes``, or ``array`` has fewer than two axes.
    """
    array = np.asarray(array)
    tile_h, tile_w = _pair(tile_size, "tile_size")
    if partial not in _PARTIAL:
        raise ValueError(f"iter_tiles: partial must be one of {', '.join(_PARTIAL)}, got {partial!r}")
    if array.ndim < 2:
        raise ValueError(f"iter_tiles: need an array with at least 2 axes, got shape {array.shape}")
    if (
        len(axes) != 2
        or not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes)
        or not all(-array.ndim <= a < array.ndim for a in axes)
    ):
        raise ValueError(f"iter_tiles: bad axes {axes!r} for an array of shape {array.shape}")
    v_axis, h_axis = (int(a) % array.ndim for a in axes)
    if v_axis == h_axis:
        raise ValueError(f"iter_tiles: axes must be two different axes, got {axes!r}")
    return _tiles(array, tile_h, tile_w, partial, pad_value, v_axis, h_axis)


def split_array(
    img: np.ndarray, v_pixels: int, h_pixels: int, indices: tuple[int, int] = (1, 2)
) -> Iterator[np.ndarray]:
    """Cut an array into tiles of ``v_pixels x h_pixels``, row by row (datadings' ``split_array``).

    The axes ``indices`` (default: 1 and 2 of a ``C x H x W`` array) are cut; tiles at the bottom
    and right edges are smaller when the size does not divide evenly. Tiles are views of ``img``.
    :func:`iter_tiles` does the same with more options and yields each tile's position too.

    Args:
        img: the array.
        v_pixels: tile height (along ``indices[0]``).
        h_pixels: tile width (along ``indices[1]``).
        indices: the (vertical, horizontal) axes.

    Returns:
        An iterator of tiles.

    Raises:
        ValueError: a tile size is not a positive int, or bad ``indices``.
    """
    tiles = iter_tiles(img, (v_pixels, h_pixels), axes=tuple(indices))  # type: ignore[arg-type]
    return (tile for _, tile in tiles)


def _tiles(
    array: np.ndarray, tile_h: int, tile_w: int, partial: str, pad_value: Any, v_axis: int, h_axis: int
) -> Iterator[tuple[tuple[int, int], np.ndarray]]:
    height, width = array.shape[v_axis], array.shape[h_axis]
    if partial == "drop":
        height, width = height - height % tile_h, width - width % tile_w
    for y in range(0, height, tile_h):
        for x in range(0, width, tile_w):
            index: list[slice] = [slice(None)] * array.ndim
            index[v_axis] = slice(y, y + tile_h)
            index[h_axis] = slice(x, x + tile_w)
            tile = array[tuple(index)]
            if partial == "pad" and (tile.shape[v_axis] < tile_h or tile.shape[h_axis] < tile_w):
                shape = list(tile.shape)
                shape[v_axis], shape[h_axis] = tile_h, tile_w
                padded = np.full(shape, pad_value, dtype=array.dtype)
                padded[tuple(slice(0, n) for n in tile.shape)] = tile
                tile = padded
            yield (y, x), tile
