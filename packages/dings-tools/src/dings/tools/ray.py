"""dings on Ray Data: write a dings dataset from any Ray Dataset, read dings datasets into one.

Needs the extra ``ray`` (``pip install "dings-tools[ray]"``, which installs ``ray[data]``); this
module imports Ray only inside the functions and classes that use it, and says what to install
when it is missing::

    import ray
    from dings.tools.ray import DingsDatasink, read_dings

    ds = ray.data.read_parquet("s3://bucket/raw/")
    ds.write_datasink(DingsDatasink("s3://bucket/train", shard_size=10_000))
    again = read_dings("s3://bucket/train/train-*.msgpack")

:func:`ray_map` runs per-item work of a conversion (decoding, checking, re-encoding images) on Ray
tasks while this process reads the sources and writes the output in order.

Every write task writes one partition (its task index) with
:meth:`dings.format.PartitionedOutput.write_partition`; a retried task replaces only its own
shards; the driver commits the whole set when every task is done (see :mod:`dings.tools.partitioned`).
"""

from __future__ import annotations

import functools
import glob
import itertools
import logging
import os
import pickle
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from dings.format import (
    MANIFEST_SUFFIX,
    MAX_JSON_BYTES,
    PartitionRecord,
    fingerprint,
    keys_len,
    load_manifest,
    output_prefix,
    parse_manifest,
)
from dings.readers import MsgpackReader, is_url, natural_sort_key

from .extras import require
from .partition_targets import PartitionedResult, open_partitioned, write_one_partition

__all__ = ["DingsDatasink", "DingsDatasource", "ray_map", "read_dings", "run_partitions", "sample_from_row"]

#: samples per block that a read task yields
BLOCK_SAMPLES = 1000


def _ray() -> Any:
    ray = require("ray", "ray", "dings on Ray")
    require("ray.data", "ray", "dings on Ray")
    return ray


def _base(name: str) -> type:
    """The Ray Data base class ``name`` (``Datasink``/``Datasource``); a clear error without Ray."""
    _ray()
    import ray.data

    return getattr(ray.data, name)


def _init(address: str | None) -> tuple[Any, bool]:
    """Connect to ``address`` (or a running cluster, or start a local one); returns (ray, started)."""
    ray = _ray()
    if ray.is_initialized():
        return ray, False
    ray.init(address=address, include_dashboard=False, log_to_driver=False)
    return ray, True


def _partition_task(
    row: dict[str, Any], *, target: Any, load: Callable[[Any], Iterable[dict]], resume: bool
) -> dict[str, Any]:
    partition = int(row["partition"])
    try:
        payload = pickle.loads(row["payload"])
        record, fresh = write_one_partition(target, partition, payload, load, str(row["fingerprint"]), resume=resume)
    except Exception as exc:  # handed back as data: Ray's wrappers would lose the exception's type
        try:
            error = pickle.dumps(exc)
        except Exception:
            error = pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
        return {"partition": partition, "record": "", "fresh": False, "error": error}
    return {"partition": partition, "record": record.to_json(), "fresh": bool(fresh), "error": b""}


