"""Label colours, one home for every domain: colour-coded label images → class indices, and back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["colors_to_indices", "index_to_color"]


def _pack(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.uint32)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def colors_to_indices(
    image: np.ndarray,
    colors: np.ndarray | Sequence[Sequence[int]] | Mapping[tuple[int, int, int], int],
    default: int = 0,
    *,
    channel_axis: int = -1,
) -> np.ndarray:
    """Map every pixel of an RGB label image to the class of its colour.

    Args:
        image: uint8 RGB, ``H x W x 3`` (``channel_axis=-1``) or ``3 x H x W`` (``channel_axis=0``).
        colors: an ``N x 3`` table (class = position; the first occurrence of a colour wins) or a
            mapping ``(r, g, b) → class``.
        default: class of colours that are not in ``colors``.
        channel_axis: the axis of the three channels, ``-1`` or ``0``.

    Returns:
        ``H x W`` classes: uint8 when every class and ``default`` fit, else uint16 (int64 beyond that).

    Raises:
        ValueError: the image does not have three channels on ``channel_axis``, or the table is not ``N x 3``.
    """
    image = np.asarray(image)
    if channel_axis not in (0, -1):
        raise ValueError(f"colors_to_indices: channel_axis must be 0 or -1, got {channel_axis}")
    if image.ndim != 3 or image.shape[channel_axis] != 3:
        layout = "H x W x 3" if channel_axis == -1 else "3 x H x W"
        raise ValueError(f"colors_to_indices: need a {layout} RGB image, got shape {image.shape}")
    if channel_axis == 0:
        image = np.moveaxis(image, 0, -1)
    if isinstance(colors, Mapping):
        table = np.asarray(list(colors), dtype=np.int64).reshape(-1, 3)
        values = np.asarray(list(colors.values()), dtype=np.int64)
    else:
        table = np.asarray(colors, dtype=np.int64)
        values = np.arange(len(table), dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != 3 or table.shape[0] == 0:
        raise ValueError(f"colors_to_indices: need an N x 3 colour table, got shape {table.shape}")
    keys = _pack(table)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    pixels = _pack(image)
    position = np.clip(np.searchsorted(sorted_keys, pixels), 0, len(sorted_keys) - 1)
    found = sorted_keys[position] == pixels
    # the first entry of a repeated colour: the stable sort keeps the lowest position first among equals
    first = np.searchsorted(sorted_keys, sorted_keys, side="left")
    indices = np.where(found, values[order[first[position]]], default)
    low, high = min(int(values.min()), default), max(int(values.max()), default)
    if low >= 0 and high <= 255:
        return indices.astype(np.uint8)
    if low >= 0 and high <= 65535:
        return indices.astype(np.uint16)
    return indices.astype(np.int64)


def index_to_color(array: np.ndarray, colors: np.ndarray | Sequence[Sequence[int]]) -> np.ndarray:
    """Colour a label map: ``colors[array]``, with indices outside the table shown black.

    Args:
        array: integer class indices (any shape).
        colors: ``N x 3`` uint8 RGB table.

    Returns:
        ``array.shape + (3,)`` uint8 RGB.

    Raises:
        ValueError: ``array`` is not integer.
    """
    array = np.asarray(array)
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"index_to_color: need integer class indices, got dtype {array.dtype}")
    table = np.concatenate([np.asarray(colors, dtype=np.uint8).reshape(-1, 3), np.zeros((1, 3), np.uint8)])
    outside = len(table) - 1
    index = np.where((array >= 0) & (array < outside), array, outside).astype(np.intp)
    return table[index]
