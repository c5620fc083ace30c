"""Writing one sharded dataset from independent partitions (tasks, machines, ranks), then committing it whole.

A job splits its samples into numbered *partitions*. Each partition is written on its own (by any
process on any machine sharing the folder) with :meth:`PartitionedOutput.write_partition` into a
staging folder next to the output, as complete shards named after the partition number
(``NAME-<partition>-<shard>.msgpack``), never after the attempt: a retried task replaces exactly
its own shards (one :class:`ShardedWriter` commit per partition). Next to its shards a partition
leaves a *record* (its shards, sample counts, md5 digests and a fingerprint of what it was made
from) and its keys' hashes. When every partition is there, :meth:`PartitionedOutput.commit` checks
that keys are unique across all partitions, writes the manifest (``NAME.manifest.json``) and moves
every shard and the manifest into place in one commit of :mod:`dings.format.commit`.

A partition whose record matches its fingerprint and whose files match their md5 digests is
skipped when the job runs again (:meth:`PartitionedOutput.verified`): an interrupted job resumes.

Records and manifests are untrusted files (a shared staging folder, a downloaded dataset): they are
read only through :meth:`PartitionRecord.from_json` and :func:`parse_manifest`, which accept
nothing but the writer's own shard names and well-typed fields. A job holds :class:`OutputLock`
(``NAME.lock``) from before its first partition until after its commit, so two jobs never mix.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import stat
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from .commit import Commit, DatasetFiles, check_committed, dataset_files, temp_path, write_synced
from .errors import DamagedDataError, DuplicateKeyError, OutputLockedError
from .index import hash_many, keys_len, load_keys, load_md5, md5_file
from .label_names import label_names_content
from .paths import (
    CHECKSUMS_SUFFIX,
    INDEX_SUFFIXES,
    LABEL_NAMES_SUFFIX,
    LEGACY_INDEX_SUFFIX,
    MANIFEST_SUFFIX,
    MD5_SUFFIX,
    index_path,
)
from .sharded import ShardedWriter
from .writer import ask_overwrite

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: partitioned writes are not locked
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "LOCK_SUFFIX",
    "MANIFEST_SUFFIX",
    "MAX_JSON_BYTES",
    "OutputLock",
    "PartitionRecord",
    "PartitionedOutput",
    "ShardRecord",
    "check_unique_keys",
    "fingerprint",
    "key_hashes_of",
    "load_manifest",
    "manifest_content",
    "output_prefix",
    "parse_manifest",
    "shard_name_error",
    "wait_for_records",
]

#: the staging folder's suffix: ``NAME.partial/`` next to the shards
STAGING_SUFFIX = ".partial"
#: the lock file of a partitioned output: ``NAME.lock`` next to its shards (never removed)
LOCK_SUFFIX = ".lock"
#: largest record or manifest read (a manifest of a million shards is about 150 MB)
MAX_JSON_BYTES = 256 << 20
#: largest count (samples, sizes, partitions) a record or manifest may hold
_MAX_COUNT = 2**63 - 1
#: salt of the keys' hashes that partitions leave for the uniqueness check (the same in every
#: partition, unlike the per-dataset salt of ``.key_hashes`` files)
KEY_SALT = b"dingsprt"
_VERSION = 1
#: files of one shard in the order a commit renames them (data first, md5 last)
_SHARD_SUFFIXES = ("",) + INDEX_SUFFIXES + (CHECKSUMS_SUFFIX, MD5_SUFFIX)


def output_prefix(path: str | os.PathLike) -> str:
    """The common prefix of a partitioned dataset's files, from a data file path or a folder.

    ``out/train.msgpack`` → ``out/train`` (shards ``out/train-00000-00000.msgpack`` …);
    ``out/train`` (a folder) → ``out/train/train`` (shards ``out/train/train-00000-00000.msgpack`` …).
    Works on URLs as well (``s3://bucket/train`` → ``s3://bucket/train/train``).
    """
    text = os.fspath(path).rstrip("/")
    if "{" in text or "*" in text:
        raise ValueError(f"{text}: give a data file path (NAME.msgpack) or a folder, not a pattern")
    if text.endswith(".msgpack"):
        return text[: -len(".msgpack")]
    name = text.rsplit("/", 1)[-1]
    if not name:
        raise ValueError(f"{path!r}: no dataset name in this path")
    return f"{text}/{name}"


def fingerprint(value: Any) -> str:
    """A short digest of ``repr(value)``: what a partition was made from (for resuming)."""
    return hashlib.blake2b(repr(value).encode("utf-8"), digest_size=16).hexdigest()


def key_hashes_of(keys: Sequence[str]) -> np.ndarray:
    """The keys' 64-bit hashes with the partitions' common salt, sorted (uint64)."""
    return np.sort(hash_many(list(keys), KEY_SALT).astype(np.uint64))


_HEX32 = re.compile(r"[0-9a-f]{32}")
#: what a shard's md5 map may name besides its data file (the files its commit renames)
_MD5_SUFFIXES = ("",) + INDEX_SUFFIXES + (CHECKSUMS_SUFFIX,)
_RECORD_ADVICE = "delete it and run the job again (the partition is rewritten)"
_MANIFEST_ADVICE = "the manifest is damaged or was not written by dings; do not read this dataset through it"


def shard_name_error(value: object, name: str | None = None, partition: int | None = None) -> str | None:
    """Why ``value`` is not a shard name a partitioned writer produces, or ``None`` when it is one.

    A shard name is a plain file name ``NAME-<partition>-<shard>.msgpack`` (numbers of at least 5
    digits): no folder, no ``..``, no ``/``, ``\\`` or NUL, never absolute.

    Args:
        value: the name to check (from an untrusted record or manifest).
        name: the dataset's name ``NAME``, when known.
        partition: the partition the shard must belong to, when known.
    """
    if not isinstance(value, str):
        return f"is {_show(value)}, not a file name"
    if any(c in value for c in "/\\\0") or value in (".", "..") or os.path.isabs(value):
        return f"is {_show(value)}, not a plain file name inside the dataset"
    match = re.fullmatch(r"(.+)-([0-9]{5,})-([0-9]{5,})\.msgpack", value)
    if match is None or (name is not None and match[1] != name):
        return f"is {_show(value)}, not a shard name {name or 'NAME'}-<partition>-<shard>.msgpack"
    if partition is not None and match[2] != f"{partition:05d}":
        return f"is {_show(value)}, not a shard of partition {partition}"
    return None


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Fields:
    """Reads the fields of untrusted JSON; every problem is a one-line ``DamagedDataError``."""

    def __init__(self, where: str, advice: str) -> None:
        self.where = where
        self.advice = advice

    def fail(self, field: str, problem: str) -> NoReturn:
        raise DamagedDataError(f"{self.where}: {field} {problem}; {self.advice}", path=self.where)

    def parse(self, content: bytes | str, what: str) -> dict[str, Any]:
        try:
            value = json.loads(content)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            raise DamagedDataError(
                f"{self.where}: not a dings {what} (not JSON: {str(exc)[:80]}); {self.advice}", path=self.where
            ) from None
        if not isinstance(value, dict):
            raise DamagedDataError(
                f"{self.where}: not a dings {what} (not a JSON object); {self.advice}", path=self.where
            )
        return value

    def get(self, obj: dict[str, Any], key: str, field: str) -> Any:
        if key not in obj:
            self.fail(field, "is missing")
        return obj[key]

    def count(self, obj: dict[str, Any], key: str, field: str) -> int:
        value = self.get(obj, key, field)
        if type(value) is not int or not 0 <= value <= _MAX_COUNT:
            self.fail(field, f"is {_show(value)}, not a whole number from 0 to 2**63 - 1")
        return value

    def text(self, obj: dict[str, Any], key: str, field: str) -> str:
        value = self.get(obj, key, field)
        if not isinstance(value, str):
            self.fail(field, f"is {_show(value)}, not a string")
        return value

    def objects(self, obj: dict[str, Any], key: str, field: str) -> list[dict[str, Any]]:
        value = self.get(obj, key, field)
        if not isinstance(value, list):
            self.fail(field, f"is {_show(value)}, not a list")
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                self.fail(f"{field}[{i}]", f"is {_show(item)}, not a JSON object")
        return value

    def shard_name(self, obj: dict[str, Any], field: str, name: str | None, partition: int | None) -> str:
        value = self.get(obj, "name", field)
        problem = shard_name_error(value, name, partition)
        if problem is not None:
            self.fail(field, problem)
        return value

    def md5(self, value: object, field: str) -> str:
        if not isinstance(value, str) or not _HEX32.fullmatch(value):
            self.fail(field, f"is {_show(value)}, not an md5 digest (32 hex digits)")
        return value

    def version(self, obj: dict[str, Any], key: str, what: str) -> None:
        value = obj.get(key)
        if type(value) is not int or value != _VERSION:
            self.fail(key, f"is {_show(value)}: not a dings {what} of version {_VERSION}")


def _read_small(path: Path, what: str, advice: str) -> bytes:
    """The content of a record or manifest: a regular file of at most ``MAX_JSON_BYTES``.

    Raises:
        FileNotFoundError: there is none.
        DamagedDataError: not a regular file, or too large.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))  # a FIFO must not block
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise DamagedDataError(f"{path}: {what} is not a regular file; {advice}", path=path)
        if info.st_size > MAX_JSON_BYTES:
            raise DamagedDataError(
                f"{path}: {what} of {info.st_size} bytes is larger than {MAX_JSON_BYTES} bytes; {advice}", path=path
            )
        with os.fdopen(os.dup(fd), "rb") as file:
            return file.read(MAX_JSON_BYTES + 1)
    finally:
        os.close(fd)


