"""File names of a dataset: ``NAME.msgpack`` and its index files ``NAME.msgpack.<suffix>``."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DATA_SUFFIX",
    "INDEX_SUFFIXES",
    "MD5_SUFFIX",
    "LEGACY_INDEX_SUFFIX",
    "CHECKSUMS_SUFFIX",
    "JOURNAL_SUFFIX",
    "DATASET_SUFFIXES",
    "LABEL_NAMES_SUFFIX",
    "MANIFEST_SUFFIX",
    "data_path",
    "index_path",
]

DATA_SUFFIX = ".msgpack"
#: index files written next to every dataset, in the order the md5 file lists them
INDEX_SUFFIXES = (".offsets", ".keys", ".key_hashes", ".filter")
MD5_SUFFIX = ".md5"
LEGACY_INDEX_SUFFIX = ".index"
#: per-sample checksums (a dings extension; datadings ignores it)
CHECKSUMS_SUFFIX = ".crc32"
#: commit journal, present only while a write is being committed (a dings extension)
JOURNAL_SUFFIX = ".journal"
#: every file next to the data file that belongs to one generation of a dataset
DATASET_SUFFIXES = INDEX_SUFFIXES + (CHECKSUMS_SUFFIX, MD5_SUFFIX, LEGACY_INDEX_SUFFIX)
#: the label-names sidecar ``NAME.msgpack.labels.json`` (a dings extension; see :mod:`.label_names`)
LABEL_NAMES_SUFFIX = ".labels.json"
#: the manifest of a dataset written in partitions: ``NAME.manifest.json`` next to its shards
MANIFEST_SUFFIX = ".manifest.json"
_ALL_SUFFIXES = DATASET_SUFFIXES + (JOURNAL_SUFFIX,)


def data_path(path: str | os.PathLike) -> Path:
    """Return the data file path for a data file path or any of its index file paths.

    Args:
        path: ``NAME.msgpack`` or ``NAME.msgpack.<suffix>`` (offsets, keys, key_hashes, filter, crc32,
            md5, index, journal).
    """
    path = Path(path)
    if path.suffix in _ALL_SUFFIXES and path.name[: -len(path.suffix)].endswith(DATA_SUFFIX):
        return path.with_suffix("")
    return path


def index_path(path: str | os.PathLike, suffix: str) -> Path:
    """Return the path of one index file of a dataset.

    Args:
        path: the data file or any of its index files.
        suffix: the index file's suffix, e.g. ``".offsets"``.
    """
    data = data_path(path)
    return data.with_name(data.name + suffix)
