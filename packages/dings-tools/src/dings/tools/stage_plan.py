"""What staging knows about one dataset, local or remote (used by :mod:`.stage` and :mod:`.stage_remote`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dings.format import CHECKSUMS_SUFFIX, LABEL_NAMES_SUFFIX, CorruptIndexError, index_size_limit

__all__ = ["SIDECAR_SUFFIXES", "StagePlan", "check_listed_name", "check_sizes"]

#: dataset files outside the md5 file (datadings' md5 files list only data and index files)
SIDECAR_SUFFIXES = (CHECKSUMS_SUFFIX, LABEL_NAMES_SUFFIX)


@dataclass
class StagePlan:
    """One dataset to stage: its md5 file and how to read the files it lists (local or remote)."""

    data: str  # the data file's name
    where: Callable[[str], str]  # file name -> path or URL, for messages
    md5_name: str
    md5_content: bytes
    expected: dict[str, str]
    size: Callable[[str], int]  # file name -> size in bytes
    copy: Callable[[str, Path | None, Any], str]  # (file name, target or None, bar) -> md5 of what was read
    #: sidecars the source has that its md5 file does not list (per-sample checksums, label names):
    #: copied too, checked by size only (readers and verify check their content against the data)
    sidecars: list[str] = field(default_factory=list)


def check_listed_name(data: str, name: str, md5_where: str) -> None:
    """Refuse a name in the md5 file of ``data`` that is neither the data file nor one of its index files.

    Args:
        data: the data file's name.
        name: a name the md5 file lists.
        md5_where: the md5 file's path or URL, for the error.

    Raises:
        CorruptIndexError: ``name`` is another file.
    """
    if name == data:
        return
    try:
        if not name.startswith(data):
            raise ValueError(name)
        index_size_limit(name[len(data) :], 0)  # a suffix it knows: an index file of this dataset
    except ValueError:
        raise CorruptIndexError(
            f"{md5_where}: refers to {name!r}, which is not a file of the dataset {data}; "
            "the md5 file is damaged or hostile: restore it; nothing was staged",
            path=md5_where,
        ) from None


def check_sizes(plan: StagePlan) -> None:
    """Refuse a dataset with an index file or sidecar larger than its data file allows, before anything is copied.

    Raises:
        CorruptIndexError: a file is larger than :func:`dings.format.index_size_limit` allows.
    """
    data_size = plan.size(plan.data)
    for name in [*plan.expected, *plan.sidecars]:
        if name == plan.data:
            continue
        size, limit = plan.size(name), index_size_limit(name[len(plan.data) :], data_size)
        if size > limit:
            raise CorruptIndexError(
                f"{plan.where(name)}: {size} bytes, more than the {limit} it can have for a data file of "
                f"{data_size} bytes; the source dataset is damaged: run `dings verify` on it or restore it; "
                "nothing was staged",
                path=plan.where(name),
            )