def _hashes(path: Path, samples: int, partition: int) -> np.ndarray:
    """A partition's key hashes: a regular file of exactly 8 bytes a sample."""
    advice = "run the job again to rewrite the partition"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: key hashes of partition {partition} are missing; {advice}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size != 8 * samples:
            raise DamagedDataError(
                f"{path}: key hashes of partition {partition} are not a file of {8 * samples} bytes; {advice}",
                path=path,
            )
        with os.fdopen(os.dup(fd), "rb") as file:
            content = file.read(8 * samples + 1)
    finally:
        os.close(fd)
    if len(content) != 8 * samples:
        raise DamagedDataError(f"{path}: key hashes of partition {partition} changed while read; {advice}", path=path)
    return np.frombuffer(content, dtype=">u8").astype(np.uint64)


@dataclass
class ShardRecord:
    """One shard of a partition: its data file name, sample count, data size and md5 digests."""

    name: str
    samples: int
    size: int
    md5: dict[str, str] = field(default_factory=dict)


@dataclass
class PartitionRecord:
    """What one partition wrote (JSON ``NAME-<partition>.partition.json`` in the staging folder).

    Attributes:
        partition: the partition number.
        fingerprint: what the partition was made from (see :func:`fingerprint`).
        samples: number of samples.
        shards: its shards in order.
    """

    partition: int
    fingerprint: str
    samples: int
    shards: list[ShardRecord]

    def to_json(self) -> str:
        """The record as JSON text."""
        return json.dumps({"dings-partition": _VERSION, **asdict(self)}, sort_keys=True)

    @classmethod
    def from_json(
        cls,
        text: str | bytes,
        where: str = "partition record",
        *,
        name: str | None = None,
        partition: int | None = None,
    ) -> PartitionRecord:
        """Parse and check a record written by :meth:`to_json` (an untrusted file).

        Every field must have its type, counts are whole numbers from 0, md5 digests 32 hex digits,
        and shard names plain file names ``NAME-<partition>-<shard>.msgpack`` of this partition.

        Args:
            text: the record's content.
            where: the record's path or URL, named in errors.
            name: the dataset's name ``NAME`` that shard names must start with, when known.
            partition: the partition the record must describe, when known.

        Raises:
            DamagedDataError: not a valid record; the message names ``where`` and the field.
        """
        fields = _Fields(where, _RECORD_ADVICE)
        content = fields.parse(text, "partition record")
        fields.version(content, "dings-partition", "partition record")
        number = fields.count(content, "partition", "partition")
        if partition is not None and number != partition:
            fields.fail("partition", f"is {number}, but the record belongs to partition {partition}")
        shards = []
        seen: set[str] = set()
        for i, shard in enumerate(fields.objects(content, "shards", "shards")):
            at = f"shards[{i}]"
            shard_name = fields.shard_name(shard, f"{at}.name", name, number)
            if shard_name in seen:
                fields.fail(f"{at}.name", f"is {_show(shard_name)}, which an earlier shard has")
            seen.add(shard_name)
            md5 = fields.get(shard, "md5", f"{at}.md5")
            if not isinstance(md5, dict) or shard_name not in md5:
                fields.fail(f"{at}.md5", f"is {_show(md5)}, not a map of the shard's files to md5 digests")
            for file, digest in md5.items():
                if not any(file == shard_name + suffix for suffix in _MD5_SUFFIXES):
                    fields.fail(f"{at}.md5", f"names {_show(file)}, not a file of shard {shard_name}")
                fields.md5(digest, f"{at}.md5[{file!r}]")
            shards.append(
                ShardRecord(
                    shard_name,
                    fields.count(shard, "samples", f"{at}.samples"),
                    fields.count(shard, "size", f"{at}.size"),
                    dict(md5),
                )
            )
        fingerprint = fields.text(content, "fingerprint", "fingerprint")
        samples = fields.count(content, "samples", "samples")
        if samples != sum(s.samples for s in shards):
            fields.fail("samples", f"is {samples}, but its shards hold {sum(s.samples for s in shards)}")
        return cls(number, fingerprint, samples, shards)


