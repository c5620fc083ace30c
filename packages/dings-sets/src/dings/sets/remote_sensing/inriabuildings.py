"""Inria Aerial Image Labeling: building footprints in 0.3 m aerial orthophotos. Metadata, catalog entry and converter."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from dings.tools import encode_image, resolve_workers

from ..builder import Builder
from ..catalog import DatasetInfo, Option, SourceFile, Split
from ..extras import require_extra
from ..samples import ImageData, ImageSegmentationData
from ._tiles import DEFAULT_TILE_SIZE, grid_tiles, positive_int, read_tiff, tile_size_option

__all__ = [
    "CLASSES",
    "CROP_SIZE",
    "FOLDER",
    "IDS",
    "IMAGE_SIZE",
    "INFO",
    "NUM_INPUT_CHANNELS",
    "TEST_LOCATIONS",
    "TRAIN_LOCATIONS",
    "VAL_IDS",
    "InriaBuildings",
    "Scene",
    "encode_scene",
    "scenes",
]

#: the unpacked folder inside INDIR
FOLDER = "AerialImageDataset"
NUM_INPUT_CHANNELS = 3
#: height and width of every image of the dataset
IMAGE_SIZE = 5000
#: default tile size of the val and test splits
CROP_SIZE = DEFAULT_TILE_SIZE
#: class names; index = value of the decoded ``label_image``
CLASSES = ("background", "building")
#: locations with ground truth, in the order the converter visits them
TRAIN_LOCATIONS = ("vienna", "kitsap", "tyrol-w", "chicago", "austin")
#: locations without ground truth
TEST_LOCATIONS = ("bellingham", "bloomington", "innsbruck", "sfo", "tyrol-e")
#: image numbers of every location
IDS = tuple(range(1, 37))
#: image numbers of the training locations that form the val split (as in the dataset paper)
VAL_IDS = (1, 2, 3, 4, 5)

INFO = DatasetInfo(
    name="InriaBuildings",
    aliases=("Inria", "InriaAerialImageLabeling", "inria-buildings"),
    domain="remote-sensing",
    tasks=("semantic-segmentation", "building-detection"),
    tags=("aerial", "orthophoto", "buildings", "binary", "tiles", "2-classes"),
    description=(
        "The Inria Aerial Image Labeling dataset (Maggiori et al., 2017): 360 RGB orthophotos of "
        "5000x5000 pixels at 0.3 m resolution from ten cities in Europe and the USA, with building / "
        "not-building ground truth for the 180 images of five training cities. As in datadings, images "
        "6-36 of the training cities are written whole for training, images 1-5 in 384x384 tiles for "
        "validation, and the test cities in tiles without labels."
    ),
    homepage="https://project.inria.fr/aerialimagelabeling/",
    sources=(
        SourceFile(
            FOLDER,
            instructions=(
                "register on the dataset home page, download the multi-part 7z archive, unpack it "
                f"(and the zip inside) so that INDIR contains {FOLDER}/ with train/ and test/"
            ),
        ),
    ),
    splits=(Split("train", 155), Split("val", 4_225), Split("test", 30_420)),
    sample_keys={
        "key": "str, '<location><n>.tif' (train) or '<location><n>.tif_<idx>' (val/test tiles, "
        "idx = tile row * grid columns + tile column, dropped edge tiles counted)",
        "image": "bytes, RGB JPEG (quality 95, 4:4:4)",
        "label_image": "bytes, 1-bit PNG (mode '1'), true = building (gt value 255); train and val only",
    },
    options=(
        tile_size_option(),
        Option(
            ("--edge-tiles",),
            "drop (default, as datadings) or keep the smaller tiles at the right and bottom edges of val/test images",
            {"choices": ("drop", "keep"), "default": "drop"},
        ),
        Option(
            ("--locations",),
            "training locations for train and val, in this order (default: all five)",
            {
                "nargs": "+",
                "choices": TRAIN_LOCATIONS,
                "default": list(TRAIN_LOCATIONS),
                "metavar": "LOCATION",
            },
        ),
        Option(
            ("--ids",),
            "image numbers of the training locations (default: 1-36); --val-ids of them go to val, the rest to train",
            {"type": positive_int, "nargs": "+", "default": list(IDS), "metavar": "N"},
        ),
        Option(
            ("--val-ids",),
            "image numbers written to val (default: 1-5)",
            {"type": positive_int, "nargs": "+", "default": list(VAL_IDS), "metavar": "N"},
        ),
        Option(
            ("--test-locations",),
            "test locations, in this order (default: all five)",
            {"nargs": "+", "choices": TEST_LOCATIONS, "default": list(TEST_LOCATIONS), "metavar": "LOCATION"},
        ),
        Option(
            ("--test-ids",),
            "image numbers of the test locations (default: 1-36)",
            {"type": positive_int, "nargs": "+", "default": list(IDS), "metavar": "N"},
        ),
    ),
    common_options=("threads",),
    differences=(
        "runs on every supported NumPy (datadings checks the label type with the alias np.bool, which NumPy "
        "1.24-1.26 lack, so it fails there)",
        "label_image holds the ground truth; datadings' 1-bit PNGs are scrambled (it reads the bool mask's "
        "bytes as packed bits: Image.fromarray(mask, '1'))",
        "like datadings, only full tiles are written by default and the tile index counts the dropped edge "
        "tiles too, so keys and counts match; --edge-tiles keep also writes the smaller edge tiles "
        "(then every pixel of a test image is covered)",
        "TIFFs are read with tifffile instead of GDAL; JPEGs are encoded by Pillow (datadings: simplejpeg), "
        "with the same quality 95 and 4:4:4 chroma, so the image bytes differ slightly",
        "-t/--threads encodes images in parallel with identical output; --tile-size, --locations, --ids, "
        "--val-ids, --test-locations and --test-ids are new, their defaults give datadings' output",
    ),
    extra="remote-sensing",
    converter="dings.sets.InriaBuildings_write",
)


class Scene(NamedTuple):
    """One source image to convert (a picklable job for a worker).

    Args:
        name: file name, e.g. ``vienna6.tif`` (the key, or the key prefix of its tiles).
        image: path of the RGB TIFF.
        gt: path of the ground-truth TIFF, or ``None`` (test).
        tile_size: tile height and width, or ``None`` to write the whole image.
        keep_edges: also write the smaller edge tiles.
    """

    name: str
    image: Path
    gt: Path | None
    tile_size: int | None
    keep_edges: bool = False


def _read_rgb(path: Path) -> np.ndarray:
    image = read_tiff(path, "InriaBuildings")
    if image.shape[0] != 3 or image.dtype != np.uint8:
        raise ValueError(f"{path}: expected a 3-band uint8 RGB image, got {image.dtype} with {image.shape[0]} bands")
    return image


def _read_gt(path: Path, size: tuple[int, ...], image: Path) -> np.ndarray:
    gt = read_tiff(path, "InriaBuildings")
    if gt.shape[0] != 1:
        raise ValueError(f"{path}: expected a single-band ground truth, got {gt.shape[0]} bands")
    if gt.shape[1:] != size:
        raise ValueError(f"{path}: size {gt.shape[1:]} differs from the image's {size} ({image.name})")
    return gt[0] == 255


def _jpeg(image: np.ndarray) -> bytes:
    return encode_image(np.ascontiguousarray(image.transpose(1, 2, 0)), "JPEG", quality=95, subsampling="4:4:4")


def _png1(mask: np.ndarray) -> bytes:
    return encode_image(np.ascontiguousarray(mask, dtype=bool), "PNG", optimize=True)


def encode_scene(scene: Scene) -> list[tuple[str, bytes, bytes | None]]:
    """Read one scene and encode it whole or in tiles: ``[(key, jpeg, 1-bit png or None)]`` in grid order.

    Raises:
        FileNotFoundError: a TIFF is missing.
        ValueError: a TIFF is unreadable or has the wrong bands, type or size.
    """
    require_extra("PIL.Image", "remote-sensing", "InriaBuildings")
    image = _read_rgb(scene.image)
    gt = None if scene.gt is None else _read_gt(scene.gt, image.shape[1:], scene.image)
    if scene.tile_size is None:
        return [(scene.name, _jpeg(image), None if gt is None else _png1(gt))]
    arrays = [image] if gt is None else [image, gt]
    return [
        (f"{scene.name}_{idx}", _jpeg(tiles[0]), None if gt is None else _png1(tiles[1]))
        for idx, tiles in grid_tiles(arrays, scene.tile_size, keep_edges=scene.keep_edges)
    ]


def scenes(args: argparse.Namespace, root: Path, split: str) -> list[Scene]:
    """The scenes of ``split`` in the order they are written (locations as given, then image numbers)."""
    keep = args.edge_tiles == "keep"
    if split == "test":
        return [
            Scene(f"{loc}{n}.tif", root / "test" / "images" / f"{loc}{n}.tif", None, args.tile_size, keep)
            for loc in args.test_locations
            for n in args.test_ids
        ]
    val_ids = set(args.val_ids)
    ids = [n for n in args.ids if (n in val_ids) == (split == "val")]
    tile_size = None if split == "train" else args.tile_size
    return [
        Scene(
            f"{loc}{n}.tif",
            root / "train" / "images" / f"{loc}{n}.tif",
            root / "train" / "gt" / f"{loc}{n}.tif",
            tile_size,
            keep,
        )
        for loc in args.locations
        for n in ids
    ]


def samples(encoded: Iterator[list[tuple[str, bytes, bytes | None]]]) -> Iterator[dict[str, Any]]:
    """Turn the workers' results into samples (with ``label_image`` where there is ground truth)."""
    for items in encoded:
        for key, image, label in items:
            yield ImageData(key, image) if label is None else ImageSegmentationData(key, image, label)


class InriaBuildings(Builder):
    """Inria Aerial Image Labeling's converter: each scene is read and encoded (whole or in tiles) on
    the worker threads; ``train`` holds whole scenes, ``val`` and ``test`` tiles."""

    info = INFO
    chunksize = 1

    def items(self, split: str) -> list[Scene]:
        """The scenes of ``split`` in the order they are written."""
        # a whole 5000x5000 scene is 75 MB: keep few of them in flight
        self.max_pending = 2 * resolve_workers(self.options.threads)
        return scenes(self.options, self.files[FOLDER], split)

    def total(self, split: str, items: Any) -> int | None:
        """Known for ``train`` only (one sample per scene)."""
        return len(items) if split == "train" else None

    def transform(self) -> Any:
        """:func:`encode_scene` runs on the worker threads."""
        return encode_scene

    def samples(self, split: str, results: Iterator[Any]) -> Iterator[dict[str, Any]]:
        """The samples of the encoded scenes, in grid order."""
        return samples(results)
