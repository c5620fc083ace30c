"""ADE20K (full release 2016-07-26): scene labels, class statistics, colours and catalog entry.

The large tables are loaded from the shipped ``meta`` files on first use: ``SCENELABELS`` (872
scene names, position = scene ``label``), ``INDEXES``/``COUNTS`` (class ids occurring in the
training label maps and their summed pixel fractions) and ``WEIGHTS`` (median frequency).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ._segmentation import load_meta, median_frequency_weights
from .catalog import DatasetInfo, Option, SourceFile, Split

__all__ = [
    "COUNTS",
    "INDEXES",
    "INFO",
    "SCENELABELS",
    "WEIGHTS",
    "ids_to_color",
    "index_to_color",
    "load_statistics",
    "median_frequency_weights",
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
    if not isinstance(content, dict) or not isinstance(content.get("INDEXES"), list) \
            or not isinstance(content.get("COUNTS"), list) or len(content["INDEXES"]) != len(content["COUNTS"]):
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
        Option(("--calculate-weights",),
               "Write ADE20k_counts.json (INDEXES, COUNTS of the training label maps) to the output folder instead of converting.",
               {"action": "store_true"}),
        Option(("--scenelabels",),
               "Write ADE20k_scenelabels.json (the sorted scene names of index_ade20k.mat) to the output folder instead of converting.",
               {"action": "store_true"}),
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
