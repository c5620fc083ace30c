"""Places Challenge 2017 scene parsing (the 150-class ADE20K SceneParsing subset): metadata and catalog entry.

``CLASSES`` is written out here; ``INDEXES``/``COUNTS``/``WEIGHTS`` and ``COLORS`` are loaded from the
shipped ``meta`` files on first use, and ``SCENELABELS`` is ADE20k's list of 872 scene names.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import posixpath
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from dings.tools import loadmat, prepare_indir

from ..builder import Builder
from ..catalog import DatasetInfo, Option, SourceFile, Split
from ..colors import index_to_color as _index_to_color
from ..converter import Outputs
from ..extras import require_extra
from ..samples import Places2017Data
from ..shipped import load_meta
from . import ade20k as ADE20k
from ._segmentation import (
    Archive,
    Named,
    label_map_fractions,
    median_frequency_weights,
    sum_fractions,
    write_json,
)

__all__ = [
    "CLASSES",
    "COLORS",
    "COUNTS",
    "INDEXES",
    "INFO",
    "SCENELABELS",
    "WEIGHTS",
    "Places2017",
    "boundary_contours",
    "index_to_color",
    "load_colors",
    "load_scene_map",
    "load_statistics",
    "median_frequency_weights",
    "read_classes",
    "read_colors",
]

#: class names; position = class index in ``label_image`` (0 = other/unlabelled)
CLASSES = (
    "background",
    "wall",
    "building",
    "sky",
    "floor",
    "tree",
    "ceiling",
    "road",
    "bed",
    "windowpane",
    "grass",
    "cabinet",
    "sidewalk",
    "person",
    "earth",
    "door",
    "table",
    "mountain",
    "plant",
    "curtain",
    "chair",
    "car",
    "water",
    "painting",
    "sofa",
    "shelf",
    "house",
    "sea",
    "mirror",
    "rug",
    "field",
    "armchair",
    "seat",
    "fence",
    "desk",
    "rock",
    "wardrobe",
    "lamp",
    "bathtub",
    "railing",
    "cushion",
    "base",
    "box",
    "column",
    "signboard",
    "chest of drawers",
    "counter",
    "sand",
    "sink",
    "skyscraper",
    "fireplace",
    "refrigerator",
    "grandstand",
    "path",
    "stairs",
    "runway",
    "case",
    "pool table",
    "pillow",
    "screen door",
    "stairway",
    "river",
    "bridge",
    "bookcase",
    "blind",
    "coffee table",
    "toilet",
    "flower",
    "book",
    "hill",
    "bench",
    "countertop",
    "stove",
    "palm",
    "kitchen island",
    "computer",
    "swivel chair",
    "boat",
    "bar",
    "arcade machine",
    "hovel",
    "bus",
    "towel",
    "light",
    "truck",
    "tower",
    "chandelier",
    "awning",
    "streetlight",
    "booth",
    "television",
    "airplane",
    "dirt track",
    "apparel",
    "pole",
    "land",
    "bannister",
    "escalator",
    "ottoman",
    "bottle",
    "buffet",
    "poster",
    "stage",
    "van",
    "ship",
    "fountain",
    "conveyer belt",
    "canopy",
    "washer",
    "plaything",
    "swimming pool",
    "stool",
    "barrel",
    "basket",
    "waterfall",
    "tent",
    "bag",
    "minibike",
    "cradle",
    "oven",
    "ball",
    "food",
    "step",
    "tank",
    "trade name",
    "microwave",
    "pot",
    "animal",
    "bicycle",
    "lake",
    "dishwasher",
    "screen",
    "blanket",
    "sculpture",
    "hood",
    "sconce",
    "vase",
    "traffic light",
    "tray",
    "ashcan",
    "fan",
    "pier",
    "crt screen",
    "plate",
    "monitor",
    "bulletin board",
    "shower",
    "radiator",
    "glass",
    "clock",
    "flag",
)

_LAZY = ("COLORS", "COUNTS", "INDEXES", "SCENELABELS", "WEIGHTS")


def load_statistics(name: str | os.PathLike = "Places2017_counts.json.gz") -> dict[str, list[Any]]:
    """Class statistics from a shipped meta file (by name) or a file written by ``--class-counts``.

    Returns:
        ``{"INDEXES", "COUNTS", "WEIGHTS"}`` (weights: median frequency).
    """
    from .ade20k import load_statistics as load

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
        from .ade20k import SCENELABELS

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
        SourceFile(
            "annotations_instance.tar",
            url=_BASE + "annotations_instance.tar",
            md5="4d6628c4d17f68dc36efb6a79fce30a9",
        ),
        SourceFile("boundaries.tar", url=_BASE + "boundaries.tar", md5="7cd81ad176aad64eff1dbca02ab0550a"),
        SourceFile("objectInfo150.txt", url=_RAW + "objectInfo150.txt", md5="4fb6ef9f025e48ad9cdf451e2b96c510"),
        SourceFile(
            "color150.mat",
            url=_RAW + "visualizationCode/color150.mat",
            md5="851aba69b499726c2b8ff5da1e147d02",
        ),
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
        Option(
            ("--class-counts",),
            "Write Places2017_counts.json (INDEXES, COUNTS of the training class maps) instead of converting.",
            {"action": "store_true"},
        ),
        Option(
            ("--color-map",),
            "Write Places2017_colors.json (background black, then color150.mat in RGB order) instead of converting.",
            {"action": "store_true"},
        ),
        Option(
            ("--classes",),
            "Print the class names from objectInfo150.txt (background, then the first synonym of each) instead of converting.",
            {"action": "store_true"},
        ),
        Option(
            ("--scenelabels",),
            "Write Places2017_scenelabels.json (image name -> ADE20k scene label) from ADE20K_2016_07_26.zip instead of converting.",
            {"action": "store_true"},
        ),
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


SPLITS = ("training", "validation")

NUM_CLASSES = 150


def boundary_contours(mat: bytes) -> list[list[np.ndarray]]:
    """Contours of each of the 150 class boundary masks of an ``annotations_boundary`` ``.mat`` file.

    Args:
        mat: bytes of a ``.mat`` file with ``gt.bdry``, a 150x1 cell of sparse H x W masks.

    Returns:
        150 lists of int32 ``(n, 2)`` arrays of (x, y) points (OpenCV ``findContours``, list
        retrieval, TC89-L1 approximation).

    Raises:
        ValueError: not a readable ``.mat`` file, or not this layout.
    """
    cv2 = require_extra("cv2", "segmentation", "Places2017")
    gt = loadmat(io.BytesIO(mat), variable_names=["gt"]).get("gt")
    masks = gt.get("bdry") if isinstance(gt, dict) else None
    if not isinstance(masks, list) or len(masks) != NUM_CLASSES:
        raise ValueError(f"expected a struct 'gt' with a {NUM_CLASSES}x1 cell 'bdry' of boundary masks")
    result = []
    for number, mask in enumerate(masks, 1):
        dense = mask.toarray() if hasattr(mask, "toarray") else np.asarray(mask)
        if dense.ndim != 2:
            raise ValueError(f"gt.bdry{{{number}}} is not a 2-D mask (shape {dense.shape})")
        found = cv2.findContours(
            np.ascontiguousarray(dense != 0, dtype=np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_TC89_L1
        )
        contours = found[-2]  # OpenCV 3 returned (image, contours, hierarchy), 4+ (contours, hierarchy)
        result.append([np.ascontiguousarray(c.reshape(-1, 2), dtype=np.int32) for c in contours])
    return result


def read_classes(text: str) -> list[str]:
    """Class names of ``objectInfo150.txt``: ``background``, then the first synonym of each ``Name``.

    Raises:
        ValueError: the header has no ``Name`` column.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    header = [h.strip() for h in lines[0].split("\t")] if lines else []
    if "Name" not in header:
        raise ValueError("objectInfo150.txt: expected a tab-separated table with a Name column")
    column = header.index("Name")
    names = ["background"]
    for number, line in enumerate(lines[1:], 2):
        cells = line.split("\t")
        if len(cells) <= column:
            raise ValueError(f"objectInfo150.txt line {number}: no Name column")
        names.append(cells[column].split(",")[0].split(";")[0].strip())
    return names