def manifest_content(records: Sequence[PartitionRecord]) -> dict[str, Any]:
    """The manifest of a dataset made of ``records`` (see docs/FORMAT.md)."""
    ordered = sorted(records, key=lambda r: r.partition)
    shards = [
        {"name": s.name, "partition": r.partition, "samples": s.samples, "size": s.size, "md5": s.md5[s.name]}
        for r in ordered
        for s in r.shards
    ]
    return {
        "dings-manifest": _VERSION,
        "samples": sum(r.samples for r in ordered),
        "partitions": len(ordered),
        "shards": shards,
    }


def parse_manifest(content: bytes | str, where: str, *, name: str | None = None) -> dict[str, Any]:
    """Parse and check a manifest (an untrusted file; see docs/FORMAT.md).

    Every field must have its type, counts are whole numbers from 0, md5 digests 32 hex digits,
    and every shard name a plain file name ``NAME-<partition>-<shard>.msgpack`` of its partition.

    Args:
        content: the manifest's bytes or text.
        where: its path or URL, named in errors.
        name: the dataset's name ``NAME`` that shard names must start with, when known.

    Returns:
        The manifest's content.

    Raises:
        DamagedDataError: not a valid manifest; the message names ``where`` and the field.
    """
    fields = _Fields(where, _MANIFEST_ADVICE)
    manifest = fields.parse(content, "manifest")
    fields.version(manifest, "dings-manifest", "manifest")
    seen: set[str] = set()
    numbers: set[int] = set()
    total = 0
    entries = fields.objects(manifest, "shards", "shards")
    # the entries a writer produces pass a few whole-list tests (a manifest may list 10,000s of
    # shards); anything else takes the field-by-field checks, which name the problem
    if name is not None and _writer_entries(entries, name):
        entries, numbers, total = [], {s["partition"] for s in entries}, sum(s["samples"] for s in entries)
    for i, shard in enumerate(entries):
        at = f"shards[{i}]"
        partition = fields.count(shard, "partition", f"{at}.partition")
        shard_name = fields.shard_name(shard, f"{at}.name", name, None)
        problem = shard_name_error(shard_name, name, partition)
        if problem is not None:
            fields.fail(f"{at}.partition", f"is {partition}, but {at}.name {problem}")
        if shard_name in seen:
            fields.fail(f"{at}.name", f"is {_show(shard_name)}, which an earlier shard has")
        seen.add(shard_name)
        numbers.add(partition)
        total += fields.count(shard, "samples", f"{at}.samples")
        fields.count(shard, "size", f"{at}.size")
        fields.md5(fields.get(shard, "md5", f"{at}.md5"), f"{at}.md5")
    if fields.count(manifest, "samples", "samples") != total:
        fields.fail("samples", f"is {manifest['samples']}, but its shards hold {total}")
    if fields.count(manifest, "partitions", "partitions") < len(numbers):
        fields.fail("partitions", f"is {manifest['partitions']}, but its shards come from {len(numbers)}")
    return manifest


