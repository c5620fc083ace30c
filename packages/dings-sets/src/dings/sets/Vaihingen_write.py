"""Convert ISPRS Vaihingen to ``Vaihingen_train.msgpack`` (whole areas) and ``Vaihingen_val.msgpack`` (tiles).

INDIR contains the unpacked ``ISPRS_semantic_labeling_Vaihingen/`` folder. For area N the converter
reads ``top/top_mosaic_09cm_areaN.tif`` (3 bands, uint8), ``gts_for_participants/top_mosaic_09cm_areaN.tif``
(colour-coded labels) and the DSM ``dsm/dsm_09cm_matching_areaN.tif`` (or datadings' name
``dsm/dsm_mosaic_09cm_areaN.tif``), all with tifffile. Samples hold numpy arrays.

Run ``python -m dings.sets.Vaihingen_write --help`` or ``dings write Vaihingen --help``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._tiles import cast_checked, colors_to_classes, grid_tiles, read_tiff
from .converter import Outputs, run_converter
from .samples import MaskedImageSegmentationData
from .Vaihingen import COLOR_TO_CLASS_MAP, FOLDER, INFO

__all__ = ["convert", "dsm_path", "main", "read_area"]


def image_name(area: int) -> str:
    """The file name of area ``area``'s orthophoto and label image (and the sample key)."""
    return f"top_mosaic_09cm_area{area}.tif"


def dsm_path(root: Path, area: int) -> Path:
    """The DSM of ``area``: the official name, else datadings' name if only that exists.

    Raises:
        FileNotFoundError: neither file exists.
    """
    official = root / "dsm" / f"dsm_09cm_matching_area{area}.tif"
    legacy = root / "dsm" / f"dsm_mosaic_09cm_area{area}.tif"
    if official.is_file():
        return official
    if legacy.is_file():
        return legacy
    raise FileNotFoundError(f"{official}: missing (also looked for {legacy.name}); the DSM of area {area} is needed")


def _dsm(path: Path, dtype: str) -> np.ndarray:
    array = read_tiff(path, "Vaihingen")
    if array.shape[0] != 1:
        raise ValueError(f"{path}: expected a single-band DSM, got {array.shape[0]} bands")
    heights = array[0]
    if dtype == "float32":
        return heights.astype(np.float32)
    if heights.dtype.kind == "f":
        if not np.isfinite(heights).all():
            raise ValueError(f"{path}: the DSM has NaN or infinite heights; the file is damaged")
        heights = np.trunc(heights)
    return cast_checked(heights, np.int32, f"{path}: DSM heights")


def read_area(root: Path, area: int, dsm_dtype: str = "int32") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read one area: ``(image, label_image, mask)``.

    Args:
        root: the ``ISPRS_semantic_labeling_Vaihingen`` folder.
        area: area number.
        dsm_dtype: ``"int32"`` (heights truncated, as in datadings) or ``"float32"``.

    Returns:
        uint8 ``(3, H, W)``, int64 ``(H, W)`` class ids and the DSM ``(H, W)``.

    Raises:
        FileNotFoundError: a file of the area is missing.
        ValueError: a file is unreadable, has the wrong bands or type, or the sizes differ.
    """
    top = root / "top" / image_name(area)
    gts = root / "gts_for_participants" / image_name(area)
    image = read_tiff(top, "Vaihingen")
    if image.shape[0] != 3 or image.dtype != np.uint8:
        raise ValueError(f"{top}: expected a 3-band uint8 orthophoto, got {image.dtype} with {image.shape[0]} bands")
    colours = read_tiff(gts, "Vaihingen")
    if colours.shape[0] != 3 or colours.dtype != np.uint8:
        raise ValueError(f"{gts}: expected a 3-band uint8 colour-coded label image, got {colours.dtype} with {colours.shape[0]} bands")
    dsm_file = dsm_path(root, area)
    dsm = _dsm(dsm_file, dsm_dtype)
    for path, array in ((gts, colours), (dsm_file, dsm)):
        if array.shape[-2:] != image.shape[-2:]:
            raise ValueError(f"{path}: size {array.shape[-2:]} differs from the orthophoto's {image.shape[-2:]} ({top.name})")
    return np.ascontiguousarray(image), colors_to_classes(colours, COLOR_TO_CLASS_MAP), dsm


def train_samples(root: Path, areas: Sequence[int], dsm_dtype: str) -> Iterator[dict[str, Any]]:
    """Yield one sample per area, whole."""
    for area in areas:
        image, labels, dsm = read_area(root, area, dsm_dtype)
        yield MaskedImageSegmentationData(image_name(area), image, labels, dsm)


def val_samples(root: Path, areas: Sequence[int], dsm_dtype: str, tile_size: int) -> Iterator[dict[str, Any]]:
    """Yield the tiles of every area (edge tiles kept, smaller), keyed ``<image name>_<idx>``."""
    for area in areas:
        image, labels, dsm = read_area(root, area, dsm_dtype)
        for idx, (tile, label, height) in grid_tiles([image, labels, dsm], tile_size, keep_edges=True):
            yield MaskedImageSegmentationData(f"{image_name(area)}_{idx}", tile, label, height)


def convert(args: argparse.Namespace, files: dict[str, Path], outputs: Outputs) -> None:
    """Write the train and val splits of Vaihingen (see the module docstring)."""
    root = files[FOLDER]
    if outputs.wanted("train"):
        outputs.write("train", train_samples(root, args.train_areas, args.dsm_dtype), total=len(args.train_areas))
    if outputs.wanted("val"):
        outputs.write("val", val_samples(root, args.val_areas, args.dsm_dtype, args.tile_size))


def main(argv: Sequence[str] | None = None) -> Outputs:
    """Command-line entry point."""
    return run_converter(INFO, convert, argv)


if __name__ == "__main__":
    main()
