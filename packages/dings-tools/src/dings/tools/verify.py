"""``verify``: md5 and structural checks of dings.format, plus an optional decode of every sample."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
import warnings
import zlib
from pathlib import Path
from typing import Any

from dings.format import (
    MANIFEST_SUFFIX,
    MAX_JSON_BYTES,
    MD5_SUFFIX,
    DamagedDataError,
    FormatError,
    VerificationReport,
    check_checksums,
    check_journal,
    check_md5,
    check_structure,
    data_path,
    index_path,
    load_checksums,
    load_label_names,
    load_manifest,
    load_md5,
    offsets_len,
    parse_manifest,
    progress_bar,
    report_damaged_samples,
    unpack_sample,
)
from dings.readers import (
    LocalIndexSource,
    MsgpackReader,
    RemoteFiles,
    RemoteMsgpackReader,
    RetryPolicy,
    is_url,
    natural_sort_key,
    resolve_dataset,
    storage_for,
    url_name,
)

from ._dataset import DatasetSpec
from .image import image_decode_problem
from .render import sniff_image

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
        _decode_every_sample(report, reader, data, progress)
    finally:
        reader.close()


def _decode_every_sample(
    report: VerificationReport, reader: MsgpackReader, data: Path | str, progress: bool | None
) -> None:
    """The deep check over an open reader (local or remote): it reads the samples in blocks."""
    try:
        length = len(reader.offsets) - 1
    except (OSError, FormatError) as exc:
        report.problems.append(f"deep check skipped, the offsets are unusable: {exc}")
        return
    try:
        keys: list[str] | None = reader.keys
    except (OSError, FormatError):
        keys = None  # reported by the structural check; samples are still checked
    images = _ImageCheck()
    try:
        items = reader.iter(start=0, raw=True, copy=False)
        name = url_name(data) if isinstance(data, str) else data.name
        with progress_bar(items, total=length, desc=f"decode {name}", unit="samples", enabled=progress) as bar:
            for index, piece in enumerate(bar):
                key = keys[index] if keys is not None else None
                problem = _sample_problem(piece, data, index, key, images)
                del piece
                if problem is not None:
                    report.problems.append(problem)
                    report.bad_index, report.bad_key = index, key
                    return
        report.checked.append("deep")
        if images.decoded:
            report.checked.append("images")
        elif images.skipped:
            report.notes.append("images not decoded: Pillow is not installed (pip install 'dings-tools[image]')")
    except (OSError, FormatError) as exc:  # iteration itself found the data and offsets disagreeing
        report.problems.append(f"deep check stopped: {exc}")


class _ImageCheck:
    """Decodes the encoded images of samples (fields whose bytes start with an image signature)."""

    def __init__(self) -> None:
        self.decoded = 0
        self.skipped = 0
        self.pillow = importlib.util.find_spec("PIL") is not None

    def problem(self, sample: dict) -> str | None:
        """Why an image in ``sample`` (at any depth) does not decode, naming its field, else ``None``."""
        todo: list[tuple[tuple[Any, ...], Any]] = [((k,), v) for k, v in reversed(sample.items())]
        while todo:  # without recursion: samples nest as deep as msgpack allows
            path, value = todo.pop()
            if isinstance(value, (bytes, bytearray, memoryview)):
                if sniff_image(memoryview(value)[:64]) is None:
                    continue
                if not self.pillow:
                    self.skipped += 1
                    continue
                self.decoded += 1
                reason = image_decode_problem(value)
                if reason is not None:
                    where = "".join(f"[{p!r}]" for p in path)
                    return f"field {where} holds a damaged image, it does not decode ({reason})"
            elif isinstance(value, dict):
                todo.extend((path + (k,), v) for k, v in reversed(value.items()))
            elif isinstance(value, list):
                todo.extend(
                    (path + (i,), v) for i, v in reversed(list(enumerate(value))) if isinstance(v, (bytes, dict, list))
                )
        return None


def _sample_problem(
    piece: memoryview, data: Path | str, index: int, key: str | None, images: _ImageCheck
) -> str | None:
    """Why this packed sample is bad, or ``None`` if it decodes to a map with the right key and
    every image in it decodes."""
    try:
        sample = unpack_sample(piece, path=data, index=index, key=key)
    except (DamagedDataError, FormatError) as exc:
        return str(exc)
    if "key" not in sample:
        return f'{data}: sample {index}: has no "key"'
    problem = images.problem(sample)
    if problem is not None:
        return f"{data}: sample {index} (key {sample['key']!r}): {problem}"
    return None


def verify(
    path: str | os.PathLike, deep: bool = False, *, progress: bool | None = True, **options: Any
) -> VerificationReport:
    """Check a dataset: md5 of every file, the structural checks of :func:`dings.format.verify`
    and, with ``deep``, a decode of every sample.

    With per-sample checksums (``NAME.msgpack.crc32``) every sample is compared with its checksum
    and the damaged ones are named by index and key (``report.damaged``, ``report.damaged_keys``);
    without them ``report.notes`` says so. The deep check reports the first sample that cannot be
    decoded, is not a map, or whose ``"key"`` differs from the index, by index and key, and stops
    there. A damaged or missing
    dataset gives a report listing the problems, not an exception.

    A URL (``https://…``, ``s3://…``) is checked over the network: its index files are fetched
    into a temporary folder and checked like local ones, and the data file is streamed once in
    blocks (never held whole) for its md5 sum and per-sample checksums; ``deep`` reads it once
    more through the remote reader. Nothing of an earlier read (the remote cache) is trusted.

    Args:
        path: the data file (``NAME.msgpack``) or any of its index files, or its URL.
        deep: decode every sample as well (reads and unpacks the whole data file), and every
            encoded image in it (bytes that start with an image signature, with Pillow).
        progress: show progress while hashing and decoding.
        options: for a URL, options of :class:`~dings.readers.RemoteMsgpackReader`
            (``storage_options``, ``retries``, ``backoff``, ``block_size``, timeouts).

    Returns:
        A :class:`VerificationReport`; ``report.ok`` is true only when every check passed.
    """
    if is_url(path):
        return _verify_url(os.fspath(path), deep, progress, options, {})
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


#: what a remote shard's report tells the set's checks: (size, md5 from its md5 file, samples)
_Facts = tuple[int, str | None, int | None]


def _verify_url(
    url: str, deep: bool, progress: bool | None, options: dict[str, Any], facts: dict[str, _Facts]
) -> VerificationReport:
    """:func:`verify` of a data file under a URL; what the set's checks need goes into ``facts``."""
    report = VerificationReport(url, deep=deep)
    remote = issubclass(storage_for(url).reader or MsgpackReader, RemoteMsgpackReader)
    with tempfile.TemporaryDirectory(prefix="dings-verify-") as cache:
        # nothing cached earlier is trusted; samples are checked by the report, not while read
        fresh: dict[str, Any] = {"cache_dir": cache, "cache": "index", "verify": False} if remote else {}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a missing md5 file is a problem of the report
                reader = MsgpackReader(url, **{**fresh, **options})
        except (OSError, FormatError) as exc:  # missing, unreachable, or an index file that fails its md5
            report.problems.append(f"{url}: cannot be checked: {exc}")
            return report
        try:
            _check_fetched(report, reader, url, progress)
            facts[url] = (reader.source.size(), reader.source.checksums().get(url_name(url)), report.length)
            if deep:
                _decode_every_sample(report, reader, url, progress)
        except (OSError, FormatError, UnicodeDecodeError) as exc:
            report.problems.append(f"{url}: cannot be checked: {exc}")
        finally:
            reader.close()
    return report


def _check_fetched(report: VerificationReport, reader: MsgpackReader, url: str, progress: bool | None) -> None:
    """The md5, structural and per-sample checks of a remote data file whose index files were fetched."""
    source = reader.source
    if not isinstance(source, LocalIndexSource):  # a storage of its own: the reader's checks through it
        checked = reader.verify()
        report.problems.extend(checked.problems)
        report.checked.extend(checked.checked)
        report.length = checked.length
        return
    size = source.size()
    digest = source.checksums().get(url_name(url))
    if digest is None:
        report.problems.append(f"{url}{MD5_SUFFIX}: md5 file is missing; integrity cannot be checked")
    # the index files were checked against the md5 file as they were fetched (a mismatch refuses to open)
    base = source.index_base
    structure = VerificationReport(base)
    check_structure(structure, base, size)
    report.problems.extend(problem.replace(str(base), url) for problem in structure.problems)
    report.length = structure.length
    bounds: list[int] | None = None
    expected: list[int] | None = None
    try:
        if structure.length is not None and not structure.problems:
            bounds = reader.offsets.tolist()
            found = load_checksums(base, structure.length)
            expected = None if found is None else found.tolist()
    except (OSError, FormatError) as exc:
        report.problems.append(str(exc).replace(str(base), url))
    md5, bad = _stream_data(reader, url, bounds, expected, progress)
    if digest is not None and md5 != digest:
        report.problems.append(f"{url}: md5 mismatch (the remote data file changed or is damaged since it was written)")
    report.checked.extend(["md5", *structure.checked])
    if bounds is None:
        report.notes.append("per-sample checksums not checked: the offsets are unusable")
        return
    if expected is None:
        report.notes.append(f"{url_name(url)} has no per-sample checksums ({url_name(url)}.crc32)")
        return
    report.checked.append("checksums")
    if bad:
        _name_damaged(report, reader, url, bad, len(expected))


def _stream_data(
    reader: MsgpackReader, url: str, bounds: list[int] | None, expected: list[int] | None, progress: bool | None
) -> tuple[str, list[int]]:
    """One pass over the data file in blocks: its md5 sum and the samples that fail their checksum."""
    source = reader.source
    size, step = source.size(), source.block_size
    md5 = hashlib.md5()
    bad: list[int] = []
    sample, crc = 0, 0
    blocks = range(0, size, step)
    with progress_bar(blocks, desc=f"md5 {url_name(url)}", unit="blocks", enabled=progress) as bar:
        for begin in bar:
            block = memoryview(source.fetch(begin, min(size, begin + step)))
            md5.update(block)
            if bounds is None or expected is None:
                continue
            position, end = begin, begin + len(block)
            while position < end and sample < len(expected):  # checksums carried across blocks
                stop = min(end, bounds[sample + 1])
                crc = zlib.crc32(block[position - begin : stop - begin], crc)
                position = stop
                if stop == bounds[sample + 1]:
                    if crc != expected[sample]:
                        bad.append(sample)
                    sample, crc = sample + 1, 0
    return md5.hexdigest(), bad


def _name_damaged(report: VerificationReport, reader: MsgpackReader, url: str, bad: list[int], count: int) -> None:
    """The problem line for samples that fail their checksum, named by index and key."""
    try:
        keys: list[str] | None = reader.keys
    except (OSError, FormatError):
        keys = None
    report_damaged_samples(report, url, f"{url}.crc32", bad, count, keys)


#: damaged samples named one by one (as dings.format's verify)


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


def _check_label_names(report: VerificationReport, shards: list[str], storage_options: Any = None) -> None:
    """Every shard of a set has the same label names (or none)."""
    first: list[str] | None = None
    for number, shard in enumerate(shards):
        try:
            names = _label_names(shard, storage_options)
        except (OSError, FormatError) as exc:
            report.problems.append(str(exc))
            return
        if number == 0:
            first = names
        elif names != first:
            sidecar = url_name(shard) + ".labels.json" if is_url(shard) else index_path(shard, ".labels.json").name
            report.problems.append(f"{shard}: its label names ({sidecar}) differ from those of {shards[0]}")
            return
    report.checked.append("label names")


def _label_names(shard: str, storage_options: Any) -> list[str] | None:
    """The label names of one shard (a local file or a URL)."""
    if not is_url(shard):
        return load_label_names(shard)
    return resolve_dataset(shard, storage_options=storage_options).label_names()  # a data URL: no request


def _check_remote_manifest(
    manifest: str, shards: list[str], facts: dict[str, _Facts], options: dict[str, Any]
) -> VerificationReport:
    """Compare a manifest under a URL with what the shards' checks found: sizes, md5 sums, counts.

    The shards are those the manifest lists (a URL folder cannot be listed for others).
    """
    report = VerificationReport(manifest)
    retry = RetryPolicy(options.get("retries", 3), options.get("backoff", 0.5))
    try:
        remote = RemoteFiles(manifest, options.get("storage_options"), retry)
        content = remote.cat(manifest, "the manifest", max_size=MAX_JSON_BYTES)
        parsed = parse_manifest(content, manifest, name=url_name(manifest)[: -len(MANIFEST_SUFFIX)])
    except (OSError, FormatError) as exc:
        report.problems.append(str(exc))
        return report
    report.length = parsed["samples"]
    if len(parsed["shards"]) != len(shards):
        report.problems.append(f"{manifest}: lists {len(parsed['shards'])} shards now, {len(shards)} when read first")
        return report
    for number, (record, shard) in enumerate(zip(parsed["shards"], shards)):
        where = f"{manifest}: shards[{number}] {record['name']}"
        if shard not in facts:
            report.problems.append(f"{where}: could not be read (see the report of {shard})")
            continue
        size, md5, samples = facts[shard]
        if size != record["size"]:
            report.problems.append(f"{where}: is {size:,} bytes, the manifest says {record['size']:,}")
        if md5 != record["md5"]:
            report.problems.append(f"{where}: its md5 file says {md5}, the manifest says {record['md5']}")
        if samples is not None and samples != record["samples"]:
            report.problems.append(f"{where}: holds {samples:,} samples, the manifest says {record['samples']:,}")
    report.checked.append("manifest")
    return report


def _manifest_path(spec: DatasetSpec) -> Path | None:
    """The manifest a spec names (a manifest file, or the one in a folder), without reading it."""
    if not isinstance(spec, (str, os.PathLike)):
        return None
    path = Path(spec)
    if path.name.endswith(MANIFEST_SUFFIX):
        return path
    found = sorted(path.glob("*" + MANIFEST_SUFFIX)) if path.is_dir() else []
    return found[0] if len(found) == 1 else None


def verify_dataset(
    spec: DatasetSpec, deep: bool = False, *, progress: bool | None = True, **options: Any
) -> list[VerificationReport]:
    """Check every shard of a dataset (see :func:`verify`), its manifest and its sidecars.

    Shards under a URL are checked over the network (see :func:`verify`), a partitioned set
    under a URL through its manifest.

    Args:
        spec: a data file, shard pattern, folder, manifest, a URL of any of these, or a list of them.
        deep: decode every sample of every shard, and the images in them, as well.
        progress: show progress while hashing and decoding.
        options: for URLs, options of :class:`~dings.readers.RemoteMsgpackReader`
            (``storage_options``, ``retries``, ``backoff``, ``block_size``, timeouts).

    Returns:
        One :class:`VerificationReport` per shard, in order; for a set of several shards one more
        (its ``path`` the manifest, or the spec) with the manifest's checks (names, sample counts,
        sizes and md5 sums of the shards) and the label names' agreement. Every check passed when
        every report is ``ok``.

    Raises:
        FileNotFoundError: a pattern or folder names no dataset (a missing data file is a report).
    """
    storage_options = options.get("storage_options")
    try:
        resolved = resolve_dataset(spec, storage_options=storage_options)
    except FileNotFoundError:
        if not isinstance(spec, (str, os.PathLike)) or any(c in os.fspath(spec) for c in "*?[{"):
            raise
        return [verify(spec, deep, progress=progress, **options)]  # a report that says the data file is missing
    except FormatError as exc:  # a damaged manifest (reported below): check the shards next to it all the same
        if is_url(spec):  # a URL folder cannot be listed: the manifest was the only way to its shards
            report = VerificationReport(os.fspath(spec))  # type: ignore[arg-type]  # is_url: a str
            report.problems.append(str(exc))
            return [report]
        manifest = _manifest_path(spec)
        if manifest is None:
            raise
        shards = sorted((str(p) for p in manifest.parent.glob("*.msgpack")), key=natural_sort_key)
        remote_manifest = None
    else:
        shards = list(resolved.shards)
        local = resolved.manifest is not None and not is_url(resolved.manifest)
        manifest = Path(resolved.manifest) if local else None  # type: ignore[arg-type]  # checked
        remote_manifest = resolved.manifest if not local else None
    facts: dict[str, _Facts] = {}
    reports = [
        _verify_url(shard, deep, progress, options, facts) if is_url(shard) else verify(shard, deep, progress=progress)
        for shard in shards
    ]
    if len(shards) > 1 or manifest is not None or remote_manifest is not None:
        if manifest is not None:
            folder = sorted((str(p) for p in manifest.parent.glob("*.msgpack")), key=natural_sort_key)
            whole = _check_manifest(manifest, folder)
        elif remote_manifest is not None:
            whole = _check_remote_manifest(remote_manifest, shards, facts, options)
        else:
            where = spec if isinstance(spec, (str, os.PathLike)) else ", ".join(os.fspath(p) for p in spec)
            whole = VerificationReport(os.fspath(where) if is_url(where) else Path(where))
            whole.length = sum(report.length or 0 for report in reports)
        _check_label_names(whole, shards, storage_options)
        reports.append(whole)
    return reports
