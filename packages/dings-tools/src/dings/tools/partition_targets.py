"""Where the partitions of one job go: a local or remote partitioned output, and writing one partition.

Every engine of :func:`dings.tools.write_partitioned` (this process, ranks, Ray tasks) writes a
partition through :func:`write_one_partition`; the commit then makes the set appear at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dings.format import (
    MANIFEST_SUFFIX,
    MAX_JSON_BYTES,
    DamagedDataError,
    PartitionedOutput,
    PartitionRecord,
    check_unique_keys,
    manifest_content,
    output_prefix,
    parse_md5,
    unpackb,
    wait_for_records,
)
from dings.readers import is_url

from .extras import require

__all__ = ["PartitionedResult", "RemotePartitionedOutput", "open_partitioned", "rank_from_env", "write_one_partition"]

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

    Records are untrusted and checked as locally (:meth:`PartitionRecord.from_json`). There is no
    lock on an object store: two jobs writing the same URL at once are **not** excluded (give each
    job its own output).

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
        """Refuse an existing dataset here unless ``overwrite`` (then nothing is listed)."""
        existing = [] if overwrite else self.existing()
        if existing:
            raise FileExistsError(
                f"{existing[0]}: sharded dataset exists ({len(existing)} shard(s)); pass overwrite=True (-y/--no-confirm on the command line) to replace it"
            )

    def lock(self, job: str | None = None) -> contextlib.AbstractContextManager[Any]:
        """Nothing: an object store has no file lock; concurrent jobs on one URL are not excluded."""
        return contextlib.nullcontext()

    def _cat(self, url: str, max_size: int = MAX_JSON_BYTES) -> bytes | None:
        """The object at ``url`` (``None`` if absent); one larger than ``max_size`` is damage, and no
        more than ``max_size + 1`` bytes of it are read (the staging folder may be shared)."""
        try:
            content = self.fs.cat_file(self._path(url), start=0, end=max_size + 1)
        except FileNotFoundError:
            return None
        if len(content) > max_size:
            raise DamagedDataError(
                f"{url}: larger than {max_size} bytes, which no file a job writes here is; "
                "remove it and run the job again",
                path=url,
            )
        return content

    def load_record(self, partition: int) -> PartitionRecord | None:
        """The partition's record, or ``None``.

        Raises:
            DamagedDataError: the record is not a valid record of this partition (names the field).
        """
        self.fs.invalidate_cache()
        url = self._url(self._partition_name(partition) + ".partition.json", staged=True)
        content = self._cat(url)
        if content is None:
            return None
        return PartitionRecord.from_json(content, url, name=self.name, partition=partition)

    def verified(self, partition: int, fingerprint: str, *, check_data: bool = True) -> PartitionRecord | None:
        """The partition's record if made from ``fingerprint`` with every file present at its size
        and its md5 file unchanged (``check_data`` is accepted for symmetry; data is not re-read)."""
        self.fs.invalidate_cache()
        try:
            record = self.load_record(partition)
        except DamagedDataError:
            return None  # rewritten
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
                if md5 is None or parse_md5(md5, self._url(shard.name + ".md5", staged=True)) != shard.md5:
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
        # checked as if read from their files (they come from other processes); nothing moves before
        ordered = [
            PartitionRecord.from_json(
                r.to_json(), f"{self.staging} (record of partition {r.partition})", name=self.name
            )
            for r in records
        ]
        ordered.sort(key=lambda r: r.partition)
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
            if len(content) != 8 * record.samples:
                raise DamagedDataError(
                    f"{url}: key hashes of partition {record.partition} are not {8 * record.samples} bytes; "
                    "run the job again to rewrite it",
                    path=url,
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