def _writer_entries(entries: list[dict[str, Any]], name: str) -> bool:
    """Whether every manifest entry is exactly what a writer produces: the right types and ranges,
    md5 digests, unique names ``NAME-<partition>-<shard>.msgpack`` of their partitions."""
    if not entries or any(c in name for c in "/\\\n\0"):
        return False
    try:
        names, partitions = [s["name"] for s in entries], [s["partition"] for s in entries]
        counts = [s["samples"] for s in entries] + [s["size"] for s in entries] + partitions
        digests = [s["md5"] for s in entries]
    except KeyError:
        return False
    if set(map(type, counts)) != {int} or set(map(type, names)) != {str} or set(map(type, digests)) != {str}:
        return False
    if min(counts) < 0 or max(counts) > _MAX_COUNT or len(set(names)) != len(names):
        return False
    if set(map(len, digests)) != {32} or not re.fullmatch(r"(?:[0-9a-f]{32}\n)*[0-9a-f]{32}", "\n".join(digests)):
        return False
    one = re.escape(name) + r"-([0-9]{5,})-[0-9]{5,}\.msgpack"
    joined = "\n".join(names)  # a name holding a newline makes the whole test fail
    if not re.fullmatch(f"(?:{one}\n)*{one}", joined):
        return False
    return re.findall(one, joined) == [f"{p:05d}" for p in partitions]


def load_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """Load and check a manifest: the output's data file path or folder, or the manifest file itself.

    Raises:
        FileNotFoundError: no manifest (the dataset was not written in partitions, or its commit
            did not finish).
        DamagedDataError: not a valid dings manifest (see :func:`parse_manifest`).
    """
    text = os.fspath(path)
    manifest = Path(text if text.endswith(MANIFEST_SUFFIX) else output_prefix(text) + MANIFEST_SUFFIX)
    try:
        content = _read_small(manifest, "the manifest", _MANIFEST_ADVICE)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{manifest}: no manifest; was this dataset written in partitions, and did its commit finish?"
        ) from None
    return parse_manifest(content, str(manifest), name=manifest.name[: -len(MANIFEST_SUFFIX)])


