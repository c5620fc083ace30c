"""Cityscapes (fine annotations): label ids, evaluation classes, colours and catalog entry."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..builder import Builder
from ..catalog import DatasetInfo, SourceFile, Split
from ..colors import index_to_color as _index_to_color
from ..samples import ImageDisparitySegmentationData
from ._segmentation import Archive

__all__ = [
    "CLASSES",
    "COLORS",
    "INFO",
    "Cityscapes",
    "ignored_class_indices",
    "index_to_color",
    "keys",
    "used_class_indices",
]

#: label ids ignored in evaluation (-1 = license plate)
ignored_class_indices = [0, 1, 2, 3, 4, 5, 6, 9, 10, 14, 15, 16, 18, 29, 30, -1]

#: label ids of the 19 evaluation classes
used_class_indices = [7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33]

#: name of each label id 0..33 (the ``gtFine_labelIds`` values), from the Cityscapes label definitions
CLASSES = (
    "unlabeled",
    "ego vehicle",
    "rectification border",
    "out of roi",
    "static",
    "dynamic",
    "ground",
    "road",
    "sidewalk",
    "parking",
    "rail track",
    "building",
    "wall",
    "fence",
    "guard rail",
    "bridge",
    "tunnel",
    "pole",
    "polegroup",
    "traffic light",
    "traffic sign",
    "vegetation",
    "terrain",
    "sky",
    "person",
    "rider",
    "car",
    "truck",
    "bus",
    "caravan",
    "trailer",
    "train",
    "motorcycle",
    "bicycle",
)

#: RGB colour of each label id 0..33 (as in the ``gtFine_color`` images)
COLORS = np.array(
    [
        (0, 0, 0),
        (0, 0, 0),
        (0, 0, 0),
        (0, 0, 0),
        (0, 0, 0),
        (111, 74, 0),
        (81, 0, 81),
        (128, 64, 128),
        (244, 35, 232),
        (250, 170, 160),
        (230, 150, 140),
        (70, 70, 70),
        (102, 102, 156),
        (190, 153, 153),
        (180, 165, 180),
        (150, 100, 100),
        (150, 120, 90),
        (153, 153, 153),
        (153, 153, 153),
        (250, 170, 30),
        (220, 220, 0),
        (107, 142, 35),
        (152, 251, 152),
        (70, 130, 180),
        (220, 20, 60),
        (255, 0, 0),
        (0, 0, 142),
        (0, 0, 70),
        (0, 60, 100),
        (0, 0, 90),
        (0, 0, 110),
        (0, 80, 100),
        (0, 0, 230),
        (119, 11, 32),
    ],
    dtype=np.uint8,
)


def index_to_color(array: np.ndarray) -> np.ndarray:
    """Colour a Cityscapes ``labelIds`` map with :data:`COLORS` (other values are drawn black).

    Args:
        array: integer label ids.

    Returns:
        ``array.shape + (3,)`` uint8 RGB.
    """
    return _index_to_color(array, COLORS)


_REGISTER = (
    "register (free, for non-commercial research) at https://www.cityscapes-dataset.com/register/, log in, "
    "and download it from https://www.cityscapes-dataset.com/downloads/"
)

INFO = DatasetInfo(
    name="Cityscapes",
    aliases=("cityscapes", "Cityscapes-fine"),
    domain="segmentation",
    tasks=("semantic-segmentation", "disparity"),
    tags=("driving", "street-scenes", "urban", "stereo", "manual-download"),
    description=(
        "Street scenes from 50 German and neighbouring cities recorded from a car: 2048x1024 left "
        "camera images with fine pixel annotations (label ids 0..33, 19 used for evaluation) and "
        "disparity maps from the stereo pair; 2,975 training, 500 validation and 1,525 test images "
        "(test annotations are placeholders)."
    ),
    homepage="https://www.cityscapes-dataset.com/",
    sources=(
        SourceFile(
            "leftImg8bit_trainvaltest.zip",
            md5="0a6e97e94b616a514066c9e2adb0c97f",
            instructions=f"leftImg8bit_trainvaltest.zip (11 GB, package 3): {_REGISTER}",
        ),
        SourceFile(
            "disparity_trainvaltest.zip",
            md5="2c8272766993c983321f34c73daada5c",
            instructions=f"disparity_trainvaltest.zip (3.5 GB, package 7): {_REGISTER}",
        ),
        SourceFile(
            "gtFine_trainvaltest.zip",
            md5="4237c19de34c8a376e9ba46b495d6f66",
            instructions=f"gtFine_trainvaltest.zip (241 MB, package 1): {_REGISTER}",
        ),
    ),
    splits=(Split("train", 2_975), Split("val", 500), Split("test", 1_525)),
    sample_keys={
        "key": "str, <split>/<city>/<city>_<seq>_<frame> (e.g. train/aachen/aachen_000000_000019)",
        "image": "bytes, the original 8-bit RGB PNG (leftImg8bit)",
        "label_image": "bytes, the original 8-bit PNG of label ids 0..33 (gtFine_labelIds)",
        "disparity_image": "bytes, the original 16-bit PNG disparity map",
    },
    common_options=("shuffle", "threads"),
    differences=(
        "-y/--no-confirm is honoured (the reference asked before overwriting even with -y)",
        "--seed makes the shuffled order reproducible; -t/--threads is accepted but unused, as in the reference",
    ),
    extra="segmentation",
    converter="dings.sets.Cityscapes_write",
)


SPLITS = ("train", "val", "test")

_PREFIX, _SUFFIX = "leftImg8bit/", "_leftImg8bit.png"


def keys(images: Archive, split: str) -> list[str]:
    """Sample keys of ``split`` (``<split>/<city>/<frame>``) in archive order."""
    found = []
    for name in images.names():
        if name.startswith(_PREFIX) and name.endswith(_SUFFIX):
            key = name[len(_PREFIX) : -len(_SUFFIX)]
            if key.startswith(split + "/"):
                found.append(key)
    return found


class Cityscapes(Builder):
    """Cityscapes' converter (fine annotations): images, ``labelIds`` maps and disparity maps of the
    three manually downloaded zips, stored unchanged."""

    info = INFO

    def open(self) -> None:
        """Open the zips and find every split's keys (an empty split is an error before anything is written)."""
        self.images = self.stack.enter_context(Archive(self.files["leftImg8bit_trainvaltest.zip"]))
        self.labels = self.stack.enter_context(Archive(self.files["gtFine_trainvaltest.zip"]))
        self.disparities = self.stack.enter_context(Archive(self.files["disparity_trainvaltest.zip"]))
        self.found = {split: keys(self.images, split) for split in SPLITS}
        for split, split_keys in self.found.items():
            if not split_keys:
                raise ValueError(
                    f"{self.images.path}: no {_PREFIX}{split}/...{_SUFFIX} images; is this leftImg8bit_trainvaltest.zip?"
                )

    def items(self, split: str) -> list[str]:
        """The keys of ``split`` (``<split>/<city>/<frame>``) in archive order."""
        return self.found[split]

    def read(self, key: str) -> dict[str, Any]:
        """The sample of one frame."""
        return ImageDisparitySegmentationData(
            key,
            self.images.read(f"{_PREFIX}{key}{_SUFFIX}"),
            self.labels.read(f"gtFine/{key}_gtFine_labelIds.png"),
            self.disparities.read(f"disparity/{key}_disparity.png"),
        )
