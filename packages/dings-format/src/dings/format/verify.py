"""Structural and checksum verification of a dataset's files."""

from __future__ import annotations

import mmap
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import index
from .checksums import load_checksums
from .errors import CorruptIndexError
from .paths import (
    CHECKSUMS_SUFFIX,
    INDEX_SUFFIXES,
    JOURNAL_SUFFIX,
    LEGACY_INDEX_SUFFIX,
    MD5_SUFFIX,
    data_path,
    index_path,
)
from .progress import Progress

__all__ = [
    "VerificationReport",
    "VerifyReport",
    "verify",
    "check_md5",
    "check_structure",
    "check_checksums",
    "check_journal",
    "report_damaged_samples",
]

#: damaged samples named one by one in a report; more are counted
MAX_NAMED = 20


@dataclass
class VerificationReport:
    """Result of :func:`verify` and of :func:`dings.tools.verify` (which adds the deep check).

    Attributes:
        path: the data file that was checked (its URL, a ``str``, for a remote dataset).
        problems: one readable line per problem found; empty when everything is fine.
        checked: names of the checks that ran (``"md5"``, ``"offsets"``, …, ``"deep"``).
        length: number of samples according to the index, if it could be read.
        notes: remarks that are not problems (e.g. the dataset has no per-sample checksums).
        damaged: indices of the samples whose checksum does not match.
        damaged_keys: their keys, where the keys file could be read (else empty).
        deep: whether every sample was to be decoded (:func:`dings.tools.verify` with ``deep``).
        bad_index: index of the first sample that failed the deep check, if any.
        bad_key: that sample's key (from the index), if known.
    """

    path: Path | str
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    length: int | None = None
    notes: list[str] = field(default_factory=list)
    damaged: list[int] = field(default_factory=list)
    damaged_keys: list[str] = field(default_factory=list)
    deep: bool = False
    bad_index: int | None = None
    bad_key: str | None = None

    @property
    def ok(self) -> bool:
        """True only when every check ran and passed."""
        return not self.problems

    def __str__(self) -> str:
        notes = "".join(f"\n  note: {n}" for n in self.notes)
        if self.ok:
            return f"{self.path}: OK ({self.length} samples; {', '.join(self.checked)}){notes}"
        return f"{self.path}: {len(self.problems)} problem(s)\n" + "\n".join(f"  - {p}" for p in self.problems) + notes

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "path": str(self.path),
            "ok": self.ok,
            "problems": list(self.problems),
            "checked": list(self.checked),
            "length": self.length,
            "deep": self.deep,
            "bad_index": self.bad_index,
            "bad_key": self.bad_key,
            "notes": list(self.notes),
            "damaged": list(self.damaged),
            "damaged_keys": list(self.damaged_keys),
        }


#: the 0.1 name of :class:`VerificationReport`, kept so existing code keeps working
VerifyReport = VerificationReport


def check_md5(
    report: VerificationReport, data: Path, only: list[str] | None = None, progress: bool | None = False
) -> None:
    """Add to ``report`` every file that does not match the md5 file.

    Args:
        report: collects the problems.
        data: the data file.
        only: check only these file names (default: every file the md5 file lists).
        progress: show a progress line while hashing.
    """
    md5_path = index_path(data, MD5_SUFFIX)
    if not md5_path.exists():
        report.problems.append(f"{md5_path}: md5 file is missing; integrity cannot be checked")
        return
    try:
        expected = index.load_md5(md5_path)
    except (CorruptIndexError, UnicodeDecodeError) as exc:
        report.problems.append(f"{md5_path}: unreadable md5 file ({exc})")
        return
    for name in [data.name] + [data.name + s for s in INDEX_SUFFIXES]:
        if name not in expected and (data.parent / name).exists() and (only is None or name in only):
            report.problems.append(f"{md5_path}: has no checksum for {name}")
    data_size = data.stat().st_size if data.is_file() else None
    for name, digest in expected.items():
        if only is not None and name not in only:
            continue
        file = data.parent / name
        if os.sep in name or (os.altsep and os.altsep in name) or name in ("", ".", ".."):
            report.problems.append(f"{md5_path}: refers to {name!r}, which is not a file next to the dataset")
        elif not file.exists():
            report.problems.append(f"{file}: listed in the md5 file but missing")
        elif not file.is_file():
            report.problems.append(f"{file}: is not a regular file; restore the dataset's files")
        elif (too_large := _too_large(file, data, data_size)) is not None:
            report.problems.append(too_large)
        elif index.md5_file(file, progress=progress) != digest:
            report.problems.append(f"{file}: md5 mismatch (file changed or damaged since it was written)")
    report.checked.append("md5")