def check_unique_keys(
    hashes: Sequence[np.ndarray], keys_of: Callable[[int], Iterable[str]], names: Sequence[str]
) -> None:
    """Raise if a key occurs in more than one partition.

    Holds 8 bytes per key (plus a sorted copy): about 230 MB for 14 million keys. Equal hashes are
    confirmed on the keys themselves (a 64-bit collision of different keys is not an error).

    Args:
        hashes: per partition, its keys' sorted hashes (see :func:`key_hashes_of`).
        keys_of: partition position → its keys (only called for partitions with equal hashes).
        names: per partition, how to name it in the error.

    Raises:
        DuplicateKeyError: names the key and both partitions.
    """
    if not hashes:
        return
    owners = np.concatenate([np.full(len(h), i, dtype=np.int32) for i, h in enumerate(hashes)])
    every = np.concatenate(hashes) if len(hashes) > 1 else hashes[0]
    order = np.argsort(every, kind="stable")
    ordered = every[order]
    same = np.flatnonzero(ordered[1:] == ordered[:-1])
    if not len(same):
        return
    suspects = {int(owners[order[i]]) for i in same} | {int(owners[order[i + 1]]) for i in same}
    seen: dict[str, int] = {}
    for position in sorted(suspects):
        for key in keys_of(position):
            first = seen.setdefault(key, position)
            if first != position:
                raise DuplicateKeyError(
                    f"key {key!r} is in {names[first]} and in {names[position]}; keys must be unique across partitions"
                )


