"""``verify``: md5 and structural checks of dings.format, plus an optional decode of every sample."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dings.format import DamagedDataError, FormatError, VerifyReport, data_path, unpack_sample
from dings.format.verify import check_checksums, check_journal, check_md5, check_structure
from dings.readers import MsgpackReader

from .progress import progress_bar

__all__ = ["VerificationReport", "verify"]


@dataclass
class VerificationReport(VerifyReport):
    """Result of :func:`verify`: a :class:`dings.format.VerifyReport` with the deep check's findings.

    Attributes:
        path: the data file that was checked.
        problems: one readable line per problem; empty when everything is fine.
        checked: names of the checks that ran (``"md5"``, ``"offsets"``, …, ``"deep"``).
        length: number of samples according to the index, if it could be read.
        deep: whether every sample was to be decoded.
        bad_index: index of the first sample that failed the deep check, if any.
        bad_key: that sample's key (from the index), if known.
    """

    deep: bool = False
    bad_index: int | None = None
    bad_key: str | None = None

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


def _check_samples(report: VerificationReport, data: Path, progress: bool) -> None:
    """Decode every sample; report the first that fails (by index and key) and stop there."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # missing optional index files: check_structure knows
            reader = MsgpackReader(data)
    except (OSError, FormatError) as exc:
        report.problems.append(f"deep check skipped: {exc}")
        return
    try:
        try:
            length = len(reader.offsets) - 1
        except (OSError, FormatError) as exc:
            report.problems.append(f"deep check skipped, the offsets are unusable: {exc}")
            return
        try:
            keys: list[str] | None = reader.keys
        except (OSError, FormatError):
            keys = None  # reported by the structural check; samples are still checked
        items = reader.iter(start=0, raw=True, copy=False)
        with progress_bar(items, total=length, desc=f"decode {data.name}", unit="samples", enabled=progress) as bar:
            for index, piece in enumerate(bar):
                key = keys[index] if keys is not None else None
                problem = _sample_problem(piece, data, index, key)
                del piece
                if problem is not None:
                    report.problems.append(problem)
                    report.bad_index, report.bad_key = index, key
                    return
        report.checked.append("deep")
    except (OSError, FormatError) as exc:  # iteration itself found the data and offsets disagreeing
        report.problems.append(f"deep check stopped: {exc}")
    finally:
        reader.close()


def _sample_problem(piece: memoryview, data: Path, index: int, key: str | None) -> str | None:
    """Why this packed sample is bad, or ``None`` if it decodes to a map with the right key."""
    try:
        sample = unpack_sample(piece, path=data, index=index, key=key)
    except (DamagedDataError, FormatError) as exc:
        return str(exc)
    if "key" not in sample:
        return f"{data}: sample {index}: has no \"key\""
    return None


def verify(path: str | os.PathLike, deep: bool = False, *, progress: bool = True) -> VerificationReport:
    """Check a dataset: md5 of every file, the structural checks of :func:`dings.format.verify`
    and, with ``deep``, a decode of every sample.

    With per-sample checksums (``NAME.msgpack.crc32``) every sample is compared with its checksum
    and the damaged ones are named by index and key (``report.damaged``, ``report.damaged_keys``);
    without them ``report.notes`` says so. The deep check reports the first sample that cannot be
    decoded, is not a map, or whose ``"key"`` differs from the index, by index and key, and stops
    there. A damaged or missing
    dataset gives a report listing the problems, not an exception.

    Args:
        path: the data file (``NAME.msgpack``) or any of its index files.
        deep: decode every sample as well (reads and unpacks the whole data file).
        progress: show progress while hashing and decoding.

    Returns:
        A :class:`VerificationReport`; ``report.ok`` is true only when every check passed.
    """
    data = data_path(path)
    report = VerificationReport(data, deep=deep)
    if not data.is_file():
        report.problems.append(f"{data}: data file is missing" if not data.exists() else f"{data}: is not a file")
        return report
    try:
        check_journal(report, data)
        check_md5(report, data, progress=progress)
        check_structure(report, data)
        check_checksums(report, data, progress=progress)
    except (OSError, FormatError, UnicodeDecodeError) as exc:
        report.problems.append(f"{data}: cannot be checked: {exc}")
        return report
    if deep:
        _check_samples(report, data, progress)
    return report
