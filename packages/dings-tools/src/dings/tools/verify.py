"""``verify``: md5 and structural checks of dings.format, plus an optional decode of every sample."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from dings.format import (
    MANIFEST_SUFFIX,
    DamagedDataError,
    FormatError,
    VerificationReport,
    check_checksums,
    check_journal,
    check_md5,
    check_structure,
    data_path,
    index_path,
    load_label_names,
    load_manifest,
    load_md5,
    offsets_len,
    progress_bar,
    unpack_sample,
)
from dings.readers import MsgpackReader, is_url, natural_sort_key, resolve_dataset

from ._dataset import DatasetSpec

__all__ = ["VerificationReport", "verify", "verify_dataset"]


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


def _check_manifest(manifest: Path, shards: list[str]) -> VerificationReport:
    """Compare a manifest with the shards next to it: names, sample counts, sizes and md5 sums."""
    report = VerificationReport(manifest)
    try:
        content = load_manifest(manifest)
    except (OSError, FormatError) as exc:
        report.problems.append(str(exc))
        return report
    report.length = content["samples"]
    listed = set()
    for number, record in enumerate(content["shards"]):
        shard = manifest.parent / record["name"]
        listed.add(str(shard))
        where = f"{manifest}: shards[{number}] {record['name']}"
        if not shard.is_file():
            report.problems.append(f"{where}: the shard is missing")
            continue
        if shard.stat().st_size != record["size"]:
            report.problems.append(f"{where}: is {shard.stat().st_size:,} bytes, the manifest says {record['size']:,}")
        try:
            md5 = load_md5(shard).get(shard.name)
            samples = offsets_len(shard)
        except (OSError, FormatError) as exc:
            report.problems.append(f"{where}: cannot be compared: {exc}")
            continue
        if md5 != record["md5"]:
            report.problems.append(f"{where}: its md5 file says {md5}, the manifest says {record['md5']}")
        if samples != record["samples"]:
            report.problems.append(f"{where}: holds {samples:,} samples, the manifest says {record['samples']:,}")
    for shard in shards:
        if shard not in listed:
            report.notes.append(f"{shard}: is next to the manifest but not listed in it (not part of the dataset)")
    report.checked.append("manifest")
    return report


def _check_label_names(report: VerificationReport, shards: list[str]) -> None:
    """Every shard of a set has the same label names (or none)."""
    first: list[str] | None = None
    for number, shard in enumerate(shards):
        try:
            names = load_label_names(shard)
        except (OSError, FormatError) as exc:
            report.problems.append(str(exc))
            return
        if number == 0:
            first = names
        elif names != first:
            report.problems.append(
                f"{shard}: its label names ({index_path(shard, '.labels.json').name}) differ from those of {shards[0]}"
            )
            return
    report.checked.append("label names")


def _manifest_path(spec: DatasetSpec) -> Path | None:
    """The manifest a spec names (a manifest file, or the one in a folder), without reading it."""
    if not isinstance(spec, (str, os.PathLike)):
        return None
    path = Path(spec)
    if path.name.endswith(MANIFEST_SUFFIX):
        return path
    found = sorted(path.glob("*" + MANIFEST_SUFFIX)) if path.is_dir() else []
    return found[0] if len(found) == 1 else None


def verify_dataset(spec: DatasetSpec, deep: bool = False, *, progress: bool | None = True) -> list[VerificationReport]:
    """Check every shard of a dataset (see :func:`verify`), its manifest and its sidecars.

    Args:
        spec: a data file, shard pattern, folder, manifest or a list of them.
        deep: decode every sample of every shard as well.
        progress: show progress while hashing and decoding.

    Returns:
        One :class:`VerificationReport` per shard, in order; for a set of several shards one more
        (its ``path`` the manifest, or the spec) with the manifest's checks (names, sample counts,
        sizes and md5 sums of the shards) and the label names' agreement. Every check passed when
        every report is ``ok``.

    Raises:
        FileNotFoundError: a pattern or folder names no dataset (a missing data file is a report).
        ValueError: ``spec`` is a URL (stage it, then verify the copy).
    """
    try:
        resolved = resolve_dataset(spec)
    except FileNotFoundError:
        if not isinstance(spec, (str, os.PathLike)) or any(c in os.fspath(spec) for c in "*?[{"):
            raise
        return [verify(spec, deep, progress=progress)]  # a report that says the data file is missing
    except FormatError:  # a damaged manifest (reported below): check the shards next to it all the same
        manifest = _manifest_path(spec)
        if manifest is None:
            raise
        shards = sorted((str(p) for p in manifest.parent.glob("*.msgpack")), key=natural_sort_key)
    else:
        if resolved.is_remote():
            raise ValueError(
                f"{resolved.spec}: verify checks local files; stage the dataset first "
                "(dings stage URL DIR, dings.tools.stage), then verify the copy"
            )
        shards = list(resolved.shards)
        local = resolved.manifest is not None and not is_url(resolved.manifest)
        manifest = Path(resolved.manifest) if local else None  # type: ignore[arg-type]  # checked
    reports = [verify(shard, deep, progress=progress) for shard in shards]
    if len(shards) > 1 or manifest is not None:
        if manifest is not None:
            folder = sorted((str(p) for p in manifest.parent.glob("*.msgpack")), key=natural_sort_key)
            whole = _check_manifest(manifest, folder)
        else:
            where = spec if isinstance(spec, (str, os.PathLike)) else ", ".join(os.fspath(p) for p in spec)
            whole = VerificationReport(Path(where))
            whole.length = sum(report.length or 0 for report in reports)
        _check_label_names(whole, shards)
        reports.append(whole)
    return reports
