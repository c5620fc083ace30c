"""ISPRS Vaihingen 2D semantic labelling: aerial true orthophotos, DSM and colour-coded labels.

Metadata, catalog entry and converter.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..builder import Builder
from ..catalog import DatasetInfo, Option, SourceFile, Split
from ..colors import colors_to_indices
from ..samples import MaskedImageSegmentationData
from ._tiles import (
    DEFAULT_TILE_SIZE,
    cast_checked,
    grid_tiles,
    read_tiff,
    tile_size_option,
)

__all__ = [
    "CLASSES",
    "COLOR_TO_CLASS_MAP",
    "CROP_SIZE",
    "FOLDER",
    "INFO",
    "TRAIN_AREAS",
    "VAL_AREAS",
    "Vaihingen",
    "dsm_path",
    "read_area",
]

#: the unpacked folder inside INDIR
FOLDER = "ISPRS_semantic_labeling_Vaihingen"
#: default tile size of the val split
CROP_SIZE = DEFAULT_TILE_SIZE
#: class names; index = class id in ``label_image`` (6 = unclassified, black, is not listed)
CLASSES = ("Impervious surfaces", "Buildings", "Low vegetation", "Tree", "Car", "Clutter")
#: label colour (r, g, b) -> class id; any other colour becomes 0
COLOR_TO_CLASS_MAP = {
    (255, 255, 255): 0,
    (0, 0, 255): 1,
    (0, 255, 255): 2,
    (0, 255, 0): 3,
    (255, 255, 0): 4,
    (255, 0, 0): 5,
    (0, 0, 0): 6,
}
#: areas written whole to the train split
TRAIN_AREAS = (1, 3, 5, 7, 13, 17, 21, 23, 26, 32, 37)
#: areas cut into tiles for the val split
VAL_AREAS = (11, 15, 28, 30, 34)

INFO = DatasetInfo(
    name="Vaihingen",
    aliases=("ISPRS-Vaihingen", "vaihingen"),
    domain="remote-sensing",
    tasks=("semantic-segmentation",),
    tags=("aerial", "orthophoto", "dsm", "isprs", "tiles", "6-classes"),
    description=(
        "The ISPRS 2D semantic labelling benchmark of Vaihingen, Germany: true orthophotos of 9 cm "
        "ground resolution in near-infrared, red and green, a matching digital surface model and "
        "colour-coded ground truth for six classes (impervious surfaces, building, low vegetation, "
        "tree, car, clutter). The labelled areas are split as in datadings: 11 areas are written whole "
        "for training, 5 areas in 384x384 tiles for validation."
    ),
    homepage="https://www.isprs.org/education/benchmarks/UrbanSemLab/2d-sem-label-vaihingen.aspx",
    sources=(
        SourceFile(
            FOLDER,
            instructions=(
                "request the data with the form on the ISPRS benchmark page, then unpack it so that INDIR "
                f"contains {FOLDER}/ with top/, gts_for_participants/ and dsm/"
            ),
        ),
    ),
    splits=(
        Split("train", len(TRAIN_AREAS), file="Vaihingen_train.msgpack"),
        Split("val", file="Vaihingen_val.msgpack"),
    ),
    sample_keys={
        "key": "str, 'top_mosaic_09cm_area<N>.tif' (train) or 'top_mosaic_09cm_area<N>.tif_<idx>' (val tiles, "
        "idx = tile row * grid columns + tile column)",
        "image": "numpy uint8 array (3, h, w), IR-R-G bands of the true orthophoto",
        "label_image": "numpy int64 array (h, w), class ids (COLOR_TO_CLASS_MAP; unknown colours -> 0)",
        "mask": "numpy int32 array (h, w), the DSM heights truncated to whole units (float32 with --dsm-dtype float32)",
    },
    options=(
        tile_size_option(),
        Option(
            ("--train-areas",),
            "area numbers written whole to the train split (default: the 11 of datadings)",
            {"type": int, "nargs": "+", "default": list(TRAIN_AREAS), "metavar": "N"},
        ),
        Option(
            ("--val-areas",),
            "area numbers cut into tiles for the val split (default: 11 15 28 30 34)",
            {"type": int, "nargs": "+", "default": list(VAL_AREAS), "metavar": "N"},
        ),
        Option(
            ("--dsm-dtype",),
            "type of the DSM in 'mask': int32 truncates like datadings, float32 keeps the heights "
            "(default: %(default)s)",
            {"choices": ("int32", "float32"), "default": "int32"},
        ),
    ),
    common_options=(),
    differences=(
        "the DSM is read from its official name dsm/dsm_09cm_matching_area<N>.tif; datadings' name "
        "dsm/dsm_mosaic_09cm_area<N>.tif is accepted too",
        "the val split honours -y/--no-confirm like the train split (datadings asks regardless)",
        "a DSM with NaN or infinite heights is an error instead of undefined integers",
        "--tile-size, --train-areas, --val-areas and --dsm-dtype are new; the defaults give datadings' output",
    ),
    extra="remote-sensing",
    converter="dings.sets.Vaihingen_write",
)


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
        raise ValueError(
            f"{gts}: expected a 3-band uint8 colour-coded label image, got {colours.dtype} with {colours.shape[0]} bands"
        )
    dsm_file = dsm_path(root, area)
    dsm = _dsm(dsm_file, dsm_dtype)
    for path, array in ((gts, colours), (dsm_file, dsm)):
        if array.shape[-2:] != image.shape[-2:]:
            raise ValueError(
                f"{path}: size {array.shape[-2:]} differs from the orthophoto's {image.shape[-2:]} ({top.name})"
            )
    return (
        np.ascontiguousarray(image),
        colors_to_indices(colours, COLOR_TO_CLASS_MAP, channel_axis=0).astype(np.int64),
        dsm,
    )


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


class Vaihingen(Builder):
    """Vaihingen's converter: ``train`` holds the chosen areas whole, ``val`` the chosen areas in tiles."""

    info = INFO

    def items(self, split: str) -> Iterable[dict[str, Any]]:
        """The samples of ``split``, read area by area."""
        root, options = self.files[FOLDER], self.options
        if split == "train":
            return train_samples(root, options.train_areas, options.dsm_dtype)
        return val_samples(root, options.val_areas, options.dsm_dtype, options.tile_size)

    def total(self, split: str, items: Any) -> int | None:
        """One sample per area for ``train``; unknown for ``val``."""
        return len(self.options.train_areas) if split == "train" else None