def _too_large(file: Path, data: Path, data_size: int | None) -> str | None:
    """Why an index file is too large to be hashed (larger than the data file allows), or None."""
    suffix = file.name[len(data.name) :] if file.name.startswith(data.name) else ""
    if data_size is None or suffix not in INDEX_SUFFIXES + (LEGACY_INDEX_SUFFIX,):
        return None
    size, limit = file.stat().st_size, index.index_size_limit(suffix, data_size)
    if size <= limit:
        return None
    return f"{file}: {size} bytes, more than the {limit} it can have for a data file of {data_size} bytes; it is damaged (not hashed)"


def check_structure(report: VerificationReport, data: Path, size: int | None = None) -> None:
    """Add to ``report`` every disagreement between the index files and the data file.

    Args:
        report: collects the problems.
        data: the data file, or where it would lie next to its index files (a remote dataset's
            index files fetched into a local folder).
        size: the data file's size (default: the size of ``data``, which must then exist).
    """
    offsets_path = index_path(data, ".offsets")
    legacy = index_path(data, LEGACY_INDEX_SUFFIX)
    if size is None:
        size = data.stat().st_size
    keys = None
    try:
        if os.path.lexists(offsets_path):
            offsets = index.load_offsets(data, size)
        elif os.path.lexists(legacy):
            keys, offsets = index.legacy_load_index(data, size)
        else:
            report.problems.append(f"{data}: no index (neither {offsets_path.name} nor {legacy.name}) exists")
            return
    except (CorruptIndexError, OSError) as exc:
        report.problems.append(str(exc))
        return
    count = len(offsets) - 1
    report.length = count
    if offsets[0] != 0:
        report.problems.append(f"{offsets_path}: first offset is {offsets[0]}, expected 0")
    if np.any(offsets[1:] <= offsets[:-1]):
        bad = int(np.argmax(offsets[1:] <= offsets[:-1]))
        report.problems.append(f"{offsets_path}: offsets do not increase at sample {bad}")
    if int(offsets[-1]) != size:
        report.problems.append(f"{offsets_path}: last offset {int(offsets[-1])} differs from data file size {size}")
    report.checked.append("offsets")
    # keys, key hashes and filter are optional (FORMAT.md); if the md5 file lists one that is
    # missing, the md5 check has reported it already
    if keys is None:
        keys_path = index_path(data, ".keys")
        if keys_path.exists():
            try:
                keys = index.load_keys(data, size, count)
            except CorruptIndexError as exc:
                report.problems.append(str(exc))
    if keys is not None:
        if len(keys) != count:
            report.problems.append(f"{data}: {len(keys)} keys but {count} offsets")
        if len(set(keys)) != len(keys):
            report.problems.append(f"{data}: keys are not unique")
        report.checked.append("keys")
    _check_hashes(report, data, keys, size)
    _check_filter(report, data, keys, size, count)


def _check_hashes(report: VerificationReport, data: Path, keys: list[str] | None, size: int) -> None:
    path = index_path(data, ".key_hashes")
    if not path.exists():
        return
    try:
        salt, hashes = index.load_key_hashes(data, size)
    except CorruptIndexError as exc:
        report.problems.append(str(exc))
        return
    if keys is not None:
        if len(hashes) != len(keys):
            report.problems.append(f"{path}: {len(hashes)} hashes but {len(keys)} keys")
        elif not np.array_equal(index.hash_many(keys, salt), hashes):
            report.problems.append(f"{path}: hashes do not match the keys")
    report.checked.append("key_hashes")


def _check_filter(report: VerificationReport, data: Path, keys: list[str] | None, size: int, count: int) -> None:
    path = index_path(data, ".filter")
    if not path.exists():
        return
    try:
        bloom = index.load_filter(data, size, count)
    except CorruptIndexError as exc:
        report.problems.append(str(exc))
        return
    if keys is not None:
        missing = next((k for k in keys if k not in bloom), None)
        if missing is not None:
            report.problems.append(f"{path}: key {missing!r} is not in the Bloom filter")
    report.checked.append("filter")


def check_journal(report: VerificationReport, data: Path) -> None:
    """Add a problem if a commit of the dataset is in progress or was interrupted."""
    journal = index_path(data, JOURNAL_SUFFIX)
    if os.path.lexists(journal):
        report.problems.append(
            f"{journal}: a commit of this dataset is in progress or was interrupted; opening the dataset with write access finishes it"
        )


