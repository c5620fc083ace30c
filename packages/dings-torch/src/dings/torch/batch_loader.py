"""Loader: whole batches from a dings reader, decoded into per-field buffers on a pool of threads."""

from __future__ import annotations

import collections
import numbers
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

import torch
from dings.readers import EpochOrder

from .base import as_reader
from .batch_decode import BatchDecoder, BatchError, _Slices, collate_columns
from .batch_processes import ProcessPool
from .columns import BufferPool, Column
from .distributed import resolve_rank
from .partition import Split, even_mode

__all__ = ["Loader"]

#: batches of small samples are decoded together up to this many packed bytes …
_GROUP_BYTES = 1 << 20
#: … and this many batches
_MAX_GROUP = 16


def _count(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _to_torch(value: Any, pin: bool) -> Any:
    if isinstance(value, np.ndarray):
        if not value.dtype.isnative:
            value = value.astype(value.dtype.newbyteorder("="))
        try:
            tensor = torch.from_numpy(value)
        except TypeError:  # a dtype torch lacks: stays numpy
            return value
        return tensor.pin_memory() if pin else tensor
    if isinstance(value, dict):
        return {k: _to_torch(v, pin) for k, v in value.items()}
    if pin and isinstance(value, torch.Tensor):
        return value.pin_memory()
    return value


def _values(column: Any) -> list:
    """The per-sample values of a decoded column, as plain decoding would give them."""
    if isinstance(column, Column):
        return column.tolist()
    if isinstance(column, np.ndarray):
        plain = column.ndim == 1 and column.dtype in (np.int64, np.float64, np.bool_)  # from Python ints, floats, bools
        return column.tolist() if plain else list(column)
    if isinstance(column, dict):
        rows = {k: _values(v) for k, v in column.items()}
        count = len(next(iter(rows.values()))) if rows else 0
        return [{k: v[i] for k, v in rows.items()} for i in range(count)]
    return list(column)


def _split(block: Any, bounds: list[int]) -> list:
    """Cut a decoded block of samples into batches at ``bounds`` (views, no copies of values)."""
    pieces = [(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
    if isinstance(block, dict):
        parts = {k: _split(v, bounds) for k, v in block.items()}
        return [{k: v[i] for k, v in parts.items()} for i in range(len(pieces))]
    if isinstance(block, Column):
        offsets = block.offsets
        return [
            Column(block.data[offsets[a] : offsets[b]], offsets[a : b + 1] - offsets[a], block.text) for a, b in pieces
        ]
    return [block[a:b] for a, b in pieces]


class Loader:
    """Batches of a dings reader, decoded straight into per-field batch buffers by a pool of threads.

    Iterating gives one batch at a time: a dict ``field -> value`` (or a tuple, see ``tuples``),
    where ints, floats and bools are 1-D tensors, fixed-shape numpy arrays (msgpack-numpy) one
    stacked ``(batch, *shape)`` tensor, and ``str``/``bytes`` a :class:`~dings.torch.Column`.
    Samples of one layout are decoded without a Python object per sample (see
    :class:`~dings.torch.BatchDecoder`), and nothing is pickled.

    **Order and split** are those of :class:`~dings.torch.IterableDataset` with the same
    ``batch_size``, ``shuffle``/``quasi``, ``seed``, ``chunk_size``, ``even``, ``epoch_size`` and
    ranks: the same batches in the same order, every sample exactly once per epoch across ranks.
    :meth:`set_epoch`, :meth:`state_dict` and :meth:`load_state_dict` work the same way (a state
    resumes the remaining samples of its epoch, with any number of threads).

    **Threads.** ``threads`` threads build batches in the training process; up to ``prefetch``
    batches are ready ahead. Work that releases the GIL (copies, JPEG decoding, resizing) runs on
    all cores. Stacked arrays reuse the memory of batches no longer referenced. With
    ``processes=N``, N forked worker processes build the batches instead and hand them back through
    shared-memory slots, reused once a batch is no longer referenced (nothing is pickled but the
    layout, and values that are neither arrays nor str/bytes).

    **Transforms.** ``transforms`` is ``{field: f}`` with ``f(value) -> value`` per sample (e.g.
    :class:`~dings.torch.DecodeRandomResizedCrop`), or one ``f(sample) -> sample`` over per-sample
    dicts (slower: a dict per sample); their results are collated like decoded fields.
    ``batch_transform(batch) -> batch`` runs on the whole batch (numpy) in the thread.

    **Errors.** A sample missing a selected field, a field whose kind or shape changes, or a
    transform that raises stops the epoch with a :class:`~dings.torch.BatchError` naming the
    sample's key and the field; the threads are stopped and joined.

    Args:
        reader: a dings reader, or a dataset spec (a data file, pattern, folder, manifest, URL
            such as ``"s3://bucket/train/"``, or a list of them; opened with
            :func:`dings.readers.open_dataset`).
        batch_size: samples per batch.
        threads: threads building batches.
        processes: build batches in this many worker processes instead (for transforms that hold
            the GIL); they hand batches back through shared-memory slots (see
            :class:`~dings.torch.batch_processes.ProcessPool`). Forked: Linux and macOS only.
        shuffle: a new seeded uniform order of all samples each epoch.
        quasi: shuffle runs of ``chunk_size`` consecutive samples (faster reads).
        seed: non-negative int; the same seed gives the same orders everywhere.
        keys: fields to keep (default: all); their order is the order of ``tuples``.
        transforms: per-sample transforms (see above).
        batch_transform: a function of the whole batch.
        drop_last: leave out this rank's last batch if it holds fewer than ``batch_size`` samples.
        tuples: yield ``tuple(batch[k] for k in keys)`` instead of dicts (needs ``keys``).
        numpy: yield numpy arrays instead of tensors.
        pin_memory: put tensors into pinned memory (for ``.to("cuda", non_blocking=True)``), in the
            threads that build the batches; without a CUDA device a warning, and ordinary memory.
        prefetch: tasks (a batch, or a few batches of small samples) prepared ahead (default:
            the number of threads or processes).
        epoch: the first epoch.
        chunk_size: run length of ``quasi`` shuffling.
        even: ``True``/``"repeat"``, ``"drop"`` or ``False``, as for IterableDataset.
        epoch_size: samples per epoch over all ranks, or ``None`` for one pass.
        rank: this process's rank (default: from ``torch.distributed``, else 0).
        world_size: number of ranks (default: from ``torch.distributed``, else 1).
        group: the ``torch.distributed`` process group.
        reader_options: keyword arguments for :func:`~dings.readers.open_dataset` when ``reader``
            is a spec (``cache_dir``, ``storage_options``, ``allow_unsafe`` …).

    Raises:
        ValueError: an argument is out of range (the message names it).
        TypeError: ``reader`` is not a reader, or a transform is not callable.

    Example::

        loader = Loader(MsgpackReader("train.msgpack"), 256, shuffle=True, keys=("image", "label"),
                        transforms={"image": DecodeRandomResizedCrop(224)}, tuples=True)
        for epoch in range(epochs):
            loader.set_epoch(epoch)
            for images, labels in loader:
                ...
    """

    def __init__(
        self,
        reader: Any,
        batch_size: int,
        *,
        threads: int = 2,
        processes: int = 0,
        shuffle: bool = False,
        quasi: bool = False,
        seed: int = 0,
        keys: Sequence[str] | None = None,
        transforms: Mapping[str, Callable[[Any], Any]] | Callable[[dict], dict] | None = None,
        batch_transform: Callable[[dict], dict] | None = None,
        drop_last: bool = False,
        tuples: bool = False,
        numpy: bool = False,
        pin_memory: bool = False,
        prefetch: int | None = None,
        epoch: int = 0,
        chunk_size: int = 16,
        even: bool | str = True,
        epoch_size: int | None = None,
        rank: int | None = None,
        world_size: int | None = None,
        group: Any = None,
        reader_options: Mapping[str, Any] | None = None,
    ) -> None:
        reader = as_reader(reader, reader_options)
        for needed in ("__len__", "read_spans"):
            if not hasattr(reader, needed):
                raise TypeError(f"reader must be a dings reader (with len and read_spans), got {type(reader).__name__}")
        self.reader = reader
        self.batch_size = _count(batch_size, "batch_size", 1)
        self.threads = _count(threads, "threads", 1)
        self.processes = _count(processes, "processes", 0)
        self.prefetch = _count(max(self.threads, self.processes) if prefetch is None else prefetch, "prefetch", 1)
        if isinstance(keys, str):
            raise TypeError(f"keys must be a sequence of field names, got the string {keys!r}; write keys=({keys!r},)")
        self.keys = None if keys is None else tuple(keys)
        if tuples and self.keys is None:
            raise ValueError("tuples=True needs keys=(...): the fields to put in each tuple, in order")
        if transforms is not None and not callable(transforms):
            if not isinstance(transforms, Mapping):
                raise TypeError(
                    f"transforms must be a dict {{field: f}} or a callable f(sample), got {type(transforms).__name__}"
                )
            for name, f in transforms.items():
                if not callable(f):
                    raise TypeError(f"transforms[{name!r}] is {f!r}, not a callable f(value)")
        if batch_transform is not None and not callable(batch_transform):
            raise TypeError(f"batch_transform must be a callable f(batch), got {batch_transform!r}")
        self.transforms = transforms
        self.batch_transform = batch_transform
        self.drop_last = bool(drop_last)
        self.tuples = bool(tuples)
        self.numpy = bool(numpy)
        self.pin_memory = bool(pin_memory) and not self.numpy
        if self.pin_memory and not torch.cuda.is_available():
            warnings.warn("Loader(pin_memory=True): no CUDA device, so batches stay in ordinary memory", stacklevel=2)
            self.pin_memory = False
        self.even = even_mode(even)
        self.chunk_size = _count(chunk_size, "chunk_size", 1)
        mode = "quasi" if quasi else "shuffle" if shuffle else "sequential"
        size = None if epoch_size is None else _count(epoch_size, "epoch_size", 1)
        self._order = EpochOrder(len(reader), mode, _count(seed, "seed", 0), size, self.chunk_size)
        self._rank, self._world_size, self.group = rank, world_size, group
        self.ranks()  # check explicit values now
        self._pool = BufferPool(keep=self.prefetch + self.threads + 2)
        whole = callable(transforms)  # f(sample) needs every field; keys are applied after it
        lazy = tuple(transforms) if isinstance(transforms, Mapping) else ()  # transformed bytes are read in place
        self._decoder = BatchDecoder(
            None if whole else self._decoded_keys(),
            self._pool,
            allow_unsafe=getattr(reader, "_allow_unsafe", False) or bool((reader_options or {}).get("allow_unsafe")),
            lazy=lazy,
        )
        # the next iteration: epoch, resume offset, and whether set/load happened since one began
        self._epoch, self._start, self._untouched = _count(epoch, "epoch", 0), 0, True
        self._active: list | None = None  # [epoch, start, split, batches delivered, finished]
        self._sample_bytes = _GROUP_BYTES  # packed bytes per sample, as last seen (large until known)

    def _decoded_keys(self) -> tuple | None:
        if self.keys is None:
            return None
        extra = [k for k in (self.transforms if isinstance(self.transforms, Mapping) else {}) if k not in self.keys]
        return self.keys + tuple(extra)

    # --- ranks, epochs, state ---

    def ranks(self) -> tuple[int, int]:
        """``(rank, world_size)`` this loader splits for (explicit values, else ``torch.distributed``'s)."""
        return resolve_rank(self._rank, self._world_size, self.group)

    @property
    def epoch(self) -> int:
        """The epoch the next iteration yields."""
        return self._epoch

    @property
    def seed(self) -> int:
        """The seed of the epoch orders."""
        return self._order.seed

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration epoch ``epoch`` (from its start; after :meth:`load_state_dict`
        of that same epoch, from the resume position)."""
        epoch = _count(epoch, "epoch", 0)
        if not (self._untouched and epoch == self._epoch):
            self._start = 0
        self._epoch, self._untouched = epoch, True

    def _split(self, start: int, world: int) -> Split:
        return Split(max(0, self._order.epoch_length - start), world, self.batch_size, self.even)

    def _bounds(self, split: Split, rank: int) -> list[tuple[int, int]]:
        bounds = list(split.batches(rank))
        if self.drop_last and bounds and bounds[-1][1] - bounds[-1][0] < self.batch_size:
            bounds.pop()
        return bounds

    def __len__(self) -> int:
        """Batches this rank yields in the next iteration."""
        rank, world = self.ranks()
        return len(self._bounds(self._split(self._start, world), rank))

    def state_dict(self) -> dict:
        """Where training stands: ``{"epoch", "consumed", …}`` after the batches delivered so far.

        Within an iteration, ``consumed`` counts the positions of the epoch every rank has used
        after delivering as many batches as this one; the same dict as
        :meth:`~dings.torch.IterableDataset.state_dict`. Outside one, the next iteration's start.
        """
        active = self._active
        if active is None or self._untouched:
            state = {"epoch": self._epoch, "consumed": self._start}
        else:
            epoch, start, split, delivered, finished = active
            if finished:
                state = {"epoch": epoch + 1, "consumed": 0}
            else:
                used, done = split.consumed(delivered)
                state = {"epoch": epoch + 1 if done else epoch, "consumed": 0 if done else start + used}
        state.update(self._order.identity())
        return state

    def load_state_dict(self, state: dict) -> None:
        """Continue from a :meth:`state_dict` (of a Loader or an IterableDataset): the next
        iteration yields the rest of its epoch.

        Raises:
            ValueError: ``state`` is not such a dict, or was made for a different dataset, order
                or seed (the message names the difference).
        """
        epoch, consumed = self._order.resume_position(state, "Loader", "loader")
        self._epoch, self._start, self._untouched = epoch, consumed, True
        self._active = None

    # --- iteration ---

    def __iter__(self) -> Iterator[Any]:
        epoch, start = self._epoch, self._start
        rank, world = self.ranks()
        split = self._split(start, world)
        bounds = self._bounds(split, rank)
        self._epoch, self._start, self._untouched = epoch + 1, 0, False
        active = self._active = [epoch, start, split, 0, False]
        return self._run(epoch, start, split, bounds, active)

    def _run(self, epoch: int, start: int, split: Split, bounds: list, active: list) -> Iterator[Any]:
        pending: collections.deque = collections.deque()
        position = 0
        send: Callable[..., Any]
        if self.processes:
            pool = ProcessPool(self.processes, self._in_worker)
            send, close = pool.submit, pool.close
        else:
            executor = ThreadPoolExecutor(self.threads, thread_name_prefix="dings-loader")
            # Groups of small batches without transforms are decoded by one thread at a time: their
            # decoding holds the GIL throughout, so a second thread would only add switching (2 threads
            # measured 15-40% slower than 1 on small samples). Transforms may release the GIL
            # (image decoding, numpy), so batches with transforms use every thread.
            serial = ThreadPoolExecutor(1, thread_name_prefix="dings-loader-serial") if self.threads > 1 else executor
            untransformed = self.transforms is None and self.batch_transform is None

            def send_to_thread(epoch: int, start: int, group: list, remaining: int) -> Future:
                pool = serial if len(group) > 1 and untransformed else executor
                return pool.submit(self._batches, epoch, start, group, remaining)

            send = send_to_thread

            def close() -> None:
                for future in pending:
                    future.cancel()
                executor.shutdown(wait=True, cancel_futures=True)
                serial.shutdown(wait=True, cancel_futures=True)

        def submit() -> bool:
            nonlocal position
            if position >= len(bounds):
                return False
            # batches of small samples are decoded several at a time (fewer numpy calls per sample)
            count = max(1, min(_MAX_GROUP, _GROUP_BYTES // max(1, self._sample_bytes * self.batch_size)))
            group = bounds[position : position + count]
            position += len(group)
            pending.append(send(epoch, start, group, split.remaining))
            return True

        try:
            while len(pending) < self.prefetch and submit():
                pass
            while pending:
                if self.processes:
                    batches, self._sample_bytes = pool.result(pending.popleft())
                    batches = [self._finish(batch) for batch in batches]
                else:
                    batches = pending.popleft().result()
                submit()
                for batch in batches:
                    active[3] += 1
                    yield batch
            active[4] = True
        finally:
            close()

    def batch(self, indices: Sequence[int] | np.ndarray) -> Any:
        """Build one batch of the samples at ``indices`` (as iteration would, in this thread)."""
        indices = np.asarray(indices, dtype=np.int64)
        batch = self._build(indices)
        return self._finish(batch if self.batch_transform is None else self.batch_transform(batch))

    def _batches(self, epoch: int, start: int, group: list[tuple[int, int]], remaining: int) -> list:
        """The finished batches at ``group`` (relative positions of the epoch)."""
        return [self._finish(batch) for batch in self._numpy_batches(epoch, start, group, remaining)]

    def _in_worker(self, epoch: int, start: int, group: list[tuple[int, int]], remaining: int) -> tuple[list, int]:
        return self._numpy_batches(epoch, start, group, remaining), self._sample_bytes

    def _numpy_batches(self, epoch: int, start: int, group: list[tuple[int, int]], remaining: int) -> list:
        """Build the batches at ``group`` from one decoded block, transformed, still numpy."""
        order = self._order
        pieces = []
        for first, stop in group:
            indices = order.batch_indices(epoch, start, first, stop, remaining)
            if order.mode == "quasi" and len(indices) > 1:
                indices = indices[order.batch_permutation(epoch, start + first, len(indices))]
            pieces.append(indices)
        indices = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
        block = self._build(indices)
        batches = [block] if len(pieces) == 1 else _split(block, np.cumsum([0, *map(len, pieces)]).tolist())
        if self.batch_transform is not None:
            batches = [self.batch_transform(batch) for batch in batches]
        return batches

    def _key(self, index: int) -> Any:
        try:
            return self.reader.find_key(int(index))
        except Exception:  # noqa: BLE001 - only for a message
            return f"#{int(index)}"

    def _build(self, indices: np.ndarray) -> dict:
        try:
            batch = self._decode(indices)
        except BatchError as exc:
            raise BatchError(
                f"{exc} (batch of samples {self._key(indices[0])!r} … {self._key(indices[-1])!r})"
            ) from None
        transforms = self.transforms
        if transforms is None:
            pass
        elif callable(transforms):
            samples = _values(batch)
            for i, sample in enumerate(samples):
                try:
                    samples[i] = transforms(sample)
                except Exception as exc:
                    raise BatchError(
                        f"transforms failed on sample {self._key(indices[i])!r}: {type(exc).__name__}: {exc}"
                    ) from exc
            try:
                batch = collate_columns(samples, self.keys, self._pool)
            except BatchError as exc:
                raise BatchError(f"after transforms: {exc}") from None
        else:
            for name, f in transforms.items():
                if name not in batch:
                    raise BatchError(
                        f"transforms has field {name!r}, but sample {self._key(indices[0])!r} has only {sorted(batch)}"
                    )
                batch[name] = self._transform_field(name, f, batch[name], indices)
            if self.keys is not None:
                batch = {k: batch[k] for k in self.keys}
        return batch

    def _transform_field(self, name: str, f: Callable[[Any], Any], column: Any, indices: np.ndarray) -> Any:
        """``f`` applied to each sample's value, straight into one batch buffer when it returns arrays
        (only one sample's value and result exist at a time besides the batch)."""
        n = len(indices)
        value_of = column.__getitem__ if isinstance(column, (Column, _Slices)) else _values(column).__getitem__
        out: np.ndarray | None = None
        results: list = []
        for i in range(n):
            try:
                result = f(value_of(i))
            except Exception as exc:
                raise BatchError(
                    f"transform of field {name!r} failed on sample {self._key(indices[i])!r}: {type(exc).__name__}: {exc}"
                ) from exc
            if i == 0 and isinstance(result, np.ndarray) and result.dtype.kind in "biufc":
                out = self._pool.empty((n, *result.shape), result.dtype)
            if out is None:
                results.append(result)
            elif not isinstance(result, np.ndarray) or result.shape != out.shape[1:] or result.dtype != out.dtype:
                got = (
                    f"a {result.dtype} array of shape {result.shape}"
                    if isinstance(result, np.ndarray)
                    else type(result).__name__
                )
                raise BatchError(
                    f"the transform of field {name!r} returned {got} for sample {self._key(indices[i])!r}, "
                    f"but a {out.dtype} array of shape {out.shape[1:]} for sample {self._key(indices[0])!r}; results of a batch must agree"
                )
            else:
                out[i] = result
        if out is not None:
            return out
        try:
            return collate_columns([{name: v} for v in results], (name,), self._pool)[name]
        except BatchError as exc:
            raise BatchError(f"after the transform of field {name!r}: {exc}") from None

    def _decode(self, indices: np.ndarray) -> dict:
        parts = self.reader.read_spans(indices)
        size = sum(int(span.stops.sum() - span.starts.sum()) for span in parts)
        self._sample_bytes = max(1, size // max(1, len(indices)))
        if (
            len(parts) == 1
            and len(parts[0].where) == len(indices)
            and bool((parts[0].where == np.arange(len(indices))).all())
        ):
            span = parts[0]
            return self._decoder.decode(span.buffer, span.starts, span.stops)
        samples: list = [None] * len(indices)
        for span in parts:  # several buffers (shards, remote pieces): decode each, then merge by position
            decoded = _values(self._decoder.decode(span.buffer, span.starts, span.stops))
            for where, sample in zip(span.where.tolist(), decoded):
                samples[where] = sample
        return collate_columns(samples, self._decoder.keys, self._pool)

    def _finish(self, batch: Any) -> Any:
        if not self.numpy:
            batch = _to_torch(batch, self.pin_memory) if isinstance(batch, dict) else batch
        if self.tuples:
            return tuple(batch[k] for k in self.keys)  # type: ignore[union-attr]
        return batch

    def __repr__(self) -> str:
        return (
            f"Loader({self.reader!r}, batch_size={self.batch_size}, threads={self.threads}, mode={self._order.mode!r})"
        )