def run_partitions(
    target: Any,
    partitions: Sequence[Any],
    load: Callable[[Any], Iterable[dict]],
    fingerprints: Sequence[str],
    *,
    resume: bool = True,
    address: str | None = None,
    progress: bool | None = False,
) -> list[tuple[int, PartitionRecord, bool]]:
    """Write every partition in its own Ray Data task; the engine ``"ray"`` of
    :func:`dings.tools.write_partitioned` (which commits afterwards).

    A task whose worker dies is retried by Ray Data (it replaces only its own shards). An exception raised by ``load`` or the writer fails its partition; the other
    partitions are still written (a second run resumes from them) and the exception of the first
    failed partition is raised here as it was raised in the task.

    Returns:
        ``(partition, record, written)`` per partition (``written`` false: resumed).
    """
    started = _init(address)[1]
    import ray.data

    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = bool(progress)
        if not progress:
            logging.getLogger("ray.data").setLevel(logging.WARNING)
        rows = [
            {"partition": i, "payload": pickle.dumps(p), "fingerprint": f}
            for i, (p, f) in enumerate(zip(partitions, fingerprints))
        ]
        if not rows:
            return []
        dataset = ray.data.from_items(rows, override_num_blocks=len(rows))
        task = functools.partial(_partition_task, target=target, load=load, resume=resume)
        # Ray Data retries a task whose worker dies (its default max_retries is unlimited)
        results = sorted(dataset.map(task, num_cpus=1).take_all(), key=lambda r: int(r["partition"]))
        for result in results:
            if result["error"]:
                raise pickle.loads(result["error"])
        return [
            (
                int(r["partition"]),
                PartitionRecord.from_json(
                    r["record"],
                    f"{target.staging} (partition {r['partition']})",
                    name=target.name,
                    partition=int(r["partition"]),
                ),
                bool(r["fresh"]),
            )
            for r in results
        ]
    finally:
        if started:
            ray.shutdown()


def _apply_chunk(fn: Callable[[Any], Any], chunk: list[Any]) -> tuple[list[Any], bytes]:
    """``fn`` over one chunk in a Ray task; an exception is handed back pickled (Ray's wrapper would
    change its type), with the results before it."""
    results = []
    try:
        for item in chunk:
            results.append(fn(item))
    except Exception as exc:
        try:
            return results, pickle.dumps(exc)
        except Exception:
            return results, pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
    return results, b""


