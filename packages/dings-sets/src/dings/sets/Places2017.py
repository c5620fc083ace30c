"""Places Challenge 2017 scene parsing (the 150-class ADE20K SceneParsing subset): metadata and catalog entry.

``CLASSES`` is written out here; ``INDEXES``/``COUNTS``/``WEIGHTS`` and ``COLORS`` are loaded from the
shipped ``meta`` files on first use, and ``SCENELABELS`` is ADE20k's list of 872 scene names.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ._segmentation import index_to_color as _index_to_color
from ._segmentation import load_meta, median_frequency_weights
from .catalog import DatasetInfo, Option, SourceFile, Split

__all__ = [
    "CLASSES",
    "COLORS",
    "COUNTS",
    "INDEXES",
    "INFO",
    "SCENELABELS",
    "WEIGHTS",
    "index_to_color",
    "load_colors",
    "load_scene_map",
    "load_statistics",
    "median_frequency_weights",
]

#: class names; position = class index in ``label_image`` (0 = other/unlabelled)
CLASSES = (
    "background", "wall", "building", "sky", "floor", "tree", "ceiling", "road", "bed", "windowpane", "grass",
    "cabinet", "sidewalk", "person", "earth", "door", "table", "mountain", "plant", "curtain", "chair", "car",
    "water", "painting", "sofa", "shelf", "house", "sea", "mirror", "rug", "field", "armchair", "seat", "fence",
    "desk", "rock", "wardrobe", "lamp", "bathtub", "railing", "cushion", "base", "box", "column", "signboard",
    "chest of drawers", "counter", "sand", "sink", "skyscraper", "fireplace", "refrigerator", "grandstand",
    "path", "stairs", "runway", "case", "pool table", "pillow", "screen door", "stairway", "river", "bridge",
    "bookcase", "blind", "coffee table", "toilet", "flower", "book", "hill", "bench", "countertop", "stove",
    "palm", "kitchen island", "computer", "swivel chair", "boat", "bar", "arcade machine", "hovel", "bus",
    "towel", "light", "truck", "tower", "chandelier", "awning", "streetlight", "booth", "television",
    "airplane", "dirt track", "apparel", "pole", "land", "bannister", "escalator", "ottoman", "bottle",
    "buffet", "poster", "stage", "van", "ship", "fountain", "conveyer belt", "canopy", "washer", "plaything",
    "swimming pool", "stool", "barrel", "basket", "waterfall", "tent", "bag", "minibike", "cradle", "oven",
    "ball", "food", "step", "tank", "trade name", "microwave", "pot", "animal", "bicycle", "lake",
    "dishwasher", "screen", "blanket", "sculpture", "hood", "sconce", "vase", "traffic light", "tray",
    "ashcan", "fan", "pier", "crt screen", "plate", "monitor", "bulletin board", "shower", "radiator",
    "glass", "clock", "flag",
)

_LAZY = ("COLORS", "COUNTS", "INDEXES", "SCENELABELS", "WEIGHTS")


def load_statistics(name: str | os.PathLike = "Places2017_counts.json.gz") -> dict[str, list[Any]]:
    """Class statistics from a shipped meta file (by name) or a file written by ``--class-counts``.

    Returns:
        ``{"INDEXES", "COUNTS", "WEIGHTS"}`` (weights: median frequency).
    """
    from .ADE20k import load_statistics as load

    return load(name)


def load_colors(name: str | os.PathLike = "Places2017_colors.json.gz") -> np.ndarray:
    """A colour table (JSON list of ``[r, g, b]``): a shipped meta file or a file written by ``--color-map``.

    Returns:
        ``N x 3`` uint8.

    Raises:
        ValueError: not a list of RGB triples.
    """
    from dings.tools import load_json

    path = Path(name)
    colors = np.asarray(load_json(path) if path.is_file() else load_meta(str(name)))
    if colors.ndim != 2 or colors.shape[1] != 3 or colors.size == 0 or colors.min() < 0 or colors.max() > 255:
        raise ValueError(f"{name}: expected a JSON list of [r, g, b] colours (0..255)")
    return colors.astype(np.uint8)


def load_scene_map() -> dict[str, int]:
    """Image file name → ADE20k scene label (position in :data:`SCENELABELS`), from the shipped map."""
    return dict(_load("SCENEMAP"))


@lru_cache(maxsize=None)
def _load(name: str) -> Any:
    if name == "SCENELABELS":
        from .ADE20k import SCENELABELS

        return SCENELABELS
    if name == "COLORS":
        return load_colors()
    if name == "SCENEMAP":
        return tuple(load_meta("Places2017_scenelabels.json.xz").items())
    return tuple(load_statistics()[name])


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return _load(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def index_to_color(array: np.ndarray) -> np.ndarray:
    """Colour a Places2017 class map with :data:`COLORS` (indices outside 0..150 are drawn black).

    Args:
        array: integer class indices.

    Returns:
        ``array.shape + (3,)`` uint8 RGB.
    """
    return _index_to_color(array, _load("COLORS"))


_BASE = "http://placeschallenge.csail.mit.edu/data/ChallengeData2017/"
_RAW = "https://raw.githubusercontent.com/CSAILVision/placeschallenge/69bbf9dc82621bd4b4f981ac47659ba8d74e8a27/sceneparsing/"

INFO = DatasetInfo(
    name="Places2017",
    aliases=("places2017", "SceneParsing", "ADE20K-SceneParsing", "ADEChallenge2017"),
    domain="segmentation",
    tasks=("semantic-segmentation", "instance-segmentation", "boundary-detection", "scene-classification"),
    tags=("scenes", "places-challenge", "150-classes", "ade20k"),
    description=(
        "The Places Challenge 2017 scene parsing data: the ADE20K images (20,210 training, 2,000 "
        "validation) annotated with 150 object classes, instance masks, per-class boundaries and the "
        "ADE20k scene category of each image. --scenelabels also reads ADE20K_2016_07_26.zip (see ADE20k)."
    ),
    homepage="http://placeschallenge.csail.mit.edu/",
    sources=(
        SourceFile("images.tar", url=_BASE + "images.tar", md5="5c55d03495a7541407cb940a3be07d32"),
        SourceFile("sceneparsing.tar", url=_BASE + "sceneparsing.tar", md5="6556305fe8a1ac817d5d426ff4cb35f3"),
        SourceFile("annotations_instance.tar", url=_BASE + "annotations_instance.tar", md5="4d6628c4d17f68dc36efb6a79fce30a9"),
        SourceFile("boundaries.tar", url=_BASE + "boundaries.tar", md5="7cd81ad176aad64eff1dbca02ab0550a"),
        SourceFile("objectInfo150.txt", url=_RAW + "objectInfo150.txt", md5="4fb6ef9f025e48ad9cdf451e2b96c510"),
        SourceFile("color150.mat", url=_RAW + "visualizationCode/color150.mat", md5="851aba69b499726c2b8ff5da1e147d02"),
    ),
    splits=(Split("training", 20_210), Split("validation", 2_000)),
    sample_keys={
        "key": "str, image file name (e.g. ADE_train_00000001.jpg)",
        "image": "bytes, the original JPEG",
        "label": "int, ADE20k scene label: position in SCENELABELS",
        "label_image": "bytes, the original 8-bit PNG of class indices 0..150 (CLASSES)",
        "instance_image": "bytes, the original RGB PNG (R = instance category, G = instance id)",
        "boundary": "list of 150 lists (one per class 1..150) of int32 (n, 2) arrays of (x, y) contour points",
    },
    options=(
        Option(("--class-counts",), "Write Places2017_counts.json (INDEXES, COUNTS of the training class maps) instead of converting.",
               {"action": "store_true"}),
        Option(("--color-map",), "Write Places2017_colors.json (background black, then color150.mat in RGB order) instead of converting.",
               {"action": "store_true"}),
        Option(("--classes",), "Print the class names from objectInfo150.txt (background, then the first synonym of each) instead of converting.",
               {"action": "store_true"}),
        Option(("--scenelabels",), "Write Places2017_scenelabels.json (image name -> ADE20k scene label) from ADE20K_2016_07_26.zip instead of converting.",
               {"action": "store_true"}),
    ),
    common_options=("shuffle", "threads"),
    differences=(
        "the class map is stored under label_image and the scene label under label (the reference swapped them)",
        "boundaries use OpenCV 4+ (findContours returns two values; masks are uint8), which the reference could not run with",
        "--color-map writes color150.mat in RGB order (the reference copied blue over red); COLORS still loads the shipped "
        "Places2017_colors.json.gz unchanged, whose red channel equals blue: load_colors(path) reads a corrected file",
        "CLASSES and --classes strip whitespace and name class 70 'bench' (the reference has 'bed ' and 'bench_msgpack')",
        "only the source files an action reads are downloaded and verified (the reference fetched all six every time)",
        "-t/--threads computes boundaries in parallel (identical output); --seed makes the shuffled order reproducible",
        "--class-counts lists only classes that occur; images outside training/validation (e.g. testing) are ignored",
    ),
    extra="segmentation",
    converter="dings.sets.Places2017_write",
)
