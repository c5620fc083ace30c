"""``verify``: md5 and structural checks of dings.format, plus an optional decode of every sample."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from dings.format import (
    DamagedDataError,
    FormatError,
    VerificationReport,
    check_checksums,
    check_journal,
    check_md5,
    check_structure,
    data_path,
    progress_bar,
    unpack_sample,
)
from dings.readers import MsgpackReader

__all__ = ["VerificationReport", "verify"]


def _check_samples(report: VerificationReport, data: Path, progress: bool | None) -> None:
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
        return f'{data}: sample {index}: has no "key"'
    return None


def verify(path: str | os.PathLike, deep: bool = False, *, progress: bool | None = True) -> VerificationReport:
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