def read_colors(path: Path) -> list[list[int]]:
    """``[[0, 0, 0]]`` followed by the rows of ``colors`` in ``color150.mat`` (RGB order)."""
    colors = loadmat(path, variable_names=["colors"]).get("colors")
    if not isinstance(colors, np.ndarray) or colors.ndim != 2 or colors.shape[1] != 3:
        raise ValueError(f"{path}: expected a variable 'colors' of shape N x 3")
    return [[0, 0, 0]] + [[int(v) for v in row] for row in colors]


def _images(archive: Archive) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {split: [] for split in SPLITS}
    for name in archive.names():
        parts = name.split("/")
        if len(parts) == 3 and parts[1] in groups:
            groups[parts[1]].append(name)
    return groups


def _scenelabels(args: argparse.Namespace, outputs: Outputs) -> None:
    from .ade20k import read_index, scene_labels

    source = ADE20k.INFO.source("ADE20K_2016_07_26.zip")
    spec = {source.name: {"path": source.name, "url": source.url, "md5": source.md5}}
    located = prepare_indir(spec, Path(args.indir), skip_verification=args.skip_verification, progress=not args.quiet)
    with Archive(located[source.name]["path"]) as archive:
        filenames, scenes = read_index(archive)
    position = {scene: i for i, scene in enumerate(scene_labels(scenes))}
    path = write_json(
        outputs.outdir / "Places2017_scenelabels.json", {f: position[s] for f, s in zip(filenames, scenes)}
    )
    print(f"wrote {path}")


