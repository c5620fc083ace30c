"""The 10,450 ImageNet-21K-P classes of ImageNet21k (winter 2021): wnids, descriptions, label trees.

Read on first use from the shipped ``meta/ImageNet21k_synsets.json.xz``, which holds the Alibaba-MIIL
semantic tree (``class_tree_list``, ``class_description``) and the sample counts:

- ``SYNSET_WORDS``: dict wnid → description, sorted by wnid (label order);
- ``SYNSET_LIST``: list of the wnids in label order;
- ``SYNSET_TREE_LIST``: per label, the label followed by its ancestors' labels (``[9, 66, 65, 144]``);
- ``SYNSETS``: dict wnid → label;
- ``NUM_TRAIN_SAMPLES``, ``NUM_VAL_SAMPLES``: sample counts of the converted splits.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from dings.tools import load_json

from ..shipped import meta_path

__all__ = [
    "NUM_TRAIN_SAMPLES",
    "NUM_VALID_SYNSETS",
    "NUM_VAL_SAMPLES",
    "SYNSETS",
    "SYNSET_LIST",
    "SYNSET_TREE_LIST",
    "SYNSET_WORDS",
    "VAL_SAMPLES_PER_SYNSET",
]

META_FILE = "ImageNet21k_synsets.json.xz"
#: synsets with more than 500 images, the ones converted
NUM_VALID_SYNSETS = 10_450
#: the first 50 images (by name) of every synset form the validation split
VAL_SAMPLES_PER_SYNSET = 50

_LAZY = ("NUM_TRAIN_SAMPLES", "NUM_VAL_SAMPLES", "SYNSETS", "SYNSET_LIST", "SYNSET_TREE_LIST", "SYNSET_WORDS")


@lru_cache(maxsize=1)
def _load() -> dict[str, Any]:
    path = meta_path(META_FILE)
    meta = load_json(path)
    try:
        words = {str(k): str(v) for k, v in meta["class_description"].items()}
        trees = [[int(label) for label in tree] for tree in meta["class_tree_list"]]
        counts = int(meta["train"]), int(meta["val"])
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"{path}: not the ImageNet21k synset metadata ({exc!r}); reinstall dings-sets") from None
    wnids = list(words)
    if len(trees) != len(wnids):
        raise ValueError(f"{path}: {len(trees)} label trees for {len(wnids)} synsets; reinstall dings-sets")
    return {
        "SYNSET_WORDS": words,
        "SYNSET_LIST": wnids,
        "SYNSET_TREE_LIST": trees,
        "SYNSETS": {wnid: label for label, wnid in enumerate(wnids)},
        "NUM_TRAIN_SAMPLES": counts[0],
        "NUM_VAL_SAMPLES": counts[1],
    }


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return _load()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
