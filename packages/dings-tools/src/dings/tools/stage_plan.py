"""What staging knows about one dataset, local or remote (used by :mod:`.stage` and :mod:`.stage_remote`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dings.format import CHECKSUMS_SUFFIX, LABEL_NAMES_SUFFIX

__all__ = ["SIDECAR_SUFFIXES", "StagePlan"]

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