def check_checksums(report: VerificationReport, data: Path, progress: bool | None = False) -> None:
    """Compare every sample with its checksum in ``NAME.msgpack.crc32``; name the damaged ones.

    A dataset without the file gets a note (``dings convert-index`` adds it), not a problem.
    """
    crc_path = index_path(data, CHECKSUMS_SUFFIX)
    if not crc_path.exists():
        report.notes.append(
            f"{data.name} has no per-sample checksums ({crc_path.name}); `dings convert-index {data}` adds them"
        )
        return
    size = data.stat().st_size
    try:
        offsets = index.load_offsets(data, size)
    except (CorruptIndexError, OSError):
        report.notes.append("per-sample checksums not checked: the offsets are unusable")
        return
    count = len(offsets) - 1
    if count < 0 or offsets[0] != 0 or int(offsets[-1]) != size or np.any(offsets[1:] < offsets[:-1]):
        report.notes.append("per-sample checksums not checked: the offsets do not fit the data file")
        return
    try:
        expected = load_checksums(data, count)
    except CorruptIndexError as exc:
        report.problems.append(str(exc))
        return
    if expected is None:  # removed meanwhile
        return
    bad = _damaged_samples(data, offsets, expected, size, progress)
    report.checked.append("checksums")
    if not bad:
        return
    try:
        keys = index.load_keys(data, size, count) if index_path(data, ".keys").exists() else None
    except (CorruptIndexError, OSError):
        keys = None
    report_damaged_samples(report, data, crc_path, bad, count, keys)


def _damaged_samples(
    data: Path, offsets: np.ndarray, expected: np.ndarray, size: int, progress: bool | None
) -> list[int]:
    if size == 0:
        return []
    bounds = offsets.tolist()
    wanted = expected.tolist()
    bad = []
    display = Progress(f"checksums {data.name}", total=len(wanted), enabled=progress)
    with open(data, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        view = memoryview(mapped)
        try:
            crc32 = zlib.crc32
            for first in range(0, len(wanted), 0x10000):
                for i in range(first, min(first + 0x10000, len(wanted))):
                    if crc32(view[bounds[i] : bounds[i + 1]]) != wanted[i]:
                        bad.append(i)
                display.update(min(0x10000, len(wanted) - first))
        finally:
            view.release()
    display.close()
    return bad


def verify(path: str | os.PathLike) -> VerificationReport:
    """Check a dataset's files against its md5 file and its index against its data.

    Checks: no commit is pending; every file listed in the md5 file exists and matches; offsets
    start at 0, increase, and end at the data file's size; keys, key hashes and offsets agree in
    number; keys are unique; hashes match the keys; every key is in the Bloom filter; every
    sample matches its per-sample checksum (when the dataset has them; damaged samples are named
    by index and key). A damaged dataset gives a report listing the problems, not an exception.

    Args:
        path: the data file (``NAME.msgpack``) or any of its index files.

    Returns:
        A :class:`VerificationReport`; ``report.ok`` is true only when every check passed.
    """
    data = data_path(path)
    report = VerificationReport(data)
    if not data.is_file():
        report.problems.append(f"{data}: data file is missing" if not data.exists() else f"{data}: is not a file")
        return report
    check_journal(report, data)
    check_md5(report, data)
    check_structure(report, data)
    check_checksums(report, data)
    return report


def report_damaged_samples(
    report: VerificationReport,
    data: str | os.PathLike,
    checksums: str | os.PathLike,
    bad: list[int],
    count: int,
    keys: list[str] | None,
) -> None:
    """Record the samples ``bad`` (of ``count``) that fail their checksum: by index and key (the
    first :data:`MAX_NAMED`), or as a damaged checksum file ``checksums`` when none matches.

    Args:
        report: where the problem line and the damaged indices and keys go.
        data: the data file (path or URL) named in the problem line.
        checksums: the checksum file (path or URL) named when no sample matches.
        bad: indices of the damaged samples, ascending.
        count: number of samples.
        keys: the keys in sample order, or ``None`` when unknown (then indices only).
    """
    report.damaged = bad
    if keys is not None and len(keys) == count:
        report.damaged_keys = [keys[i] for i in bad]
    named = [f"{i} (key {keys[i]!r})" if keys is not None and report.damaged_keys else str(i) for i in bad[:MAX_NAMED]]
    more = f" and {len(bad) - MAX_NAMED} more" if len(bad) > MAX_NAMED else ""
    if len(bad) == count and count > 1:
        report.problems.append(
            f"{checksums}: no sample matches its checksum; the checksum file is damaged or belongs to other data"
        )
    else:
        report.problems.append(f"{data}: {len(bad)} damaged sample(s) (checksum mismatch): {', '.join(named)}{more}")