class PartitionedOutput:
    """The files of a dataset written in partitions: staging folder, final shards and manifest.

    Picklable (paths only): hand it to the processes that write partitions.

    Args:
        path: the output, a data file path ``out/train.msgpack`` or a folder ``out/train`` (see
            :func:`output_prefix`).
        max_samples: most samples per shard (``None``: no limit; one shard per partition unless
            ``max_bytes`` splits it).
        max_bytes: most bytes of packed samples per shard.
        allow_unsafe: also write object-dtype arrays (stored with pickle).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        max_samples: int | None = None,
        max_bytes: int | None = None,
        allow_unsafe: bool = False,
    ) -> None:
        self.output = os.fspath(path)
        self.prefix = Path(output_prefix(path))
        self.folder = self.prefix.parent
        self.name = self.prefix.name
        self.staging = self.prefix.with_name(self.name + STAGING_SUFFIX)
        self.manifest = self.prefix.with_name(self.name + MANIFEST_SUFFIX)
        self.lock_path = self.prefix.with_name(self.name + LOCK_SUFFIX)
        self.max_samples = max_samples
        self.max_bytes = max_bytes
        self.allow_unsafe = allow_unsafe
        self._shard_name = re.compile(re.escape(self.name) + r"-(\d+)-(\d+)\.msgpack\Z")
        # what a new set replaces: partitioned shards, and shards of a ShardedWriter set of the same
        # name (NAME-00000.msgpack …), which the same glob NAME-*.msgpack would mix in
        self._set_name = re.compile(re.escape(self.name) + r"-\d+(?:-\d+)?\.msgpack\Z")

    def __repr__(self) -> str:
        return f"PartitionedOutput({str(self.prefix)!r})"

    def partition_name(self, partition: int) -> str:
        """``NAME-<partition>``: the start of the partition's shard names."""
        if partition < 0:
            raise ValueError(f"partition numbers start at 0, got {partition}")
        return f"{self.name}-{partition:05d}"

    def record_path(self, partition: int) -> Path:
        """The partition's record in the staging folder."""
        return self.staging / (self.partition_name(partition) + ".partition.json")

    def hashes_path(self, partition: int) -> Path:
        """The partition's key hashes in the staging folder (sorted uint64, big-endian)."""
        return self.staging / (self.partition_name(partition) + ".keyhashes")

    def existing(self) -> list[Path]:
        """Data files of a set committed here earlier (``NAME-<partition>-<shard>.msgpack``, or
        ``NAME-<shard>.msgpack`` of a :class:`ShardedWriter`)."""
        if not self.folder.is_dir():
            return []
        return sorted(self.folder / n for n in os.listdir(self.folder) if self._set_name.match(n))

    def check_overwrite(self, overwrite: bool) -> None:
        """Refuse (or ask about) an existing dataset here before any work is done (with ``overwrite``
        nothing is looked at)."""
        existing = [] if overwrite else self.existing()
        if existing:
            ask_overwrite(existing[0], f"sharded dataset ({len(existing)} shard(s))")

    def lock(self, job: str | None = None) -> OutputLock:
        """The lock that keeps other jobs out of this output (see :class:`OutputLock`).

        Args:
            job: what the processes of one job share (the ranks of a job); ``None``: this process
                alone.
        """
        return OutputLock(self.lock_path, job, output=self.output)

    def load_record(self, partition: int) -> PartitionRecord | None:
        """The partition's record, or ``None`` when it has none.

        Raises:
            DamagedDataError: the record is not a valid record of this partition (names the field).
        """
        path = self.record_path(partition)
        try:
            content = _read_small(path, "partition record", _RECORD_ADVICE)
        except FileNotFoundError:
            return None
        return PartitionRecord.from_json(content, str(path), name=self.name, partition=partition)

    def _check_staging(self) -> None:
        if self.staging.is_symlink() or (self.staging.exists() and not self.staging.is_dir()):
            raise DamagedDataError(
                f"{self.staging}: the staging folder is not a folder (a link?); remove it and run the job again",
                path=self.staging,
            )

    def verified(self, partition: int, fingerprint: str, *, check_data: bool = True) -> PartitionRecord | None:
        """The partition's record if it was made from ``fingerprint`` and its files are intact.

        Args:
            partition: the partition number.
            fingerprint: what the partition is made from now.
            check_data: compare every file's md5 with the record (reads the data); otherwise only
                sizes and the md5 files.
        """
        try:
            record = self.load_record(partition)
        except DamagedDataError:
            return None  # rewritten
        if record is None or record.fingerprint != fingerprint:
            return None
        hashes = self.hashes_path(partition)
        if not hashes.is_file() or hashes.stat().st_size != 8 * record.samples:
            return None
        for shard in record.shards:
            data = self.staging / shard.name
            try:
                check_committed(data)
                if data.stat().st_size != shard.size or load_md5(data) != shard.md5:
                    return None
                if check_data and any(md5_file(self.staging / name) != digest for name, digest in shard.md5.items()):
                    return None
            except (OSError, ValueError):
                return None
        return record

    def write_partition(
        self, partition: int, samples: Iterable[dict], fingerprint: str = "", *, progress: bool | None = False
    ) -> PartitionRecord:
        """Write one partition's samples as complete shards in the staging folder.

        Replaces whatever an earlier attempt of the same partition left (its shards go in the same
        commit); other partitions are not touched. The record is written last.

        Args:
            partition: the partition number (0, 1, …): shard names derive from it.
            samples: dicts with a str ``"key"``, unique across the whole dataset.
            fingerprint: what the partition is made from (see :func:`fingerprint`).
            progress: show a progress line.

        Returns:
            The partition's record.

        Raises:
            DuplicateKeyError, InvalidSampleError, UnsafeDataError: as :class:`FileWriter`; the
                partition is left without a record.
        """
        self.staging.mkdir(parents=True, exist_ok=True)
        self._check_staging()
        self.record_path(partition).unlink(missing_ok=True)  # the old record no longer describes what is there
        pattern = str(self.staging / (self.partition_name(partition) + "-{index:05d}.msgpack"))
        limit = self.max_samples if self.max_samples is not None or self.max_bytes is not None else 2**32 - 1
        keys: list[str] = []
        writer: ShardedWriter | None = None
        try:
            for sample in samples:
                if writer is None:
                    writer = ShardedWriter(
                        pattern,
                        max_samples=limit,
                        max_bytes=self.max_bytes,
                        overwrite=True,
                        progress=progress,
                        allow_unsafe=self.allow_unsafe,
                    )
                writer.write(sample)
                keys.append(sample["key"])
            if writer is None:  # an empty partition: no shards (an earlier attempt's go)
                self._remove_staged_shards(partition)
                shards: list[Path] = []
            else:
                writer.close()
                shards = writer.shards
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        records = [ShardRecord(p.name, keys_len(p), p.stat().st_size, load_md5(p)) for p in shards]
        record = PartitionRecord(partition, fingerprint, len(keys), records)
        _replace(self.hashes_path(partition), key_hashes_of(keys).astype(">u8").tobytes())
        _replace(self.record_path(partition), record.to_json().encode("utf-8"))
        return record

    def _remove_staged_shards(self, partition: int) -> None:
        start = self.partition_name(partition) + "-"
        for name in os.listdir(self.staging):
            if name.startswith(start) and self._shard_name.match(name):
                for file in dataset_files(self.staging / name):
                    file.unlink(missing_ok=True)

    def wait_for(
        self, partitions: Sequence[int], fingerprints: Sequence[str], *, timeout: float, poll: float = 0.5
    ) -> list[PartitionRecord]:
        """Wait until every partition has a record made from its fingerprint (for rank 0 of a job).

        Raises:
            TimeoutError: names the partitions still missing after ``timeout`` seconds.
            DamagedDataError: a record is not a valid record of its partition (at once).
        """
        return wait_for_records(
            self.load_record, partitions, fingerprints, str(self.staging), timeout=timeout, poll=poll
        )

    def commit(
        self,
        records: Sequence[PartitionRecord],
        *,
        overwrite: bool = False,
        label_names: Sequence[str] | None = None,
        drop_label_names: bool = False,
    ) -> dict[str, Any]:
        """Check keys, write the manifest and move every partition's shards into place at once.

        Shards of an older set here that the new one does not replace are removed in the same
        commit; the staging folder is removed afterwards.

        Args:
            records: one per partition (from :meth:`write_partition` or :meth:`verified`).
            overwrite: replace an existing set without asking.
            label_names: names of the int labels: every shard's label-names sidecar is committed
                with it, bound to its data (``None``: sidecars of the shards replaced stay, stale).
            drop_label_names: without ``label_names``, remove the sidecars of the shards replaced.

        Returns:
            The manifest's content.

        Raises:
            DamagedDataError: a record names a file that is not one of its own shards, or a staged
                file is not a regular file of the recorded size; nothing is moved.
            DuplicateKeyError: a key is in two partitions; nothing is moved (the staging folder stays).
            FileNotFoundError: a partition's shard is missing from the staging folder.
        """
        ordered = sorted(_checked(records, self.name, lambda p: str(self.record_path(p))), key=lambda r: r.partition)
        numbers = [r.partition for r in ordered]
        if len(set(numbers)) != len(numbers):
            raise ValueError(f"{self.prefix}: a partition was given twice: {numbers}")
        self.check_overwrite(overwrite)
        self._check_staging()
        hashes = [_hashes(self.hashes_path(r.partition), r.samples, r.partition) for r in ordered]

        def keys_of(position: int) -> Iterable[str]:
            for shard in ordered[position].shards:
                yield from load_keys(self.staging / shard.name)

        check_unique_keys(hashes, keys_of, [f"partition {n} ({self.staging})" for n in numbers])
        temporaries: list[Path] = []  # written here, removed unless committed
        try:
            return self._commit(ordered, temporaries, label_names, drop_label_names)
        except BaseException:
            for path in temporaries:
                path.unlink(missing_ok=True)
            raise

    def _commit(
        self,
        ordered: list[PartitionRecord],
        temporaries: list[Path],
        label_names: Sequence[str] | None,
        drop_label_names: bool,
    ) -> dict[str, Any]:
        datasets: list[DatasetFiles] = []
        for record in ordered:
            for shard in record.shards:
                staged = self.staging / shard.name
                check_committed(staged)
                try:
                    info = staged.lstat()
                except FileNotFoundError:
                    raise FileNotFoundError(
                        f"{staged}: shard of partition {record.partition} is missing; run the job again to rewrite it"
                    ) from None
                if not stat.S_ISREG(info.st_mode) or info.st_size != shard.size:
                    raise DamagedDataError(
                        f"{staged}: shard of partition {record.partition} is not a regular file of {shard.size} bytes "
                        "as its record says; run the job again to rewrite it",
                        path=staged,
                    )
                final = self.folder / shard.name
                renames = [
                    (index_path(staged, s) if s else staged, index_path(final, s) if s else final)
                    for s in _SHARD_SUFFIXES
                ]
                renames = [(t, f) for t, f in renames if t.exists()]
                remove = [index_path(final, LEGACY_INDEX_SUFFIX)]
                labels = index_path(final, LABEL_NAMES_SUFFIX)
                if label_names is None:
                    if drop_label_names:
                        remove.append(labels)
                else:  # before the md5 file, which is renamed last
                    sidecar = temp_path(labels)
                    write_synced(sidecar, label_names_content(label_names, load_md5(staged).get(staged.name)))
                    temporaries.append(sidecar)
                    md5 = [i for i, (_, f) in enumerate(renames) if f.name.endswith(MD5_SUFFIX)]
                    renames.insert(md5[0] if md5 else len(renames), (sidecar, labels))
                datasets.append(DatasetFiles(final, renames, remove))
        if not datasets:
            raise ValueError(f"{self.prefix}: no partition wrote a sample; nothing to commit")
        manifest = manifest_content(ordered)
        tmp = temp_path(self.manifest)
        temporaries.append(tmp)
        write_synced(tmp, (json.dumps(manifest, indent=1) + "\n").encode("utf-8"))
        datasets[-1].renames.append((tmp, self.manifest))  # the manifest appears last
        new = {d.path for d in datasets}
        # a stale shard goes with its label names (a sidecar the dataset files do not list)
        stale = [
            DatasetFiles(p, [], dataset_files(p) + [index_path(p, LABEL_NAMES_SUFFIX)])
            for p in self.existing()
            if p not in new
        ]
        transaction = Commit(datasets + stale)
        try:
            transaction.run()
        except BaseException:
            if transaction.committed:
                temporaries.clear()  # they belong to the journal now
            raise
        shutil.rmtree(self.staging, ignore_errors=True)
        return manifest

    def discard(self) -> None:
        """Remove the staging folder (every partition written so far)."""
        shutil.rmtree(self.staging, ignore_errors=True)


