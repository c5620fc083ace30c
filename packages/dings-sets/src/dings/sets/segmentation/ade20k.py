"""ADE20K (full release 2016-07-26): scene labels, class statistics, colours and catalog entry.

The large tables are loaded from the shipped ``meta`` files on first use: ``SCENELABELS`` (872
scene names, position = scene ``label``), ``INDEXES``/``COUNTS`` (class ids occurring in the
training label maps and their summed pixel fractions) and ``WEIGHTS`` (median frequency).
"""

from __future__ import annotations

import io
import os
import posixpath
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from dings.tools import decode_image, encode_label_map, loadmat

from ..builder import Builder
from ..catalog import DatasetInfo, Option, SourceFile, Split
from ..converter import Outputs
from ..extras import require_extra
from ..samples import ADE20kData
from ..shipped import load_meta
from ._segmentation import (
    Archive,
    Named,
    class_fractions,
    median_frequency_weights,
    sum_fractions,
    write_json,
)

__all__ = [
    "COUNTS",
    "INDEXES",
    "INFO",
    "SCENELABELS",
    "WEIGHTS",
    "ADE20k",
    "convert_label",
    "decode_classes",
    "ids_to_color",
    "index_to_color",
    "load_statistics",
    "median_frequency_weights",
    "read_index",
    "scene_labels",
]

_LAZY = ("COUNTS", "INDEXES", "SCENELABELS", "WEIGHTS")


def load_statistics(name: str | os.PathLike = "ADE20k_counts.json.xz") -> dict[str, list[Any]]:
    """Load class statistics: a shipped metadata file by name, or a file written by ``--calculate-weights``.

    Args:
        name: a file in ``dings/sets/meta`` (default: the shipped ADE20k counts) or a path.

    Returns:
        ``{"INDEXES": [...], "COUNTS": [...], "WEIGHTS": [...]}`` (weights: median frequency).

    Raises:
        ValueError: the file does not hold matching ``INDEXES`` and ``COUNTS`` lists.
    """
    from dings.tools import load_json

    path = Path(name)
    content = load_json(path) if path.is_file() else load_meta(str(name))
    if (
        not isinstance(content, dict)
        or not isinstance(content.get("INDEXES"), list)
        or not isinstance(content.get("COUNTS"), list)
        or len(content["INDEXES"]) != len(content["COUNTS"])
    ):
        raise ValueError(f"{name}: expected a JSON object with INDEXES and COUNTS lists of equal length")
    indexes = [int(i) for i in content["INDEXES"]]
    counts = [float(c) for c in content["COUNTS"]]
    return {"INDEXES": indexes, "COUNTS": counts, "WEIGHTS": median_frequency_weights(counts)}


