"""What the remote-sensing converters share: reading TIFF rasters, cutting tiles, colour-coded labels.

Rasters are handled band first, ``(bands, H, W)`` (2-D for single-band labels). Tiles follow one
grid for every raster of a scene: ``ceil(H / size)`` rows by ``ceil(W / size)`` columns, walked row
by row, and a tile's index counts *every* grid cell in that order (``idx = row * ncols + col``),
also when the smaller edge tiles are dropped.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from dings.tools import iter_tiles, tiff_to_nd_array

from ..catalog import Option
from ..extras import require_extra

__all__ = [
    "DEFAULT_TILE_SIZE",
    "cast_checked",
    "grid_shape",
    "grid_tiles",
    "positive_int",
    "read_tiff",
    "tile_size_option",
]

#: tile height and width used by the reference converters
DEFAULT_TILE_SIZE = 384


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def tile_size_option() -> Option:
    """The ``--tile-size`` option (default :data:`DEFAULT_TILE_SIZE`)."""
    return Option(
        ("--tile-size",),
        "height and width of the square tiles in pixels (default: %(default)s)",
        {"type": positive_int, "default": DEFAULT_TILE_SIZE, "metavar": "PIXELS"},
    )


def read_tiff(path: Path, dataset: str) -> np.ndarray:
    """Read the first image of a TIFF (GeoTIFF) file as a band-first array.

    Args:
        path: the TIFF file.
        dataset: the converter reading it (names the extra when ``tifffile`` is missing).

    Returns:
        ``(bands, H, W)`` for multi-band images, ``(1, H, W)`` for single-band ones.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: not a readable TIFF, or its layout is not a single 2-D raster with samples.
    """
    require_extra("tifffile", "remote-sensing", dataset)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; the {dataset} converter needs it (check the unpacked folder)")
    return tiff_to_nd_array(path, None)


def grid_shape(height: int, width: int, tile_size: int) -> tuple[int, int]:
    """Rows and columns of the tile grid over a ``height x width`` raster (edge cells included)."""
    return -(-height // tile_size), -(-width // tile_size)


def grid_tiles(
    arrays: Sequence[np.ndarray], tile_size: int, keep_edges: bool = True
) -> Iterator[tuple[int, list[np.ndarray]]]:
    """Cut rasters of one scene with the same grid; yield ``(idx, [tile of each array])`` row by row.

    Args:
        arrays: arrays whose last two axes are the same ``H x W`` (band-first or 2-D).
        tile_size: tile height and width.
        keep_edges: also yield the smaller tiles at the bottom and right edges; when false they are
            skipped, but ``idx`` still counts them (kept indices are then not contiguous).

    Raises:
        ValueError: the arrays differ in height or width, or there are none.
    """
    if not arrays:
        raise ValueError("grid_tiles: need at least one array")
    size = arrays[0].shape[-2:]
    for array in arrays[1:]:
        if array.shape[-2:] != size:
            raise ValueError(f"grid_tiles: rasters of one scene differ in size: {arrays[0].shape} and {array.shape}")
    _, ncols = grid_shape(size[0], size[1], tile_size)
    partial = "keep" if keep_edges else "drop"
    cutters = [iter_tiles(a, tile_size, partial=partial, axes=(-2, -1)) for a in arrays]
    for cuts in zip(*cutters):
        (y, x), _ = cuts[0]
        yield (y // tile_size) * ncols + x // tile_size, [np.ascontiguousarray(tile) for _, tile in cuts]


def cast_checked(array: np.ndarray, dtype: np.dtype | type, what: str) -> np.ndarray:
    """Return ``array`` as ``dtype``; values that the cast would change are an error, not wrapped.

    Args:
        array: integer or float array.
        dtype: integer target type.
        what: names the array in the error (file and variable).

    Raises:
        ValueError: ``array`` holds values ``dtype`` cannot represent (fractions, out of range).
    """
    target = np.dtype(dtype)
    if np.can_cast(array.dtype, target, casting="safe"):
        return array.astype(target, copy=False)
    if array.dtype.kind not in "uifb":
        raise ValueError(f"{what}: expected a numeric array, got {array.dtype}")
    if array.size:
        info = np.iinfo(target)
        low, high = array.min(), array.max()
        if (
            low < info.min
            or high > info.max
            or (array.dtype.kind == "f" and not np.array_equal(array, np.trunc(array)))
        ):
            raise ValueError(
                f"{what}: values from {low} to {high} do not fit {target} without change; the file is not the expected data"
            )
    return array.astype(target)
