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
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .commit import Commit, DatasetFiles, check_committed, dataset_files, temp_path, write_synced
from .errors import DuplicateKeyError
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

__all__ = [
    "MANIFEST_SUFFIX",
    "PartitionRecord",
    "PartitionedOutput",
    "ShardRecord",
    "check_unique_keys",
    "fingerprint",
    "key_hashes_of",
    "load_manifest",
    "manifest_content",
    "output_prefix",
    "wait_for_records",
]

#: the staging folder's suffix: ``NAME.partial/`` next to the shards
STAGING_SUFFIX = ".partial"
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
    def from_json(cls, text: str | bytes, where: str = "partition record") -> PartitionRecord:
        """Parse a record written by :meth:`to_json`.

        Raises:
            ValueError: not a partition record; the message names ``where``.
        """
        try:
            content = json.loads(text)
            if content.get("dings-partition") != _VERSION:
                raise ValueError("wrong version")
            shards = [
                ShardRecord(s["name"], int(s["samples"]), int(s["size"]), dict(s["md5"])) for s in content["shards"]
            ]
            return cls(int(content["partition"]), str(content["fingerprint"]), int(content["samples"]), shards)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{where}: not a dings partition record ({exc})") from None


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


def load_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """Load a manifest: the output's data file path or folder, or the manifest file itself.

    Raises:
        FileNotFoundError: no manifest (the dataset was not written in partitions, or its commit
            did not finish).
        ValueError: not a dings manifest.
    """
    text = os.fspath(path)
    manifest = Path(text if text.endswith(MANIFEST_SUFFIX) else output_prefix(text) + MANIFEST_SUFFIX)
    try:
        content = json.loads(manifest.read_bytes())
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{manifest}: no manifest; was this dataset written in partitions, and did its commit finish?"
        ) from None
    except ValueError as exc:
        raise ValueError(f"{manifest}: not a dings manifest ({exc})") from None
    if not isinstance(content, dict) or content.get("dings-manifest") != _VERSION:
        raise ValueError(f"{manifest}: not a dings manifest of version {_VERSION}")
    return content


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
        self.prefix = Path(output_prefix(path))
        self.folder = self.prefix.parent
        self.name = self.prefix.name
        self.staging = self.prefix.with_name(self.name + STAGING_SUFFIX)
        self.manifest = self.prefix.with_name(self.name + MANIFEST_SUFFIX)
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
        """Refuse (or ask about) an existing dataset here before any work is done."""
        existing = self.existing()
        if existing and not overwrite:
            ask_overwrite(existing[0], f"sharded dataset ({len(existing)} shard(s))")

    def load_record(self, partition: int) -> PartitionRecord | None:
        """The partition's record, or ``None`` when it has none (or an unreadable one)."""
        path = self.record_path(partition)
        try:
            return PartitionRecord.from_json(path.read_bytes(), str(path))
        except (FileNotFoundError, ValueError):
            return None

    def verified(self, partition: int, fingerprint: str, *, check_data: bool = True) -> PartitionRecord | None:
        """The partition's record if it was made from ``fingerprint`` and its files are intact.

        Args:
            partition: the partition number.
            fingerprint: what the partition is made from now.
            check_data: compare every file's md5 with the record (reads the data); otherwise only
                sizes and the md5 files.
        """
        record = self.load_record(partition)
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
            DuplicateKeyError: a key is in two partitions; nothing is moved (the staging folder stays).
            FileNotFoundError: a partition's shard is missing from the staging folder.
        """
        ordered = sorted(records, key=lambda r: r.partition)
        numbers = [r.partition for r in ordered]
        if len(set(numbers)) != len(numbers):
            raise ValueError(f"{self.prefix}: a partition was given twice: {numbers}")
        self.check_overwrite(overwrite)
        hashes = [
            np.frombuffer(self.hashes_path(r.partition).read_bytes(), dtype=">u8").astype(np.uint64) for r in ordered
        ]

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
                if not staged.is_file():
                    raise FileNotFoundError(
                        f"{staged}: shard of partition {record.partition} is missing; run the job again to rewrite it"
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