def _make_sample(job: tuple[str, bytes, int, bytes, bytes, bytes]) -> dict[str, Any]:
    key, image, scene, label, instances, boundary = job
    return Places2017Data(key, image, scene, label, instances, boundary_contours(boundary))


class Places2017(Builder):
    """Places2017's converter (scene parsing): every image with its scene, class map, instance map
    and boundary contours (parsed on the worker threads); or only the metadata an option asks for
    (``--scenelabels``, ``--classes``, ``--color-map``, ``--class-counts``)."""

    info = INFO
    chunksize = 2

    @classmethod
    def source_names(cls, options: argparse.Namespace) -> list[str]:
        """The source files the chosen action reads."""
        if options.class_counts:
            return ["sceneparsing.tar"]
        if options.color_map:
            return ["color150.mat"]
        if options.classes:
            return ["objectInfo150.txt"]
        if options.scenelabels:
            return []  # ADE20K_2016_07_26.zip, prepared in write() with ADE20k's source facts
        return ["images.tar", "sceneparsing.tar", "annotations_instance.tar", "boundaries.tar"]

    def write(self, outputs: Outputs) -> None:
        """Write the metadata an option asks for, or else every wanted split."""
        options, files = self.options, self.files
        if options.scenelabels:
            _scenelabels(options, outputs)
            return
        if options.classes:
            print(json.dumps(read_classes(files["objectInfo150.txt"].read_text(encoding="utf-8"))))
            return
        if options.color_map:
            path = write_json(outputs.outdir / "Places2017_colors.json", read_colors(files["color150.mat"]))
            print(f"wrote {path}")
            return
        if options.class_counts:
            with Archive(files["sceneparsing.tar"]) as maps:
                names = [
                    n for n in maps.names() if n.startswith("annotations_sceneparsing/training/") and n.endswith(".png")
                ]
                per_image = self.map(
                    Named(label_map_fractions), ((f"{maps.path}:{n}", maps.read(n)) for n in names), chunksize=8
                )
                indexes, counts = sum_fractions(per_image)
            path = write_json(outputs.outdir / "Places2017_counts.json", {"INDEXES": indexes, "COUNTS": counts})
            print(f"wrote {path}")
            return
        self.scene_of = load_scene_map()
        self.images = self.stack.enter_context(Archive(files["images.tar"]))
        self.maps = self.stack.enter_context(Archive(files["sceneparsing.tar"]))
        self.instances = self.stack.enter_context(Archive(files["annotations_instance.tar"]))
        self.boundaries = self.stack.enter_context(Archive(files["boundaries.tar"]))
        self.members = _images(self.images)
        super().write(outputs)

    def items(self, split: str) -> list[str]:
        """The image members of ``split`` in archive order.

        Raises:
            ValueError: an image has no scene label (checked before anything is written).
        """
        members = self.members[split]
        for member in members:
            if posixpath.basename(member) not in self.scene_of:
                raise ValueError(f"{self.images.path}: {member} has no scene label in Places2017_scenelabels.json.xz")
        return members

    def read(self, member: str) -> tuple[str, tuple[str, bytes, int, bytes, bytes, bytes]]:
        """The members of one image, named by its boundary file for error messages."""
        split = member.split("/")[1]
        key = posixpath.basename(member)
        stem = posixpath.splitext(key)[0]
        boundary = f"annotations_boundary/{split}/{stem}.mat"
        job = (
            key,
            self.images.read(member),
            self.scene_of[key],
            self.maps.read(f"annotations_sceneparsing/{split}/{stem}.png"),
            self.instances.read(f"annotations_instance/{split}/{stem}.png"),
            self.boundaries.read(boundary),
        )
        return f"{self.boundaries.path}:{boundary}", job

    def transform(self) -> Any:
        """Boundary contours are parsed on the worker threads."""
        return Named(_make_sample)
