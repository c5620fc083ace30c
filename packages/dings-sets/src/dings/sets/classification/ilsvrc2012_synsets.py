"""The 1,000 ILSVRC2012 classes: WordNet ids (wnids) in label order and their words.

Read on first use from the shipped ``meta/ILSVRC2012_synsets.txt.xz`` (``<wnid> <words>`` lines sorted
by wnid; the line index is the label):

- ``SYNSET_WORDS``: dict wnid → words (``"tench, Tinca tinca"``), in label order;
- ``SYNSET_LIST``: list of wnids in label order;
- ``SYNSETS``: dict wnid → label.

:func:`val_labels` reads the validation ground truth (``meta/ILSVRC2012_val.txt.xz``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..shipped import read_meta_lines

__all__ = ["SYNSETS", "SYNSET_LIST", "SYNSET_WORDS", "val_labels"]

SYNSETS_FILE = "ILSVRC2012_synsets.txt.xz"
VAL_FILE = "ILSVRC2012_val.txt.xz"


@lru_cache(maxsize=1)
def _words() -> dict[str, str]:
    words = {}
    for line in read_meta_lines(SYNSETS_FILE):
        wnid, _, text = line.partition(" ")
        words[wnid] = text
    return words


@lru_cache(maxsize=1)
def _lists() -> tuple[list[str], dict[str, int]]:
    wnids = list(_words())
    return wnids, {wnid: label for label, wnid in enumerate(wnids)}


@lru_cache(maxsize=1)
def val_labels() -> dict[str, int]:
    """Return the validation labels: file name (``ILSVRC2012_val_00000001.JPEG``) → label 0..999."""
    labels = {}
    for line in read_meta_lines(VAL_FILE):
        name, label = line.split()
        labels[name] = int(label)
    return labels


def __getattr__(name: str) -> Any:
    if name == "SYNSET_WORDS":
        return _words()
    if name == "SYNSET_LIST":
        return _lists()[0]
    if name == "SYNSETS":
        return _lists()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
