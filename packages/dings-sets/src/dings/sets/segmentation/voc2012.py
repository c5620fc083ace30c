"""PASCAL VOC 2012 semantic segmentation: class names, colours, counts, weights and catalog entry."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from dings.tools import decode_image, encode_label_map

from ..builder import Builder
from ..catalog import DatasetInfo, Option, SourceFile, Split
from ..colors import colors_to_indices
from ..colors import index_to_color as _index_to_color
from ..converter import Outputs
from ..extras import require_extra
from ..samples import ImageSegmentationData
from ._segmentation import (
    Archive,
    Named,
    class_fractions,
    median_frequency_weights,
    statistics,
    sum_fractions,
)

__all__ = [
    "CLASSES",
    "COLORS",
    "COUNTS",
    "INDEXES",
    "INFO",
    "VOC2012",
    "WEIGHTS",
    "bitget",
    "class_color_map",
    "convert_label",
    "index_to_color",
    "median_frequency_weights",
    "read_ids",
]

#: class names; position = class index in ``label_image``
CLASSES = (
    "background",
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
)

#: class indices 0..20
INDEXES = tuple(range(len(CLASSES)))

#: summed per-image pixel fractions of each class over the 1,464 training label maps
COUNTS = (
    1096.41576898,
    10.3095622192,
    4.12905110457,
    12.0429902908,
    8.58478973106,
    8.43477098778,
    24.74073322,
    19.9420767928,
    37.4964065785,
    16.051006968,
    11.7559521937,
    18.2245417825,
    23.5776165031,
    12.9779183112,
    15.8809800135,
    66.9628144956,
    9.05575018634,
    12.3852355498,
    20.2024935412,
    22.2167849844,
    12.6127555631,
)

#: median-frequency class weights computed from :data:`COUNTS`
WEIGHTS = tuple(median_frequency_weights(COUNTS))


def bitget(value: int | np.ndarray, bit: int) -> int | np.ndarray:
    """Bit number ``bit`` (0 = least significant) of ``value``."""
    return (value >> bit) & 1


def class_color_map(n: int = 256) -> np.ndarray:
    """The standard VOC colour map: ``n x 3`` uint8 RGB.

    The bits of each index are spread over R, G and B: bits 0, 1, 2 of the index become the most
    significant bits of R, G, B, bits 3, 4, 5 the next ones, and so on.

    Args:
        n: number of colours (1..256).

    Raises:
        ValueError: ``n`` outside 1..256.
    """
    if not 1 <= n <= 256:
        raise ValueError(f"class_color_map: n must be 1..256, got {n}")
    index = np.arange(n)
    colors = np.zeros((n, 3), dtype=np.uint8)
    for level in range(8):  # three bits of the index per level, from the top bit of each channel down
        for channel in range(3):
            colors[:, channel] |= np.asarray(bitget(index >> (3 * level), channel) << (7 - level)).astype(np.uint8)
    return colors


#: RGB colour of each class (the first 21 rows of :func:`class_color_map`)
COLORS = class_color_map(len(CLASSES))

_PALETTE = class_color_map(256)


def index_to_color(array: np.ndarray) -> np.ndarray:
    """Colour a VOC label map with the VOC colour map (255 = void is drawn (224, 224, 192)).

    Args:
        array: integer class indices.

    Returns:
        ``array.shape + (3,)`` uint8 RGB.
    """
    return _index_to_color(array, _PALETTE)


INFO = DatasetInfo(
    name="VOC2012",
    aliases=("PASCAL-VOC-2012", "VOC", "voc2012"),
    domain="segmentation",
    tasks=("semantic-segmentation",),
    tags=("pascal", "21-classes", "benchmark", "objects"),
    description=(
        "PASCAL Visual Object Classes 2012, segmentation subset: photographs from Flickr with per-pixel "
        "annotations of 20 object classes plus background (aeroplane … tvmonitor); 1,464 training and "
        "1,449 validation images. Label images hold class indices 0..20; the void/boundary pixels of the "
        "original annotations become background (0)."
    ),
    homepage="http://host.robots.ox.ac.uk/pascal/VOC/voc2012/",
    sources=(
        SourceFile(
            "VOCtrainval_11-May-2012.tar",
            url="http://host.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar",
            md5="6cd6e144f989b92b3379bac3b3de84fd",
            size=1_999_639_040,
        ),
    ),
    splits=(Split("train", 1_464), Split("val", 1_449)),
    sample_keys={
        "key": "str, image id (e.g. 2007_000032)",
        "image": "bytes, the original JPEG",
        "label_image": "bytes, 8-bit grayscale PNG of class indices 0..20 (CLASSES)",
    },
    options=(
        Option(
            ("--calculate-weights",),
            "Print INDEXES, COUNTS and WEIGHTS of each split's label maps instead of converting.",
            {"action": "store_true"},
        ),
    ),
    common_options=("shuffle", "threads"),
    differences=(
        "-t/--threads converts the label images in parallel (identical output for any count); --seed makes the shuffled order reproducible",
        "--calculate-weights also prints the median-frequency WEIGHTS; counts are taken from the converted label maps",
        "label PNGs are written with Pillow's compress_level 9 rather than optimize=True (same pixels, possibly other bytes)",
    ),
    extra="segmentation",
    converter="dings.sets.VOC2012_write",
)


ROOT = "VOCdevkit/VOC2012"

SPLITS = ("train", "val")


def convert_label(png: bytes) -> bytes:
    """Turn a VOC colour-palette annotation into an 8-bit PNG of class indices (unknown colours → 0)."""
    require_extra("PIL.Image", "segmentation", "VOC2012")
    indices = colors_to_indices(np.asarray(decode_image(png, mode="RGB", as_array=True)), COLORS, default=0)
    return encode_label_map(indices, compress_level=9)


def _label_fractions(png: bytes) -> tuple[list[int], list[float]]:
    require_extra("PIL.Image", "segmentation", "VOC2012")
    return class_fractions(
        colors_to_indices(np.asarray(decode_image(png, mode="RGB", as_array=True)), COLORS, default=0)
    )


def read_ids(archive: Archive, split: str) -> list[str]:
    """Image ids of ``split`` from ``ImageSets/Segmentation/<split>.txt`` (one per line)."""
    text = archive.read(f"{ROOT}/ImageSets/Segmentation/{split}.txt").decode("utf-8")
    return [line.strip() for line in text.split("\n") if line.strip()]


def _members(archive: Archive, ids: Sequence[str], kind: str, suffix: str) -> Iterator[tuple[str, bytes]]:
    for image_id in ids:
        name = f"{ROOT}/{kind}/{image_id}{suffix}"
        yield f"{archive.path}:{name}", archive.read(name)


def _make_sample(job: tuple[str, bytes, bytes]) -> dict[str, Any]:
    image_id, image, label = job
    return ImageSegmentationData(image_id, image, convert_label(label))


class VOC2012(Builder):
    """VOC2012's converter (segmentation): each image with its class map, converted from the colour
    palette on the worker threads; or, with ``--calculate-weights``, the class statistics printed."""

    info = INFO
    chunksize = 8

    def open(self) -> None:
        """Open the archive."""
        self.archive = self.stack.enter_context(Archive(self.files["VOCtrainval_11-May-2012.tar"]))

    def write(self, outputs: Outputs) -> None:
        """Print the statistics ``--calculate-weights`` asks for, or else write every wanted split."""
        if not self.options.calculate_weights:
            super().write(outputs)
            return
        for split in self.splits():
            labels = _members(self.archive, read_ids(self.archive, split), "SegmentationClass", ".png")
            fractions = self.map(Named(_label_fractions), labels, chunksize=8)
            print(split, json.dumps(statistics(*sum_fractions(fractions))))

    def items(self, split: str) -> list[str]:
        """The image ids of ``split``."""
        return read_ids(self.archive, split)

    def read(self, image_id: str) -> tuple[str, tuple[str, bytes, bytes]]:
        """The image and colour label of one id, named by the label member for error messages."""
        image = self.archive.read(f"{ROOT}/JPEGImages/{image_id}.jpg")
        label = f"{ROOT}/SegmentationClass/{image_id}.png"
        return f"{self.archive.path}:{label}", (image_id, image, self.archive.read(label))

    def transform(self) -> Any:
        """Label conversion runs on the worker threads."""
        return Named(_make_sample)