def ray_map(
    fn: Callable[[Any], Any],
    iterable: Iterable[Any],
    *,
    chunksize: int = 16,
    max_pending: int | None = None,
    address: str | None = None,
) -> Iterator[Any]:
    """Apply ``fn`` to every item on Ray tasks, lazily, yielding the results in input order.

    The counterpart of :func:`dings.tools.parallel_map` on a Ray cluster: this process reads the
    items and consumes the results (so a conversion writes the same bytes as a local one), each
    task runs ``fn`` over ``chunksize`` items, and at most ``max_pending`` items are in flight
    (default: 4 chunks per CPU of the cluster). A task whose worker dies is retried by Ray; an
    exception raised by ``fn`` is raised here with its own type. Ray is started locally when no
    cluster is running and ``address`` is not given, and shut down again when the iteration ends.

    Args:
        fn: a picklable function of one item (module-level, or a ``functools.partial`` of one).
        iterable: the items; each is sent to a worker, so it must be picklable.
        chunksize: items per task.
        max_pending: bound on items submitted and not yet yielded.
        address: the Ray cluster to connect to.

    Raises:
        MissingExtraError: Ray is not installed (``pip install "dings-tools[ray]"``).
        ValueError: ``chunksize`` or ``max_pending`` is below 1.
    """
    if chunksize < 1 or (max_pending is not None and max_pending < 1):
        raise ValueError(f"chunksize and max_pending must be at least 1, got {chunksize} and {max_pending}")
    ray, started = _init(address)
    pending: deque[Any] = deque()
    try:
        task = ray.remote(num_cpus=1)(_apply_chunk)
        work = ray.put(fn)
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        window = max(1, (max_pending if max_pending is not None else 4 * cpus * chunksize) // chunksize)
        items = iter(iterable)

        def drain_one() -> Iterator[Any]:
            results, error = ray.get(pending.popleft())
            yield from results  # the items before a failed one, as a local map would
            if error:
                raise pickle.loads(error)

        while chunk := list(itertools.islice(items, chunksize)):
            pending.append(task.remote(work, chunk))
            if len(pending) >= window:
                yield from drain_one()
        while pending:
            yield from drain_one()
    finally:
        for ref in pending:
            ray.cancel(ref)
        if started:
            ray.shutdown()


def sample_from_row(row: Any) -> dict[str, Any]:
    """A Ray Data row as a dings sample: a plain dict, numpy scalars as Python numbers."""
    sample = dict(row)
    for name, value in sample.items():
        if isinstance(value, np.generic):
            sample[name] = value.item()
    return sample


def _rows(blocks: Iterable[Any]) -> Iterator[dict[str, Any]]:
    from ray.data.block import BlockAccessor

    for block in blocks:
        row: dict[str, Any]
        for row in BlockAccessor.for_block(block).iter_rows(public_row_format=True):
            yield sample_from_row(row)


@functools.cache
def _datasink_class() -> type:
    Datasink: Any = _base("Datasink")

    class _DingsDatasink(Datasink):
        """See :func:`DingsDatasink`."""

        def __init__(
            self,
            path: str | os.PathLike,
            *,
            shard_size: int | None = None,
            max_bytes: int | None = None,
            storage_options: dict[str, Any] | None = None,
            overwrite: bool = False,
            resume: bool = True,
            allow_unsafe: bool = False,
        ) -> None:
            self.target = open_partitioned(
                path,
                shard_size=shard_size,
                max_bytes=max_bytes,
                storage_options=storage_options,
                allow_unsafe=allow_unsafe,
            )
            self.overwrite = overwrite
            self.resume = resume
            self.result: PartitionedResult | None = None
            self._lock: Any = None

        def __getstate__(self) -> dict[str, Any]:
            state = dict(self.__dict__)
            state["_lock"] = None  # the driver's; write tasks run elsewhere
            return state

        def _release(self) -> None:
            if self._lock is not None:
                lock, self._lock = self._lock, None
                lock.__exit__(None, None, None)

        def get_name(self) -> str:
            return "Dings"

        def on_write_start(self, *args: Any, **kwargs: Any) -> None:
            # the driver keeps other jobs out of the output until the commit (local outputs only)
            lock = self.target.lock()
            lock.__enter__()
            self._lock = lock
            try:
                self.target.check_overwrite(self.overwrite)
            except BaseException:
                self._release()
                raise

        def write(self, blocks: Iterable[Any], ctx: Any) -> str:
            samples = list(_rows(blocks))
            prints = fingerprint([s.get("key") for s in samples])
            record, _ = write_one_partition(self.target, int(ctx.task_idx), samples, iter, prints, resume=self.resume)
            return record.to_json()

        def on_write_complete(self, write_result: Any) -> None:
            try:
                returns = getattr(write_result, "write_returns", write_result)
                where = f"{self.target.staging} (a write task's record)"
                records = [PartitionRecord.from_json(t, where, name=self.target.name) for t in returns if t is not None]
                manifest = self.target.commit(records, overwrite=self.overwrite)
            finally:
                self._release()
            folder = os.fspath(self.target.folder)
            self.result = PartitionedResult(
                [f"{folder}/{s['name']}" for s in manifest["shards"]],
                manifest["samples"],
                manifest,
                [],
                [r.partition for r in records],
            )

        def on_write_failed(self, error: Exception) -> None:
            self._release()

    _DingsDatasink.__name__ = _DingsDatasink.__qualname__ = "DingsDatasink"
    return _DingsDatasink


def DingsDatasink(
    path: str | os.PathLike,
    *,
    shard_size: int | None = None,
    max_bytes: int | None = None,
    storage_options: dict[str, Any] | None = None,
    overwrite: bool = False,
    resume: bool = True,
    allow_unsafe: bool = False,
) -> Any:
    """A Ray Data ``Datasink`` that writes a sharded dings dataset: ``ds.write_datasink(DingsDatasink(path))``.

    Rows must have a str ``"key"`` unique across the dataset; other columns become the samples'
    fields (numpy scalars become Python numbers, tensors numpy arrays). Write task ``i`` writes
    partition ``i`` (shards ``NAME-<i>-<shard>.msgpack``); when all tasks are done the driver checks
    that keys are unique, writes the manifest and makes the set appear at once. A write task that
    finds its partition written and verified by an earlier run with the same keys skips it
    (resuming needs the same blocks per task, as from the same input and parallelism). The driver
    holds the output's lock (``NAME.lock``, local outputs) from ``on_write_start`` until the commit:
    another job writing the same output fails with ``OutputLockedError``.

    Args:
        path: output folder or data file path, local or an fsspec URL (``s3://bucket/train``).
        shard_size: most samples per shard (``None``: one shard per write task).
        max_bytes: most bytes per shard.
        storage_options: fsspec options for a URL.
        overwrite: replace an existing dataset; otherwise the write fails before any task runs.
        resume: skip partitions written and verified by an earlier run.
        allow_unsafe: also write object-dtype arrays.

    Raises:
        MissingExtraError: Ray is not installed (``pip install "dings-tools[ray]"``).
    """
    return _datasink_class()(
        path,
        shard_size=shard_size,
        max_bytes=max_bytes,
        storage_options=storage_options,
        overwrite=overwrite,
        resume=resume,
        allow_unsafe=allow_unsafe,
    )


def _find_shards(
    paths: str | os.PathLike | Sequence[str | os.PathLike], storage_options: dict[str, Any] | None
) -> list[str]:
    """Data files named by a pattern, a folder or manifest, a data file, or a list of them."""
    if not isinstance(paths, (str, os.PathLike)):
        found = [s for p in paths for s in _find_shards(p, storage_options)]
        if not found:
            raise ValueError("no dings dataset given")
        return found
    text = os.fspath(paths)
    if is_url(text):
        from dings.readers import RemoteFiles, RetryPolicy

        files = RemoteFiles(text, storage_options, RetryPolicy(3, 0.5))
        if glob.has_magic(text.split("?", 1)[0]):
            urls = sorted((u for u in files.glob(text) if u.endswith(".msgpack")), key=natural_sort_key)
            if not urls:
                raise FileNotFoundError(f"{text}: no .msgpack file matches this pattern")
            return urls
        if text.endswith(".msgpack"):
            return [text]
        folder, name = output_prefix(text).rsplit("/", 1)
        url = output_prefix(text) + MANIFEST_SUFFIX
        manifest = parse_manifest(
            files.cat(url, "the manifest", max_size=MAX_JSON_BYTES), url, name=name
        )  # names stay inside folder
        return [f"{folder}/{s['name']}" for s in manifest["shards"]]
    if glob.has_magic(text):
        from dings.format import check_committed_pattern

        check_committed_pattern(text)
        found = sorted((p for p in glob.glob(text) if p.endswith(".msgpack")), key=natural_sort_key)
        if not found:
            raise FileNotFoundError(f"{text}: no .msgpack file matches this pattern")
        return found
    if os.path.isdir(text) or text.endswith(".manifest.json"):
        manifest = load_manifest(text)
        folder = os.path.dirname(output_prefix(text)) if not text.endswith(".manifest.json") else os.path.dirname(text)
        return [os.path.join(folder, s["name"]) for s in manifest["shards"]]
    return [text]


def _to_block(samples: list[dict[str, Any]]) -> Any:
    from ray.data.block import BlockAccessor

    names: dict[str, None] = {}
    for sample in samples:
        names.update(dict.fromkeys(sample))
    columns: dict[str, Any] = {}
    for name in names:
        values = [s.get(name) for s in samples]
        arrays = [v for v in values if isinstance(v, np.ndarray)]
        if len(arrays) == len(values) and len({(v.shape, v.dtype) for v in arrays}) == 1:
            columns[name] = np.stack(arrays)
        else:
            column = np.empty(len(values), dtype=object)
            column[:] = values
            columns[name] = column
    return BlockAccessor.batch_to_block(columns)


def _read_shards(shards: Sequence[str], options: dict[str, Any], block_samples: int) -> Iterator[Any]:
    for shard in shards:
        with MsgpackReader(shard, **options) as reader:
            batch: list[dict[str, Any]] = []
            for sample in reader:
                batch.append(sample)
                if len(batch) >= block_samples:
                    yield _to_block(batch)
                    batch = []
            if batch:
                yield _to_block(batch)


@functools.cache
def _datasource_class() -> type:
    Datasource: Any = _base("Datasource")
    from ray.data.block import BlockMetadata
    from ray.data.datasource import ReadTask

    class _DingsDatasource(Datasource):
        """See :func:`DingsDatasource`."""

        def __init__(
            self,
            paths: Any,
            *,
            storage_options: dict[str, Any] | None = None,
            block_samples: int = BLOCK_SAMPLES,
            **options: Any,
        ) -> None:
            super().__init__()
            self.shards = _find_shards(paths, storage_options)
            self.options = dict(options)
            if storage_options is not None:
                self.options["storage_options"] = storage_options
            self.block_samples = block_samples
            self._sizes: list[int] | None = None

        def get_name(self) -> str:
            return "Dings"

        def _shard_sizes(self) -> list[int]:
            if self._sizes is None:
                if any(is_url(s) for s in self.shards):
                    self._sizes = [0] * len(self.shards)
                else:
                    self._sizes = [os.path.getsize(s) for s in self.shards]
            return self._sizes

        def estimate_inmemory_data_size(self) -> int | None:
            sizes = self._shard_sizes()
            return sum(sizes) or None

        def get_read_tasks(
            self, parallelism: int, per_task_row_limit: int | None = None, data_context: Any = None
        ) -> list[Any]:
            groups = [
                list(g)
                for g in np.array_split(np.arange(len(self.shards)), max(1, min(parallelism, len(self.shards))))
                if len(g)
            ]
            sizes = self._shard_sizes()
            tasks = []
            for group in groups:
                shards = [self.shards[i] for i in group]
                rows = None if any(is_url(s) for s in shards) else sum(keys_len(s) for s in shards)
                metadata = BlockMetadata(
                    num_rows=rows,
                    size_bytes=sum(sizes[i] for i in group) or None,
                    exec_stats=None,
                    input_files=tuple(shards),
                )
                read = functools.partial(_read_shards, shards, self.options, self.block_samples)
                tasks.append(ReadTask(read, metadata))
            return tasks

    _DingsDatasource.__name__ = _DingsDatasource.__qualname__ = "DingsDatasource"
    return _DingsDatasource


def DingsDatasource(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    storage_options: dict[str, Any] | None = None,
    block_samples: int = BLOCK_SAMPLES,
    **options: Any,
) -> Any:
    """A Ray Data ``Datasource`` of dings datasets: ``ray.data.read_datasource(DingsDatasource(path))``.

    Each read task reads whole shards (one or several; as many tasks as the requested
    parallelism allows), yielding blocks of ``block_samples`` rows: one column per sample field,
    arrays as tensor columns.

    Args:
        paths: a glob pattern (``out/train/train-*.msgpack``, ``s3://bucket/train/*.msgpack``), a
            folder written in partitions (its manifest lists the shards), a data file, or a list.
        storage_options: fsspec options for URLs.
        block_samples: samples per block.
        options: for each :class:`~dings.readers.MsgpackReader` (``allow_unsafe``, ``cache_dir`` …).
    """
    return _datasource_class()(paths, storage_options=storage_options, block_samples=block_samples, **options)


def read_dings(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    storage_options: dict[str, Any] | None = None,
    **options: Any,
) -> Any:
    """``ray.data.read_datasource(DingsDatasource(paths, …))``: dings datasets as a Ray Dataset."""
    _ray()
    import ray.data

    return ray.data.read_datasource(DingsDatasource(paths, storage_options=storage_options, **options))
