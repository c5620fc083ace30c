"""Convert RIT-18 (``rit18_data.mat``) to ``train.msgpack`` (the whole mosaic) and ``val.msgpack`` (tiles).

The mat file is a MATLAB v5/v7 file (not v7.3/HDF5), read with scipy through
:func:`dings.tools.matlab.loadmat`, one split's variables at a time. Samples hold numpy arrays.

Run ``python -m dings.sets.RIT18_write --help`` or ``dings write RIT18 --help``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dings.tools import loadmat

from ._tiles import cast_checked, grid_shape, grid_tiles
from .converter import Outputs, run_converter
from .extras import require_extra
from .RIT18 import INFO, NUM_INPUT_CHANNELS
from .samples import MaskedImageSegmentationData

__all__ = ["convert", "load_split", "main"]


def load_split(mat: Path, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read ``<split>_data`` and ``<split>_labels`` from the RIT-18 mat file.

    Args:
        mat: ``rit18_data.mat``.
        split: ``"train"`` or ``"val"``.

    Returns:
        ``(image, label_image, mask)``: uint16 ``(6, H, W)``, int64 ``(H, W)`` and uint8 ``(H, W)``.

    Raises:
        ValueError: the file is not a readable v5/v7 mat file, a variable is missing, or its shape or
            values are not those of RIT-18.
    """
    require_extra("scipy.io", "remote-sensing", "RIT18")
    names = (f"{split}_data", f"{split}_labels")
    content = loadmat(mat, variable_names=names)
    for name in names:
        if name not in content:
            raise ValueError(f"{mat}: variable {name!r} is missing; download rit18_data.mat again")
    data, labels = (np.asarray(content[n]) for n in names)
    bands = NUM_INPUT_CHANNELS + 1
    if data.ndim != 3 or data.shape[0] != bands:
        raise ValueError(f"{mat}: {names[0]} must have shape ({bands}, H, W), got {data.shape}")
    if labels.shape != data.shape[1:]:
        raise ValueError(f"{mat}: {names[1]} must have shape {data.shape[1:]} like {names[0]}, got {labels.shape}")
    image = cast_checked(data[:NUM_INPUT_CHANNELS], np.uint16, f"{mat}: {names[0]} bands 1-{NUM_INPUT_CHANNELS}")
    mask = cast_checked(data[NUM_INPUT_CHANNELS], np.uint8, f"{mat}: {names[0]} band {bands} (mask)")
    return image, cast_checked(labels, np.int64, f"{mat}: {names[1]}"), mask


def val_samples(image: np.ndarray, labels: np.ndarray, mask: np.ndarray, tile_size: int) -> Iterator[dict[str, Any]]:
    """Yield the val tiles (edge tiles kept, smaller) row by row, keyed ``val_<idx>``."""
    for idx, (tile, label, tile_mask) in grid_tiles([image, labels, mask], tile_size, keep_edges=True):
        yield MaskedImageSegmentationData(f"val_{idx}", tile, label, tile_mask)


def convert(args: argparse.Namespace, files: dict[str, Path], outputs: Outputs) -> None:
    """Write the train and val splits of RIT-18 (see the module docstring)."""
    mat = files["rit18_data.mat"]
    if outputs.wanted("train"):
        image, labels, mask = load_split(mat, "train")
        outputs.write("train", [MaskedImageSegmentationData("train", image, labels, mask)], total=1)
        del image, labels, mask
    if outputs.wanted("val"):
        image, labels, mask = load_split(mat, "val")
        rows, cols = grid_shape(labels.shape[0], labels.shape[1], args.tile_size)
        outputs.write("val", val_samples(image, labels, mask, args.tile_size), total=rows * cols)


def main(argv: Sequence[str] | None = None) -> Outputs:
    """Command-line entry point."""
    return run_converter(INFO, convert, argv)


if __name__ == "__main__":
    main()
