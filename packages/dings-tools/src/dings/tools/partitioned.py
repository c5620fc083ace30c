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

Two jobs never write the same local output at once: every process of a job holds the output's
:class:`~dings.format.OutputLock` (``NAME.lock``) while it writes, and the process that commits
holds it until the set is in place; a process of another job fails at once with
:class:`~dings.format.OutputLockedError`. The ranks of one job share the lock: they recognise each
other by a digest of the job's arguments (fingerprints, world size, shard options) and of
the launcher's job identity where set (``SLURM_JOB_ID``, ``TORCHELASTIC_RUN_ID``, ``MASTER_ADDR``,
``MASTER_PORT``). An fsspec URL output has no lock: there concurrent jobs are not excluded.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

from dings.format import PartitionedOutput, PartitionRecord, fingerprint

from .partition_targets import (
    PartitionedResult,
    RemotePartitionedOutput,
    open_partitioned,
    rank_from_env,
    write_one_partition,
)

__all__ = ["ENGINES", "Engine", "write_partitioned"]

Engine = Literal["local", "ranks", "ray"]
#: the engines of :func:`write_partitioned` (and of ``dings import --engine``)
ENGINES: tuple[str, ...] = get_args(Engine)
#: variables a launcher sets to the same value in every process of one job
_JOB_VARIABLES = ("SLURM_JOB_ID", "TORCHELASTIC_RUN_ID", "MASTER_ADDR", "MASTER_PORT")


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
    label_names: Sequence[str] | None = None,
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
        label_names: names of the int labels, committed with every shard of a local output (see
            :meth:`dings.format.PartitionedOutput.commit`; ``None``: the sidecars of the shards
            replaced are removed); ignored for a URL output.

    Returns:
        A :class:`PartitionedResult`.

    Raises:
        DuplicateKeyError: a key is in two partitions (the commit fails; nothing appears).
        TimeoutError: rank 0 waited ``timeout`` seconds for other ranks.
        FileExistsError: the output exists and ``overwrite`` is false.
        OutputLockedError: another job is writing the same (local) output; nothing was written.
        DamagedDataError: a partition record names files outside its partition; nothing is moved.
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

        with target.lock():  # the driver holds it
            target.check_overwrite(overwrite)
            outcomes = run_partitions(
                target, partitions, load, prints, resume=resume, address=address, progress=progress
            )
            result = _commit(target, [r for _, r, _ in sorted(outcomes, key=lambda o: o[0])], overwrite, label_names)
        result.skipped = [i for i, _, fresh in outcomes if not fresh]
        result.written = [i for i, _, fresh in outcomes if fresh]
        return result
    job = None
    if engine == "ranks":
        if rank is None or world_size is None:
            rank, world_size = rank_from_env()
        mine = [i for i in range(len(partitions)) if i % world_size == rank]
        job = _job(prints, world_size, (shard_size, max_bytes, allow_unsafe))
    else:
        rank, world_size, mine = 0, 1, list(range(len(partitions)))
    with target.lock(job):
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
        result = _commit(target, [records[i] for i in range(len(partitions))], overwrite, label_names)
    result.skipped = [i for i, _, fresh in outcomes if not fresh]
    result.written = [i for i, _, fresh in outcomes if fresh]
    return result


def _job(prints: Sequence[str], world_size: int, options: Any) -> str:
    """What the ranks of one job share: a digest of its arguments and of the launcher's job identity
    (not of the output's path, which may be mounted elsewhere on other machines)."""
    launcher = [os.environ.get(name) for name in _JOB_VARIABLES]
    return "ranks-" + fingerprint((list(prints), world_size, options, launcher))


def _commit(
    target: PartitionedOutput | RemotePartitionedOutput,
    records: Sequence[PartitionRecord],
    overwrite: bool,
    label_names: Sequence[str] | None = None,
) -> PartitionedResult:
    if isinstance(target, RemotePartitionedOutput):  # no lock: a job may have committed since the check
        manifest = target.commit(records, overwrite=overwrite)
    else:  # checked once under the lock, which is held until here; the label names are part of the commit
        manifest = target.commit(records, overwrite=True, label_names=label_names, drop_label_names=True)
    folder = os.fspath(target.folder)
    paths = [
        f"{folder}/{s['name']}" if isinstance(target, RemotePartitionedOutput) else str(Path(folder) / s["name"])
        for s in manifest["shards"]
    ]
    return PartitionedResult(paths, manifest["samples"], manifest, [], [])
