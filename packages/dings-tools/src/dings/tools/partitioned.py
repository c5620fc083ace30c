"""Write one sharded dataset from many partitions: in this process, as ranks of a job, or on Ray.

The engine-independent part of scaling out a write. A job is a list of *partition payloads*
(whatever a task needs to produce its samples: a slice of file paths, a tar shard URL, a row range)
and a ``load(payload) → samples`` function. Every partition is written by
:meth:`~dings.format.PartitionedOutput.write_partition` (locally, or through
:class:`RemotePartitionedOutput` to an fsspec URL), skipped when an earlier run already wrote and
verified it, and the whole set is committed at once by one process at the end.

Engines:

- ``"local"``: every partition in this process, one after another.
- ``"ranks"``: torchrun/SLURM-style processes (``RANK``, ``WORLD_SIZE``): rank ``r`` writes the
  partitions ``p`` with ``p % WORLD_SIZE == r``; rank 0 then waits for all records (with a timeout)
  and commits. Rank 0 accepts a record made from the same fingerprint by an earlier run (that is
  resuming) without re-hashing its data; the rank that owns it re-verifies it, and rewrites it if
  damaged, so start every rank of a rerun together.
- ``"ray"``: one Ray Data task per partition (see :mod:`dings.tools.ray`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from dings.format import (
    MANIFEST_SUFFIX,
    PartitionedOutput,
    PartitionRecord,
    check_unique_keys,
    fingerprint,
    manifest_content,
    output_prefix,
    unpackb,
    wait_for_records,
)
from dings.readers import is_url

from .extras import require

__all__ = [
    "ENGINES",
    "PartitionedResult",
    "RemotePartitionedOutput",
    "open_partitioned",
    "rank_from_env",
    "write_one_partition",
    "write_partitioned",
]

Engine = Literal["local", "ranks", "ray"]
#: the engines of :func:`write_partitioned`
ENGINES: tuple[str, ...] = ("local", "ranks", "ray")
#: files of one shard in upload order (data first, md5 last)
_SHARD_SUFFIXES = ("", ".offsets", ".keys", ".key_hashes", ".filter", ".crc32", ".md5")


@dataclass
class PartitionedResult:
    """What a partitioned write committed.

    Attributes:
        paths: the shards' data files (paths or URLs) in order.
        samples: number of samples.
        manifest: the manifest's content (``None`` on ranks other than 0, which do not commit).
        skipped: partitions that an earlier run had written and verified (resumed).
        written: partitions written by this run (on this rank).
    """

    paths: list[str]
    samples: int
    manifest: dict[str, Any] | None
    skipped: list[int]
    written: list[int]


class RemotePartitionedOutput:
    """:class:`~dings.format.PartitionedOutput` for an fsspec URL (``s3://bucket/train`` …).

    A partition is written into a local temporary folder and uploaded into the staging prefix
    ``NAME.partial/`` (data files first, the record last). The commit checks keys, removes an
    older manifest, copies the shards into place (server-side), removes stale shards of an older
    set and writes the manifest last: on object stores, where nothing renames several objects at
    once, **the manifest is what marks the set complete**. Resuming checks the record, the sizes and
    the md5 files of a partition (not the data's md5: object writes are whole-object atomic).

    Args:
        url: the output folder (``s3://bucket/train``) or data file URL (``…/train.msgpack``).
        max_samples: most samples per shard.
        max_bytes: most bytes of packed samples per shard.
        storage_options: fsspec options (endpoint, credentials …).
        allow_unsafe: also write object-dtype arrays.
    """

    def __init__(
        self,
        url: str,
        *,
        max_samples: int | None = None,
        max_bytes: int | None = None,
        storage_options: dict[str, Any] | None = None,
        allow_unsafe: bool = False,
    ) -> None:
        self.prefix = output_prefix(url)
        self.folder, self.name = self.prefix.rsplit("/", 1)
        self.staging = f"{self.prefix}.partial"
        self.manifest = self.prefix + MANIFEST_SUFFIX
        self.max_samples = max_samples
        self.max_bytes = max_bytes
        self.storage_options = dict(storage_options or {})
        self.allow_unsafe = allow_unsafe
        self._fs: Any = None

    def __repr__(self) -> str:
        return f"RemotePartitionedOutput({self.prefix!r})"

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_fs"] = None  # each process makes its own filesystem
        return state

    @property
    def fs(self) -> Any:
        """The fsspec filesystem (created on first use)."""
        if self._fs is None:
            core = require("fsspec.core", "remote", "writing a dataset to a URL")
            self._fs, _ = core.url_to_fs(self.prefix, **self.storage_options)
        return self._fs

    def _path(self, url: str) -> str:
        return self.fs._strip_protocol(url)

    def _url(self, name: str, staged: bool = False) -> str:
        return f"{self.staging if staged else self.folder}/{name}"

    def _partition_name(self, partition: int) -> str:
        if partition < 0:
            raise ValueError(f"partition numbers start at 0, got {partition}")
        return f"{self.name}-{partition:05d}"

    def _list(self, folder: str, start: str) -> list[str]:
        """Names in ``folder`` that start with ``start``."""
        try:
            self.fs.invalidate_cache()
            found = self.fs.ls(self._path(folder), detail=False)
        except FileNotFoundError:
            return []
        names = [p.rstrip("/").rsplit("/", 1)[-1] for p in found]
        return sorted(n for n in names if n.startswith(start))

    def existing(self) -> list[str]:
        """Data file URLs of a set committed here earlier (also of a ShardedWriter set of the same name)."""
        import re

        regex = re.compile(re.escape(self.name) + r"-\d+(?:-\d+)?\.msgpack\Z")
        return [self._url(n) for n in self._list(self.folder, self.name + "-") if regex.match(n)]

    def check_overwrite(self, overwrite: bool) -> None:
        """Refuse an existing dataset here unless ``overwrite``."""
        existing = self.existing()
        if existing and not overwrite:
            raise FileExistsError(
                f"{existing[0]}: sharded dataset exists ({len(existing)} shard(s)); pass overwrite=True (-y/--no-confirm on the command line) to replace it"
            )

    def _cat(self, url: str) -> bytes | None:
        try:
            return self.fs.cat_file(self._path(url))
        except FileNotFoundError:
            return None

    def load_record(self, partition: int) -> PartitionRecord | None:
        """The partition's record, or ``None``."""
        self.fs.invalidate_cache()
        url = self._url(self._partition_name(partition) + ".partition.json", staged=True)
        content = self._cat(url)
        if content is None:
            return None
        try:
            return PartitionRecord.from_json(content, url)
        except ValueError:
            return None

    def verified(self, partition: int, fingerprint: str, *, check_data: bool = True) -> PartitionRecord | None:
        """The partition's record if made from ``fingerprint`` with every file present at its size
        and its md5 file unchanged (``check_data`` is accepted for symmetry; data is not re-read)."""
        self.fs.invalidate_cache()
        record = self.load_record(partition)
        if record is None or record.fingerprint != fingerprint:
            return None
        try:
            if (
                self.fs.size(self._path(self._url(self._partition_name(partition) + ".keyhashes", staged=True)))
                != 8 * record.samples
            ):
                return None
            for shard in record.shards:
                if self.fs.size(self._path(self._url(shard.name, staged=True))) != shard.size:
                    return None
                md5 = self._cat(self._url(shard.name + ".md5", staged=True))
                if md5 is None or _parse_md5(md5) != shard.md5:
                    return None
        except (FileNotFoundError, OSError):
            return None
        return record

    def write_partition(
        self, partition: int, samples: Iterable[dict], fingerprint: str = "", *, progress: bool | None = False
    ) -> PartitionRecord:
        """Write one partition locally, then upload it into the staging prefix (record last)."""
        base = self._partition_name(partition)
        record_url = self._url(base + ".partition.json", staged=True)
        if self._cat(record_url) is not None:
            self.fs.rm_file(self._path(record_url))
        with tempfile.TemporaryDirectory(prefix="dings-partition-") as tmp:
            local = PartitionedOutput(
                Path(tmp) / self.name,
                max_samples=self.max_samples,
                max_bytes=self.max_bytes,
                allow_unsafe=self.allow_unsafe,
            )
            record = local.write_partition(partition, samples, fingerprint, progress=progress)
            new = {shard.name for shard in record.shards}
            for name in self._list(self.staging, base + "-"):  # an earlier attempt's extra shards
                if name.split(".msgpack", 1)[0] + ".msgpack" not in new:
                    self.fs.rm_file(self._path(self._url(name, staged=True)))
            for shard in record.shards:
                for suffix in _SHARD_SUFFIXES:
                    file = local.staging / (shard.name + suffix)
                    if file.exists():
                        self.fs.put_file(str(file), self._path(self._url(shard.name + suffix, staged=True)))
            self.fs.put_file(str(local.hashes_path(partition)), self._path(self._url(base + ".keyhashes", staged=True)))
            self.fs.put_file(str(local.record_path(partition)), self._path(record_url))
        return record

    def wait_for(
        self, partitions: Sequence[int], fingerprints: Sequence[str], *, timeout: float, poll: float = 1.0
    ) -> list[PartitionRecord]:
        """Wait until every partition has a record made from its fingerprint (rank 0)."""
        return wait_for_records(self.load_record, partitions, fingerprints, self.staging, timeout=timeout, poll=poll)

    def commit(self, records: Sequence[PartitionRecord], *, overwrite: bool = False) -> dict[str, Any]:
        """Check keys, copy every shard into place, remove stale shards, write the manifest last."""
        ordered = sorted(records, key=lambda r: r.partition)
        self.check_overwrite(overwrite)
        urls = [self._url(self._partition_name(r.partition) + ".keyhashes", staged=True) for r in ordered]
        fetched = self.fs.cat([self._path(u) for u in urls], on_error="return")  # concurrent on async filesystems
        hashes = []
        for record, url in zip(ordered, urls):
            content = fetched.get(self._path(url)) if isinstance(fetched, dict) else None
            if not isinstance(content, bytes):
                raise FileNotFoundError(
                    f"{url}: key hashes of partition {record.partition} are missing; run the job again to rewrite it"
                )
            hashes.append(np.frombuffer(content, dtype=">u8").astype(np.uint64))

        def keys_of(position: int) -> Iterable[str]:
            for shard in ordered[position].shards:
                yield from unpackb(self._cat(self._url(shard.name + ".keys", staged=True)) or b"\x90")

        check_unique_keys(hashes, keys_of, [f"partition {r.partition} ({self.staging})" for r in ordered])
        shards = [shard for record in ordered for shard in record.shards]
        if not shards:
            raise ValueError(f"{self.prefix}: no partition wrote a sample; nothing to commit")
        manifest = manifest_content(ordered)
        if self._cat(self.manifest) is not None:  # the old set no longer counts as complete
            self.fs.rm_file(self._path(self.manifest))
        # server-side copies, in batches of concurrent requests on async filesystems (s3fs, gcsfs);
        # every shard was uploaded with all its files
        names = [shard.name + suffix for shard in shards for suffix in _SHARD_SUFFIXES]
        self.fs.copy([self._path(self._url(n, staged=True)) for n in names], [self._path(self._url(n)) for n in names])
        new = {shard.name for shard in shards}
        stale = [
            self._path(url + suffix)
            for url in self.existing()
            if url.rsplit("/", 1)[-1] not in new
            for suffix in _SHARD_SUFFIXES + (".index",)
        ]
        stale = [path for path in stale if self.fs.exists(path)]
        if stale:
            self.fs.rm(stale)
        self.fs.pipe_file(self._path(self.manifest), (json.dumps(manifest, indent=1) + "\n").encode("utf-8"))
        self.discard()
        return manifest

    def discard(self) -> None:
        """Remove the staging prefix."""
        try:
            self.fs.rm(self._path(self.staging), recursive=True)
        except FileNotFoundError:
            pass


def _parse_md5(content: bytes) -> dict[str, str]:
    result = {}
    for line in content.decode("utf-8", "replace").splitlines():
        digest, _, name = line.partition("  ")
        if name:
            result[name] = digest
    return result


def open_partitioned(
    output: str | os.PathLike,
    *,
    shard_size: int | None = None,
    max_bytes: int | None = None,
    storage_options: dict[str, Any] | None = None,
    allow_unsafe: bool = False,
) -> PartitionedOutput | RemotePartitionedOutput:
    """The partitioned output at a path (:class:`~dings.format.PartitionedOutput`) or URL
    (:class:`RemotePartitionedOutput`).

    Args:
        output: data file path or folder, local or an fsspec URL.
        shard_size: most samples per shard (``None``: one shard per partition).
        max_bytes: most bytes per shard.
        storage_options: fsspec options for a URL.
        allow_unsafe: also write object-dtype arrays.
    """
    if shard_size is not None and shard_size < 1:
        raise ValueError(f"shard_size must be at least 1, got {shard_size!r}")
    text = os.fspath(output)
    if is_url(text):
        return RemotePartitionedOutput(
            text,
            max_samples=shard_size,
            max_bytes=max_bytes,
            storage_options=storage_options,
            allow_unsafe=allow_unsafe,
        )
    return PartitionedOutput(text, max_samples=shard_size, max_bytes=max_bytes, allow_unsafe=allow_unsafe)


def rank_from_env(environ: dict[str, str] | None = None) -> tuple[int, int]:
    """``(rank, world_size)`` from torchrun-style ``RANK`` and ``WORLD_SIZE`` (SLURM's
    ``SLURM_PROCID``/``SLURM_NTASKS`` when those are missing).

    Raises:
        ValueError: neither is set, or the values are not ``0 <= rank < world_size``.
    """
    env = os.environ if environ is None else environ
    rank = env.get("RANK", env.get("SLURM_PROCID"))
    world = env.get("WORLD_SIZE", env.get("SLURM_NTASKS"))
    if rank is None or world is None:
        raise ValueError(
            "the ranks engine needs RANK and WORLD_SIZE in the environment (as torchrun sets them; or SLURM_PROCID and SLURM_NTASKS)"
        )
    try:
        r, w = int(rank), int(world)
    except ValueError:
        raise ValueError(f"RANK={rank!r} and WORLD_SIZE={world!r} must be whole numbers") from None
    if not 0 <= r < w:
        raise ValueError(f"RANK={r} must be at least 0 and below WORLD_SIZE={w}")
    return r, w


def write_one_partition(
    target: PartitionedOutput | RemotePartitionedOutput,
    partition: int,
    payload: Any,
    load: Callable[[Any], Iterable[dict]],
    fingerprint: str,
    *,
    resume: bool = True,
) -> tuple[PartitionRecord, bool]:
    """Write one partition unless an earlier run left it verified; what a task of any engine runs.

    Returns:
        The partition's record and whether it was written (``False``: skipped, resumed).
    """
    if resume:
        record = target.verified(partition, fingerprint)
        if record is not None:
            return record, False
    return target.write_partition(partition, load(payload), fingerprint), True


def write_partitioned(
    partitions: Sequence[Any],
    load: Callable[[Any], Iterable[dict]],
    output: str | os.PathLike,
    *,
    engine: Engine = "local",
    shard_size: int | None = None,
    max_bytes: int | None = None,
    fingerprints: Sequence[str] | None = None,
    overwrite: bool = False,
    resume: bool = True,
    storage_options: dict[str, Any] | None = None,
    address: str | None = None,
    rank: int | None = None,
    world_size: int | None = None,
    timeout: float = 3600.0,
    allow_unsafe: bool = False,
    progress: bool | None = False,
) -> PartitionedResult:
    """Write a sharded dataset from partitions and commit it whole.

    Args:
        partitions: one payload per partition, in order (partition ``i`` is ``partitions[i]``).
        load: ``payload → samples`` (dicts with a str ``"key"``, unique across all partitions);
            runs in the task that writes the partition (pickled for Ray).
        output: data file path or folder (``out/train``: shards ``out/train/train-00000-00000.msgpack``
            …), or an fsspec URL.
        engine: ``"local"``, ``"ranks"`` or ``"ray"`` (see the module doc).
        shard_size: most samples per shard (``None``: one shard per partition).
        max_bytes: most bytes per shard.
        fingerprints: what each partition is made from, for resuming (default: a digest of
            ``repr(payload)``).
        overwrite: replace an existing dataset; otherwise ``FileExistsError`` before any work.
        resume: skip partitions an earlier run wrote and verified.
        storage_options: fsspec options for a URL output.
        address: the Ray cluster (``engine="ray"``; default: a running one or a new local one).
        rank: this process's rank (``engine="ranks"``; default from the environment).
        world_size: number of ranks (default from the environment).
        timeout: seconds rank 0 waits for the other ranks' partitions.
        allow_unsafe: also write object-dtype arrays.
        progress: show progress.

    Returns:
        A :class:`PartitionedResult`.

    Raises:
        DuplicateKeyError: a key is in two partitions (the commit fails; nothing appears).
        TimeoutError: rank 0 waited ``timeout`` seconds for other ranks.
        FileExistsError: the output exists and ``overwrite`` is false.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    target = open_partitioned(
        output, shard_size=shard_size, max_bytes=max_bytes, storage_options=storage_options, allow_unsafe=allow_unsafe
    )
    prints = list(fingerprints) if fingerprints is not None else [fingerprint(p) for p in partitions]
    if len(prints) != len(partitions):
        raise ValueError(f"{len(prints)} fingerprints for {len(partitions)} partitions")
    if engine == "ray":
        from .ray import run_partitions

        target.check_overwrite(overwrite)
        outcomes = run_partitions(target, partitions, load, prints, resume=resume, address=address, progress=progress)
        result = _commit(target, [r for _, r, _ in sorted(outcomes, key=lambda o: o[0])], overwrite)
        result.skipped = [i for i, _, fresh in outcomes if not fresh]
        result.written = [i for i, _, fresh in outcomes if fresh]
        return result
    if engine == "ranks":
        if rank is None or world_size is None:
            rank, world_size = rank_from_env()
        mine = [i for i in range(len(partitions)) if i % world_size == rank]
    else:
        rank, world_size, mine = 0, 1, list(range(len(partitions)))
    if rank == 0:
        target.check_overwrite(overwrite)
    outcomes = [(i, *write_one_partition(target, i, partitions[i], load, prints[i], resume=resume)) for i in mine]
    if rank != 0:
        written = [i for i, _, fresh in outcomes if fresh]
        return PartitionedResult(
            [], sum(r.samples for _, r, _ in outcomes), None, [i for i, _, fresh in outcomes if not fresh], written
        )
    mine_set = set(mine)
    others = [i for i in range(len(partitions)) if i not in mine_set]
    records = {i: r for i, r, _ in outcomes}
    if others:
        records.update(zip(others, target.wait_for(others, [prints[i] for i in others], timeout=timeout)))
    result = _commit(target, [records[i] for i in range(len(partitions))], overwrite)
    result.skipped = [i for i, _, fresh in outcomes if not fresh]
    result.written = [i for i, _, fresh in outcomes if fresh]
    return result


def _commit(
    target: PartitionedOutput | RemotePartitionedOutput, records: Sequence[PartitionRecord], overwrite: bool
) -> PartitionedResult:
    manifest = target.commit(records, overwrite=overwrite)
    folder = os.fspath(target.folder)
    paths = [
        f"{folder}/{s['name']}" if isinstance(target, RemotePartitionedOutput) else str(Path(folder) / s["name"])
        for s in manifest["shards"]
    ]
    return PartitionedResult(paths, manifest["samples"], manifest, [], [])