@lru_cache(maxsize=None)
def _load(name: str) -> Any:
    if name == "SCENELABELS":
        return tuple(load_meta("ADE20k_scenelabels.json.gz"))
    statistics = load_statistics()
    return tuple(statistics[name])


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return _load(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def ids_to_color(ids: np.ndarray) -> np.ndarray:
    """Colour original ADE20k class ids the way the ``_seg.png`` files encode them.

    R = (id // 256) * 10, G = id % 256, B = 0.

    Args:
        ids: integer class ids (e.g. a decoded ``label_image``).

    Returns:
        ``ids.shape + (3,)`` uint8 RGB.
    """
    ids = np.asarray(ids).astype(np.int64)
    rgb = np.zeros(ids.shape + (3,), dtype=np.uint8)
    rgb[..., 0] = np.clip((ids // 256) * 10, 0, 255)
    rgb[..., 1] = ids % 256
    return rgb


def index_to_color(array: np.ndarray) -> np.ndarray:
    """Colour *compact* class indices (positions in :data:`INDEXES`) as in :func:`ids_to_color`.

    Args:
        array: integer positions into ``INDEXES``; positions outside it are drawn black.

    Returns:
        ``array.shape + (3,)`` uint8 RGB.
    """
    array = np.asarray(array)
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"index_to_color: need integer class indices, got dtype {array.dtype}")
    table = np.asarray(_load("INDEXES") + (0,), dtype=np.int64)
    outside = len(table) - 1
    return ids_to_color(table[np.where((array >= 0) & (array < outside), array, outside)])


INFO = DatasetInfo(
    name="ADE20k",
    aliases=("ADE20K", "ade20k", "ADE20K-full"),
    domain="segmentation",
    tasks=("semantic-segmentation", "part-segmentation", "scene-classification"),
    tags=("scenes", "objects", "parts", "3000-classes"),
    description=(
        "The full ADE20K release (2016-07-26): 20,210 training and 2,000 validation images of everyday "
        "scenes annotated with over 3,000 object classes, object parts at several levels and one of 872 "
        "scene categories. Label images hold the original ADE class ids (up to 3145) as 16-bit PNGs."
    ),
    homepage="https://groups.csail.mit.edu/vision/datasets/ADE20K/",
    sources=(
        SourceFile(
            "ADE20K_2016_07_26.zip",
            url="http://groups.csail.mit.edu/vision/datasets/ADE20K/ADE20K_2016_07_26.zip",
            md5="5d125f9457b1a3990adb96de45d03f60",
        ),
    ),
    splits=(Split("training", 20_210), Split("validation", 2_000)),
    sample_keys={
        "key": "str, image file name (e.g. ADE_train_00000001.jpg)",
        "image": "bytes, the original JPEG",
        "label": "int, scene label: position in SCENELABELS",
        "label_image": "bytes, 16-bit grayscale PNG of ADE class ids, id = R / 10 * 256 + G of _seg.png",
        "parts_images": "list of bytes, one 16-bit PNG of part class ids per part level (may be empty)",
    },
    options=(
        Option(
            ("--calculate-weights",),
            "Write ADE20k_counts.json (INDEXES, COUNTS of the training label maps) to the output folder instead of converting.",
            {"action": "store_true"},
        ),
        Option(
            ("--scenelabels",),
            "Write ADE20k_scenelabels.json (the sorted scene names of index_ade20k.mat) to the output folder instead of converting.",
            {"action": "store_true"},
        ),
    ),
    common_options=("shuffle", "threads"),
    differences=(
        "label images are written as explicit 16-bit PNGs (the reference saved 32-bit images, which current Pillow refuses)",
        "-t/--threads defaults to 1 and the sample order does not depend on it (the reference wrote samples as threads finished)",
        "--calculate-weights counts the _seg label maps only, matching the shipped counts (the reference also added part maps)",
        "--seed makes the shuffled order reproducible; an image missing from index_ade20k.mat is an error naming it",
    ),
    extra="segmentation",
    converter="dings.sets.ADE20k_write",
)


ROOT = "ADE20K_2016_07_26"

SPLITS = ("training", "validation")


def decode_classes(png: bytes) -> np.ndarray:
    """Class ids of an ADE ``_seg``/``_parts`` PNG: ``R // 10 * 256 + G`` as uint16."""
    require_extra("PIL.Image", "segmentation", "ADE20k")
    rgb = np.asarray(decode_image(png, mode="RGB", as_array=True)).astype(np.uint16)
    return (rgb[..., 0] // 10) * 256 + rgb[..., 1]


def convert_label(png: bytes) -> bytes:
    """An ADE ``_seg``/``_parts`` PNG as a 16-bit grayscale PNG of class ids."""
    return encode_label_map(decode_classes(png).astype(np.uint16), compress_level=9)


def _convert_item(item: tuple[bytes, list[bytes]]) -> tuple[bytes, list[bytes]]:
    seg, parts = item
    return convert_label(seg), [convert_label(p) for p in parts]


def _fractions(png: bytes) -> tuple[list[int], list[float]]:
    return class_fractions(decode_classes(png))


def _cells(value: Any, what: str) -> list[str]:
    if isinstance(value, str):  # a single-entry cell is squeezed to its string
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise ValueError(f"index_ade20k.mat: index.{what} must be a cell of strings")


def read_index(archive: Archive) -> tuple[list[str], list[str]]:
    """``(filenames, scenes)`` of ``index_ade20k.mat`` (``index.filename`` and ``index.scene``).

    Raises:
        ValueError: the file is missing or has not this layout.
    """
    name = f"{ROOT}/index_ade20k.mat"
    data = loadmat(io.BytesIO(archive.read(name)), variable_names=["index"]).get("index")
    if not isinstance(data, dict) or "filename" not in data or "scene" not in data:
        raise ValueError(f"{archive.path}:{name}: expected a struct 'index' with fields filename and scene")
    filenames, scenes = _cells(data["filename"], "filename"), _cells(data["scene"], "scene")
    if len(filenames) != len(scenes):
        raise ValueError(f"{archive.path}:{name}: index.filename and index.scene differ in length")
    return filenames, scenes


def scene_labels(scenes: Sequence[str]) -> list[str]:
    """The sorted distinct scene names; a scene's position is its ``label``."""
    return sorted(set(scenes))


def _samples_of(archive: Archive, split: str) -> list[tuple[str, str, list[str]]]:
    """``(image member, _seg member, [part members])`` of every image of ``split``, archive order."""
    names = archive.names()
    found = []
    for name in names:
        if split in name and name.endswith(".jpg"):
            prefix = name[: -len(".jpg")]
            parts: list[str] = []
            while f"{prefix}_parts_{len(parts) + 1}.png" in archive:
                parts.append(f"{prefix}_parts_{len(parts) + 1}.png")
            found.append((name, f"{prefix}_seg.png", parts))
    return found


def _make_sample(job: tuple[str, bytes, int, bytes, list[bytes]]) -> dict[str, Any]:
    key, image, scene, seg, parts = job
    label, converted = _convert_item((seg, parts))
    return ADE20kData(key, image, scene, label, converted)


class ADE20k(Builder):
    """ADE20k's converter: every image with its scene, class map and part maps (converted on the
    worker threads); or, with ``--scenelabels`` or ``--calculate-weights``, only those statistics."""

    info = INFO
    chunksize = 4

    def open(self) -> None:
        """Open the archive."""
        self.archive = self.stack.enter_context(Archive(self.files["ADE20K_2016_07_26.zip"]))

    def write(self, outputs: Outputs) -> None:
        """Write the statistics an option asks for, or else every wanted split."""
        archive, options = self.archive, self.options
        if options.scenelabels:
            path = write_json(outputs.outdir / "ADE20k_scenelabels.json", scene_labels(read_index(archive)[1]))
            print(f"wrote {path}")
            return
        if options.calculate_weights:
            segs = ((f"{archive.path}:{seg}", archive.read(seg)) for _, seg, _ in _samples_of(archive, "training"))
            indexes, counts = sum_fractions(self.map(Named(_fractions), segs, chunksize=4))
            path = write_json(outputs.outdir / "ADE20k_counts.json", {"INDEXES": indexes, "COUNTS": counts})
            print(f"wrote {path}")
            return
        filenames, scenes = read_index(archive)
        position = {scene: i for i, scene in enumerate(scene_labels(scenes))}
        self.scene_of = {filename: position[scene] for filename, scene in zip(filenames, scenes)}
        super().write(outputs)

    def items(self, split: str) -> list[tuple[str, str, list[str]]]:
        """``(image member, _seg member, [part members])`` of every image of ``split``, archive order.

        Raises:
            ValueError: an image has no scene label (checked before anything is written).
        """
        found = _samples_of(self.archive, split)
        for image, _, _ in found:
            if posixpath.basename(image) not in self.scene_of:
                raise ValueError(
                    f"{self.archive.path}: {posixpath.basename(image)} has no entry in {ROOT}/index_ade20k.mat; "
                    "download the archive again"
                )
        return found

    def read(self, item: tuple[str, str, list[str]]) -> tuple[str, tuple[str, bytes, int, bytes, list[bytes]]]:
        """The members of one image, named by its ``_seg`` member for error messages."""
        image, seg, parts = item
        key = posixpath.basename(image)
        archive = self.archive
        job = (
            key,
            archive.read(image),
            self.scene_of[key],
            archive.read(seg),
            [archive.read(p) for p in parts],
        )
        return f"{archive.path}:{seg}", job

    def transform(self) -> Any:
        """Label conversion runs on the worker threads."""
        return Named(_make_sample)