def _checked(records: Iterable[PartitionRecord], name: str, where: Callable[[int], str]) -> list[PartitionRecord]:
    """``records`` checked as if read from their files (they may come from other processes)."""
    checked = []
    for record in records:
        number = record.partition
        place = where(number) if isinstance(number, int) and number >= 0 else f"record of partition {number!r}"
        try:
            text = record.to_json()
        except (TypeError, ValueError):
            raise DamagedDataError(
                f"{place}: not a partition record of JSON values; {_RECORD_ADVICE}", path=place
            ) from None
        checked.append(PartitionRecord.from_json(text, place, name=name, partition=None))
    return checked


class OutputLock:
    """Keeps the processes of other jobs out of a partitioned output while a job writes it.

    An ``flock`` on the lock file ``NAME.lock`` next to the output's shards, held *shared* by every
    process of one job, from before its first partition until after its commit. The first process
    to take it (when nobody holds it) writes its job (and pid and host) into the file, the last to
    let go empties it; a process that finds the lock held by another job fails at once with
    :class:`OutputLockedError`. The file is never removed (removing a lock file lets two
    processes lock different files). Local file systems only; not picklable.

    Args:
        path: the lock file.
        job: what the processes of one job share (the ranks of one job pass the same value);
            ``None``: a new job of this process alone.
        output: the output to name in errors (default: the lock file's folder).
    """

    def __init__(self, path: str | os.PathLike, job: str | None = None, *, output: str | None = None) -> None:
        self.path = Path(path)
        self.job = job if job is not None else f"{os.getpid()}-{secrets.token_hex(8)}"
        self.output = output if output is not None else str(self.path.parent)
        self._fd: int | None = None

    def __repr__(self) -> str:
        return f"OutputLock({str(self.path)!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError(f"{self!r} holds a file lock of this process and cannot be pickled")

    def acquire(self) -> None:
        """Take the lock (joining the processes of the same job).

        Raises:
            OutputLockedError: another job holds it; names the output and its pid.
        """
        if self._fd is not None:
            raise RuntimeError(f"{self!r} is held already")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(self.path, flags, 0o666)
        except OSError as exc:
            raise OSError(exc.errno, f"cannot open the lock file ({exc.strerror}; a link?)", str(self.path)) from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise DamagedDataError(f"{self.path}: the lock file is not a regular file; remove it", path=self.path)
            if fcntl is not None:
                self._join(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def _join(self, fd: int) -> None:
        for _ in range(100):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass  # held: by this job, or by another one (its first process wrote which)
            else:  # nobody holds it: this process starts the job's hold
                content = json.dumps({"job": self.job, "pid": os.getpid(), "host": socket.gethostname()})
                os.ftruncate(fd, 0)
                os.pwrite(fd, content.encode("utf-8"), 0)
            # waits only while another process writes its job or empties the file (a moment)
            fcntl.flock(fd, fcntl.LOCK_SH)
            holder = _lock_holder(fd)
            if holder.get("job") == self.job:
                return
            if holder:
                break
            fcntl.flock(fd, fcntl.LOCK_UN)  # emptied by the last holder letting go: try again
        raise OutputLockedError(
            f"{self.output}: this output is being written by another process "
            f"(pid {holder.get('pid', '?')} on {holder.get('host', '?')}); "
            "wait for it to finish or choose another output",
            path=self.path,
        )

    def release(self) -> None:
        """Let go of the lock (nothing when not held); the last process of the job empties the file."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    pass  # another process of the job still holds it
                else:
                    os.ftruncate(fd, 0)
        finally:
            os.close(fd)

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _lock_holder(fd: int) -> dict[str, Any]:
    """The job, pid and host written into a lock file (empty when unreadable)."""
    try:
        holder = json.loads(os.pread(fd, 4096, 0))
    except (ValueError, RecursionError):
        return {}
    return holder if isinstance(holder, dict) else {}


def wait_for_records(
    load_record: Callable[[int], PartitionRecord | None],
    partitions: Sequence[int],
    fingerprints: Sequence[str],
    where: str,
    *,
    timeout: float,
    poll: float = 0.5,
) -> list[PartitionRecord]:
    """Poll ``load_record`` until every partition has a record made from its fingerprint.

    Args:
        load_record: partition number → its record or ``None``.
        partitions: the partitions to wait for.
        fingerprints: what each must be made from.
        where: the staging folder or URL, for the error.
        timeout: seconds to wait.
        poll: seconds between looks.

    Raises:
        TimeoutError: names the partitions still missing.
        DamagedDataError: ``load_record`` found a damaged record (raised at once).
    """
    deadline = time.monotonic() + timeout
    found: dict[int, PartitionRecord] = {}
    while True:
        for partition, expected in zip(partitions, fingerprints):
            if partition not in found:
                record = load_record(partition)
                if record is not None and record.fingerprint == expected:
                    found[partition] = record
        missing = [p for p in partitions if p not in found]
        if not missing:
            return [found[p] for p in partitions]
        if time.monotonic() >= deadline:
            shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
            raise TimeoutError(
                f"{where}: waited {timeout:.0f} s for {len(missing)} of {len(partitions)} partition(s) ({shown}); "
                "are the other ranks running with the same arguments? Raise the timeout, or run the job again to resume"
            )
        time.sleep(poll)


def _replace(path: Path, content: bytes) -> None:
    """Write ``path`` atomically: a synced temporary, renamed."""
    tmp = temp_path(path)
    try:
        write_synced(tmp, content)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
