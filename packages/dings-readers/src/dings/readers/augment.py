"""Augments: readers that wrap another reader and change the order or the extent of its samples.

Every augment is itself a :class:`~dings.readers.Reader`, so ``get``, slices, ``iter``, ``next``,
``seek``, ``in``, :meth:`~dings.readers.Reader.find_index` and :meth:`~dings.readers.Reader.find_key`
all work on it, and augments nest (``Range(Shuffler(reader), 0, 1000)``). Closing an augment, or
leaving its ``with`` block, closes the wrapped reader. ``copy.copy`` copies the wrapped reader too,
so the copy has its own read position all the way down. Augments are not thread safe.

As in datadings, an augment's ``iter`` takes ``yield_key, raw, copy, chunk_size`` in that order;
``start`` and ``stop`` are keyword-only (``Range(r, 1, 4).iter(True)`` yields ``(key, sample)``
pairs). An int given where ``yield_key`` goes raises ``TypeError`` rather than being taken as a flag.

Random order, seeds and epochs
    :class:`Shuffler` and :class:`QuasiShuffler` compute their order from ``(seed, epoch)`` only,
    with ``numpy.random.default_rng([seed, epoch])``. The same seed therefore gives the same orders
    on every machine and in every run. ``seed=None`` means a fixed default derived from the dataset
    length (as in datadings), so even unseeded runs repeat; pass e.g. ``secrets.randbits(64)`` for
    a different order per run.

    A *pass* is one read of all samples in order. A pass is complete once its last sample has been
    handed out by ``iter`` or ``next``. When iteration then starts again (``iter()``, another
    ``for`` loop, ``iter(start=0)``), the next pass starts with ``epoch + 1`` and a new order, like
    datadings, PyTorch's shuffling sampler and ``tf.data``'s default shuffle. A pass that stopped
    early keeps its epoch, so ``iter()`` continues it. ``seek(index)`` addresses passes as
    datadings does: position ``index % len`` of epoch ``index // len`` (so ``seek(i)`` with ``i <
    len`` is epoch 0); ``set_epoch(e)`` chooses an epoch and keeps the position.

    Random access (``get``, slices, ``find_index``, ``find_key``) uses the current epoch's
    order: ``shuffler[i]`` is the ``i``-th sample the current pass yields. Random access never
    starts a new pass.

How augments drive the reader they wrap
    :class:`Repeater` and :class:`Cycler` read the wrapped reader's passes one after another
    through its ``iter``. If it is a shuffler, each repetition therefore gets a new order (like
    ``tf.data``'s ``shuffle().repeat()``). Their random access maps index ``i`` to the wrapped
    reader's index ``i % len(reader)`` in its current order. :class:`Range`, :class:`Shuffler`
    and :class:`QuasiShuffler` read the reader they wrap by index (single samples or contiguous
    ranges), never through its ``iter``. They never start a new pass of it. A ``Range`` over a
    ``Shuffler`` is therefore a fixed random subset, safe for train/validation splits.
"""

from __future__ import annotations

import copy as _copy
import math
import numbers
import operator
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from dings.format import DamagedDataError

from .reader import Reader, Spans

__all__ = ["Augment", "Cycler", "QuasiShuffler", "Range", "Repeater", "Shuffler"]

# numpy indices are turned into Python ints this many at a time (bounded memory, fast loops)
_BLOCK = 4096
#: chunks a quasi-shuffled pass fetches at once from a remote reader (concurrent requests)
_READ_AHEAD = 16


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, got {value!r}") from None


def _check_yield_key(value: Any) -> bool:
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"yield_key must be a bool, got {value!r}: augments take yield_key first, as in datadings; "
            "give start= and stop= as keywords (iter(start=..., stop=...))"
        )
    return value


def _check_seed(seed: int | None, default: int) -> int:
    if seed is None:
        return default
    value = _as_int(seed, "seed")
    if value < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return value


class Augment(Reader):
    """Base of all augments: a reader that wraps another reader.

    Unless a subclass says otherwise, everything is delegated to the wrapped reader: the same
    length, keys and samples at the same indices.

    Args:
        reader: the reader to wrap (any :class:`~dings.readers.Reader`, including another augment).

    Raises:
        TypeError: ``reader`` is not a Reader.
    """

    def __init__(self, reader: Reader) -> None:
        if not isinstance(reader, Reader):
            raise TypeError(f"{type(self).__name__} wraps a dings.readers.Reader, got {type(reader).__name__}")
        self._reader = reader
        self._position = 0

    @property
    def reader(self) -> Reader:
        """The wrapped reader."""
        return self._reader

    def __len__(self) -> int:
        return len(self._reader)

    def __contains__(self, key: object) -> bool:
        return key in self._reader

    def find_index(self, key: str) -> int:
        """Return the index of the sample with ``key``.

        Raises:
            KeyError: no sample has this key.
        """
        return self._reader.find_index(key)

    def find_key(self, index: int) -> str:
        """Return the key of the sample at ``index`` (negative counts from the end).

        Raises:
            IndexError: ``index`` is out of range.
        """
        return self._reader.find_key(self._normalize(index))

    def read_sample(self, index: int, *, raw: bool = False, copy: bool = True) -> Any:
        """Return sample ``index`` (valid, non-negative) of the wrapped reader."""
        return self._reader.read_sample(index, raw=raw, copy=copy)

    def read_range(self, start: int, stop: int, *, raw: bool = False, copy: bool = True) -> Iterator[Any]:
        """Return an iterator over samples ``start`` … ``stop - 1`` of the wrapped reader."""
        return self._reader.read_range(start, stop, raw=raw, copy=copy)

    def read_spans(self, indices: Sequence[int] | np.ndarray) -> list[Spans]:
        """Where the packed bytes of the samples at ``indices`` lie: the wrapped reader's spans of
        the indices mapped to it (see :meth:`Reader.read_spans`)."""
        return self._reader.read_spans(self._map_indices(np.asarray(indices, dtype=np.int64)))

    def _map_indices(self, indices: np.ndarray) -> np.ndarray:
        """The wrapped reader's indices of positions ``indices`` (valid, non-negative)."""
        return indices

    @property
    def fetches_concurrently(self) -> bool:  # type: ignore[override]
        """Whether the wrapped reader fetches runs concurrently (a remote reader underneath)."""
        return bool(getattr(self._reader, "fetches_concurrently", False))

    def __enter__(self) -> Augment:
        self._reader.__enter__()
        return self

    def iter(  # type: ignore[override]
        self,
        yield_key: bool = False,
        raw: bool = False,
        copy: bool = True,
        chunk_size: int = 16,
        *,
        start: int | None = None,
        stop: int | None = None,
    ) -> Iterator[Any]:
        """Iterate over the samples, in datadings' argument order (``start``/``stop`` are keywords).

        Like :meth:`Reader.iter`, iteration continues at the read position and starts over at 0
        once the read position is at the end, so every ``for`` loop over a finished augment reads
        it again.

        Args:
            yield_key: yield ``(key, sample)`` pairs.
            raw: yield packed msgpack bytes.
            copy: if false, samples may be ``memoryview`` objects sharing the reader's buffers.
            chunk_size: samples the wrapped reader reads together.
            start: first position (negative counts from the end); ``None`` continues at the read position.
            stop: end position, exclusive; ``None`` for the end.

        Raises:
            TypeError: ``yield_key`` is an int other than a bool (most likely a ``start`` given
                positionally, which augments take as a keyword, as datadings' augments do).
        """
        return self._iter(start, stop, _check_yield_key(yield_key), raw, copy, chunk_size)

    def _iter(self, start: int | None, stop: int | None, yield_key: bool, raw: bool, copy: bool, chunk_size: int) -> Iterator[Any]:
        return Reader.iter(self, start, stop, yield_key, raw, copy, chunk_size)

    def close(self) -> None:
        """Close the wrapped reader."""
        self._reader.close()

    def __copy__(self) -> Augment:
        clone = super().__copy__()
        clone.__dict__.pop("_live", None)  # the iteration behind next() is not shared
        clone._reader = _copy.copy(self._reader)  # type: ignore[attr-defined]
        return clone  # type: ignore[return-value]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_live", None)  # a running generator cannot be pickled; next() starts a new one
        return state

    def _repr_args(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._reader!r}{self._repr_args()})"


class _Plan:
    """The order of one epoch: ``order[i]`` is the wrapped reader's index of position ``i``."""

    def __init__(self, epoch: int, order: np.ndarray) -> None:
        order.flags.writeable = False  # shared by copies of the augment
        self.epoch = epoch
        self.order = order
        self.inverse: np.ndarray | None = None


class _EpochOrder(Augment):
    """Shared by the shufflers: a seeded order per epoch and the rule that starts new passes."""

    def __init__(self, reader: Reader, seed: int | None) -> None:
        super().__init__(reader)
        self._seed = _check_seed(seed, len(reader))
        self._epoch = 0
        self._pass_done = False
        self._plan_cache: _Plan | None = None

    @property
    def seed(self) -> int:
        """The seed in use (the default one if ``None`` was given)."""
        return self._seed

    @property
    def epoch(self) -> int:
        """The epoch whose order is current; it goes up by one each time a completed pass restarts."""
        return self._epoch

    def set_epoch(self, epoch: int) -> None:
        """Use the order of ``epoch`` from now on; the read position is kept.

        Args:
            epoch: a non-negative int.

        Raises:
            ValueError: ``epoch`` is negative.
        """
        value = _as_int(epoch, "epoch")
        if value < 0:
            raise ValueError(f"epoch must be a non-negative int, got {epoch!r}")
        self._epoch = value
        self._pass_done = False

    def _rng(self) -> np.random.Generator:
        return np.random.default_rng([self._seed, self._epoch])

    def _make_plan(self) -> _Plan:
        raise NotImplementedError

    def _plan(self) -> _Plan:
        plan = self._plan_cache
        if plan is None or plan.epoch != self._epoch:
            plan = self._plan_cache = self._make_plan()
        return plan

    def _new_pass_if_done(self) -> None:
        if self._pass_done:
            self._epoch += 1
            self._pass_done = False

    # --- random access in the current order ---

    def find_index(self, key: str) -> int:
        """Return the position of the sample with ``key`` in the current epoch's order.

        Raises:
            KeyError: no sample has this key.
        """
        index = self._reader.find_index(key)
        plan = self._plan()
        if plan.inverse is None:
            inverse = np.empty_like(plan.order)
            inverse[plan.order] = np.arange(len(plan.order), dtype=plan.order.dtype)
            inverse.flags.writeable = False
            plan.inverse = inverse
        return int(plan.inverse[index])

    def find_key(self, index: int) -> str:
        """Return the key of the sample at position ``index`` of the current epoch's order.

        Raises:
            IndexError: ``index`` is out of range.
        """
        return self._reader.find_key(int(self._plan().order[self._normalize(index)]))

    def read_sample(self, index: int, *, raw: bool = False, copy: bool = True) -> Any:
        """Return the sample at position ``index`` (valid, non-negative) of the current epoch's order."""
        return self._reader.read_sample(int(self._plan().order[index]), raw=raw, copy=copy)

    def _map_indices(self, indices: np.ndarray) -> np.ndarray:
        return self._plan().order[indices]

    # --- passes: reading to the end, then moving back, starts the next epoch ---

    def _iter(self, start: int | None, stop: int | None, yield_key: bool, raw: bool, copy: bool, chunk_size: int) -> Iterator[Any]:
        # restarting after a completed pass starts the next epoch
        begin, end = self._bounds(self._resume() if start is None else start, stop)
        if begin < end:
            self._new_pass_if_done()
        items = Reader.iter(self, begin, end, yield_key, raw, copy, chunk_size)
        return self._mark_pass_end(items, end - begin) if end == len(self) else items

    def _mark_pass_end(self, items: Iterator[Any], count: int) -> Iterator[Any]:
        # the pass is complete as soon as its last sample is handed out, even if the
        # consumer never asks for more (itertools.islice, a break after the last sample)
        for handed_out, item in enumerate(items, 1):
            if handed_out == count:
                self._pass_done = True
            yield item

    def next(self) -> Any:
        """Return the sample at the read position and advance it.

        Raises:
            StopIteration: at the end of the pass.
        """
        sample = super().next()
        if self._position == len(self):
            self._pass_done = True
        return sample

    def rawnext(self) -> bytes:
        """Like :meth:`next`, as packed msgpack bytes."""
        sample = super().rawnext()
        if self._position == len(self):
            self._pass_done = True
        return sample

    def seek(self, index: int) -> None:
        """Go to position ``index % len`` of epoch ``index // len``, as datadings' shufflers do.

        ``seek(e * len(shuffler) + i)`` resumes at sample ``i`` of epoch ``e``; ``seek(i)`` with
        ``i < len`` is position ``i`` of epoch 0.

        Raises:
            IndexError: ``index`` is negative, or not 0 for an empty reader.
        """
        value = _as_int(index, "index")
        length = len(self)
        if value < 0 or (length == 0 and value):
            raise IndexError(f"cannot seek to index {index} of {self!r}: shufflers seek to epoch * len + position >= 0")
        self.set_epoch(value // length if length else 0)
        self._position = value % length if length else 0

    def seek_key(self, key: str) -> None:
        """Move the read position to the sample with ``key`` (in the next epoch after a completed pass).

        Raises:
            KeyError: no sample has this key.
        """
        self._reader.find_index(key)  # fail before changing anything
        self._new_pass_if_done()
        self._position = self.find_index(key)

    def _repr_args(self) -> str:
        return f", seed={self._seed}"


class Shuffler(_EpochOrder):
    """Read a reader in a uniformly random order.

    The order of epoch ``e`` is ``numpy.random.default_rng([seed, e]).permutation(len(reader))``.
    It is computed (8 bytes per sample) the first time an epoch is used. Position ``i`` of the
    shuffler is sample ``order[i]`` of the wrapped reader. A new pass starts a new epoch (see
    the module documentation). Each sample is read by random access.

    Args:
        reader: the reader to shuffle.
        seed: a non-negative int; ``None`` uses ``len(reader)``, so the default order repeats too.

    Raises:
        TypeError: ``reader`` is not a Reader, or ``seed`` is not an int.
        ValueError: ``seed`` is negative.
    """

    def __init__(self, reader: Reader, seed: int | None = None) -> None:
        super().__init__(reader, seed)

    def _make_plan(self) -> _Plan:
        return _Plan(self._epoch, self._rng().permutation(len(self._reader)))

    def read_range(self, start: int, stop: int, *, raw: bool = False, copy: bool = True) -> Iterator[Any]:
        """Yield the samples at positions ``start`` … ``stop - 1`` of the current epoch's order."""
        order = self._plan().order
        read = self._reader.read_sample
        for first in range(start, stop, _BLOCK):
            for index in order[first : min(stop, first + _BLOCK)].tolist():
                yield read(index, raw=raw, copy=copy)


class _QuasiPlan(_Plan):
    """A QuasiShuffler epoch: which chunks are read in which order, and which read sample goes out when.

    The *stream* is the wrapped reader's samples in the order they are read: the chunks one after
    another in ``chunk_order``. ``ranks[i]`` is the stream position of the sample yielded at
    position ``i``; ``order[i]`` its index in the wrapped reader.
    """

    def __init__(self, epoch: int, rng: np.random.Generator, length: int, buf_size: int, chunk_size: int) -> None:
        chunk_order = rng.permutation(-(-length // chunk_size))
        starts = chunk_order * chunk_size
        sizes = np.minimum(chunk_size, length - starts)
        stream_starts = np.cumsum(sizes) - sizes
        ranks = _buffer_ranks(rng, length, min(buf_size, length))
        stream = np.repeat(starts - stream_starts, sizes) + np.arange(length)
        super().__init__(epoch, stream[ranks])
        ranks.flags.writeable = False
        self.ranks = ranks
        self.starts = starts.tolist()
        self.sizes = sizes.tolist()
        self.stream_starts = stream_starts

    def indices(self, ranks: np.ndarray) -> np.ndarray:
        """Wrapped-reader indices of the samples at stream positions ``ranks``."""
        chunks = np.searchsorted(self.stream_starts, ranks, side="right") - 1
        return np.asarray(self.starts, dtype=np.int64)[chunks] + ranks - self.stream_starts[chunks]


def _buffer_ranks(rng: np.random.Generator, length: int, buf_size: int) -> np.ndarray:
    """Stream positions in the order a buffer of ``buf_size`` slots hands them out.

    The buffer starts with stream samples ``0 … buf_size - 1`` (sample ``s`` in slot ``s``). Each
    step empties a uniformly chosen slot and refills it with the next stream sample. The sample
    refilled after step ``t`` has stream position ``buf_size + t``. Once the stream is used up,
    the buffer is emptied in a uniformly random order. All steps are computed at once: the
    sample taken at step ``t`` is the one put into its slot the last time that slot was chosen,
    or the slot's initial sample.
    """
    steps = length - buf_size
    ranks = np.empty(length, dtype=np.int64)
    if steps > 0:
        slots = rng.integers(0, buf_size, size=steps)
        by_slot, grouped = _group_by_slot(slots, buf_size)
        del slots
        same_as_before = np.zeros(steps, dtype=bool)
        same_as_before[1:] = grouped[1:] == grouped[:-1]
        before = np.zeros(steps, dtype=np.int64)
        before[1:] = by_slot[:-1]
        ranks[by_slot] = np.where(same_as_before, buf_size + before, grouped)
        last_of_slot = np.ones(steps, dtype=bool)
        last_of_slot[:-1] = grouped[1:] != grouped[:-1]
        remaining = np.arange(buf_size, dtype=np.int64)
        remaining[grouped[last_of_slot]] = buf_size + by_slot[last_of_slot]
    else:
        steps = 0
        remaining = np.arange(length, dtype=np.int64)
    ranks[steps:] = rng.permutation(remaining)
    return ranks


def _group_by_slot(slots: np.ndarray, buf_size: int, packed: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Return the steps sorted by slot, in time order within a slot, and their slots.

    With ``packed`` (and when ``(slot, step)`` fits into 63 bits) the pairs are sorted as
    single ints, about three times faster than a stable argsort.
    """
    steps = len(slots)
    bits = max(steps - 1, 0).bit_length()
    if packed and bits + (buf_size - 1).bit_length() <= 63:
        pairs = (slots << bits) | np.arange(steps, dtype=np.int64)
        pairs.sort()
        return pairs & ((1 << bits) - 1), pairs >> bits
    by_slot = np.argsort(slots, kind="stable")
    return by_slot, slots[by_slot]


class QuasiShuffler(_EpochOrder):
    """A nearly random order that reads the wrapped reader in chunks of consecutive samples.

    The samples are cut into chunks of ``chunk_size`` consecutive indices, and the chunks are read
    in a random order through the wrapped reader's fast sequential path. A buffer holds up to
    ``buf_size`` read samples. Each step hands out a uniformly chosen buffered sample, and the next
    sample read takes its place. When all chunks have been read, the buffer is emptied in random
    order. A pass yields every sample exactly once. At most ``buf_size`` samples read from the
    wrapped reader are waiting at any time: samples are read only when the one to hand out next
    has not been read yet.

    Samples from the same chunk tend to come out closer together than in a true shuffle, more so
    when ``buf_size / chunk_size`` is small. Keep that ratio at about the number of classes or
    more.

    The order of each epoch depends only on ``(seed, epoch, len(reader), buf_size, chunk_size)``,
    so random access follows the pass order: ``get(i)`` is the ``i``-th sample the current pass
    yields (read on its own). Starting iteration in the middle of a pass (``iter(start)`` or
    ``seek`` then ``iter``) first reads the samples that the buffer would hold at that point,
    one by one, so prefer one long iteration. The orders are computed for a whole epoch at
    once (16 bytes per sample).

    Args:
        reader: the reader to shuffle.
        buf_size: buffer size in samples; a value below 1 is a fraction of ``len(reader)``,
            rounded up and at least ``chunk_size``. Bigger buffers are more random and use more
            memory.
        chunk_size: consecutive samples per chunk. Bigger chunks read faster and are less random.
        seed: a non-negative int; ``None`` uses ``len(reader)``, so the default order repeats too.

    Raises:
        TypeError: ``reader`` is not a Reader, or an argument has the wrong type.
        ValueError: ``buf_size`` is not positive (or is a non-whole number above 1),
            ``chunk_size < 1``, or ``seed`` is negative.
    """

    def __init__(self, reader: Reader, buf_size: float = 0.01, chunk_size: int = 16, seed: int | None = None) -> None:
        super().__init__(reader, seed)
        chunk = _as_int(chunk_size, "chunk_size")
        if chunk < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size!r}")
        if isinstance(buf_size, bool) or not isinstance(buf_size, numbers.Real):
            raise TypeError(f"buf_size must be a number, got {buf_size!r}")
        value = float(buf_size)
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"buf_size must be a positive number of samples or a fraction below 1, got {buf_size!r}")
        if value < 1:
            samples = max(chunk, math.ceil(value * len(reader)))
        elif value.is_integer():
            samples = int(value)
        else:
            raise ValueError(f"buf_size {buf_size!r} must be a whole number of samples (or a fraction below 1)")
        self._chunk_size = chunk
        self._buf_size = samples

    @property
    def buf_size(self) -> int:
        """The buffer size in samples (a fraction given to the constructor is already resolved)."""
        return self._buf_size

    @property
    def chunk_size(self) -> int:
        """Consecutive samples per chunk."""
        return self._chunk_size

    @property
    def num_chunks(self) -> int:
        """Number of chunks (the last one may be shorter), as datadings' ``num_chunks``."""
        return -(-len(self._reader) // self._chunk_size)

    def _make_plan(self) -> _QuasiPlan:
        return _QuasiPlan(self._epoch, self._rng(), len(self._reader), self._buf_size, self._chunk_size)

    def iter(  # type: ignore[override]
        self,
        yield_key: bool = False,
        raw: bool = False,
        copy: bool = True,
        chunk_size: int | None = None,
        *,
        start: int | None = None,
        stop: int | None = None,
    ) -> Iterator[Any]:
        """Iterate like :meth:`Augment.iter`; restarting after a completed pass starts the next epoch.

        Args:
            yield_key: yield ``(key, sample)`` pairs.
            raw: yield packed msgpack bytes.
            copy: if false, samples may be ``memoryview`` objects sharing the reader's buffers.
            chunk_size: read hint for the wrapped reader; ``None`` uses :attr:`chunk_size`.
                The shuffle's chunks stay as constructed, since they determine the order.
            start: first position; ``None`` continues at the read position.
            stop: end position, exclusive; ``None`` for the end.

        Raises:
            TypeError: ``yield_key`` is an int other than a bool (see :meth:`Augment.iter`).
        """
        hint = self._chunk_size if chunk_size is None else chunk_size
        return self._iter(start, stop, _check_yield_key(yield_key), raw, copy, hint)

    def read_range(self, start: int, stop: int, *, raw: bool = False, copy: bool = True) -> Iterator[Any]:
        """Yield the samples at positions ``start`` … ``stop - 1`` of the current epoch's order."""
        if start >= stop:
            return
        plan = self._plan()
        ranks = plan.ranks
        reader = self._reader
        waiting: dict[int, Any] = {}  # stream position -> sample read but not handed out yet
        read_until = 0
        if start:
            # the buffer as it is after `start` samples: read but not yet handed out
            read_until = int(ranks[:start].max()) + 1
            handed_out = np.zeros(read_until, dtype=bool)
            handed_out[ranks[:start]] = True
            pending = np.flatnonzero(~handed_out)
            for rank, index in zip(pending.tolist(), plan.indices(pending).tolist()):
                waiting[rank] = reader.read_sample(index, raw=raw, copy=copy)
        stream = self._stream(plan, read_until, raw, copy)
        for first in range(start, stop, _BLOCK):
            for wanted in ranks[first : min(stop, first + _BLOCK)].tolist():
                while wanted not in waiting:
                    found = next(stream, None)
                    if found is None:  # the wrapped reader yielded fewer samples than it has
                        raise DamagedDataError(
                            f"{reader!r} yielded fewer samples than its length {len(reader)}; "
                            "its data is damaged or its read_range() is wrong")
                    waiting[found[0]] = found[1]
                yield waiting.pop(wanted)

    def _stream(self, plan: _QuasiPlan, rank: int, raw: bool, copy: bool) -> Iterator[tuple[int, Any]]:
        """Yield ``(stream position, sample)`` from stream position ``rank`` on, a chunk at a time."""
        if rank >= len(plan.order):
            return
        chunk = int(np.searchsorted(plan.stream_starts, rank, side="right")) - 1
        skip = rank - int(plan.stream_starts[chunk])
        starts, sizes = np.asarray(plan.starts[chunk:]).tolist(), np.asarray(plan.sizes[chunk:]).tolist()
        runs = [(first, first + size) for first, size in zip(starts, sizes)]
        runs[0] = (runs[0][0] + skip, runs[0][1])
        reader = self._reader
        if getattr(reader, "fetches_concurrently", False):  # a remote reader: fetch chunks ahead, concurrently
            for ahead in range(0, len(runs), _READ_AHEAD):
                for samples in reader.read_runs(runs[ahead : ahead + _READ_AHEAD], raw, copy):
                    for sample in samples:
                        yield rank, sample
                        rank += 1
            return
        for start, stop in runs:
            for sample in reader.read_range(start, stop, raw=raw, copy=copy):
                yield rank, sample
                rank += 1

    def _repr_args(self) -> str:
        return f", buf_size={self._buf_size}, chunk_size={self._chunk_size}, seed={self._seed}"


class _Passes(Augment):
    """Shared by :class:`Cycler` and :class:`Repeater`: augments that read the wrapped reader pass after pass."""

    def seek(self, index: int) -> None:
        """Move the read position to ``index % len(reader)`` (any int, as datadings)."""
        length = len(self._reader)
        self._position = _as_int(index, "index") % length if length else 0

    def next(self) -> Any:
        """Return the sample at the read position and advance it (read as :meth:`iter` reads it).

        Raises:
            StopIteration: at the end (a :class:`Cycler` ends only if the reader is empty).
        """
        return self._next_in_pass(raw=False)

    def rawnext(self) -> bytes:
        """Like :meth:`next`, as packed msgpack bytes."""
        return self._next_in_pass(raw=True)

    def _next_in_pass(self, raw: bool) -> Any:
        """The sample at the read position, read by one long iteration kept between calls.

        So ``next()`` reads exactly what ``iter()`` would (a shuffler inside starts a new order
        for each repetition), at the cost of one iteration instead of one per call.

        Raises:
            StopIteration: at the end.
        """
        live = self.__dict__.pop("_live", None)
        if live is None or live[0] != (self._position, raw):
            items = self._iter(self._position, None, False, raw, True, 16)
        else:
            items = live[1]
        sample = next(items)  # advances the read position
        self._live = ((self._position, raw), items)
        return sample


class Cycler(_Passes):
    """Cycle through a reader forever.

    ``len`` and random access are those of the wrapped reader. Iterating without ``stop`` never
    ends: after the last sample it starts over at index 0, through the wrapped reader's ``iter``,
    so a shuffler inside gets a new epoch each cycle. The read position wraps around as well:
    :meth:`seek` takes any index modulo ``len`` (as datadings), and :meth:`next` never raises
    ``StopIteration`` unless the reader is empty. An empty reader cycles to nothing.

    Args:
        reader: the reader to cycle.

    Raises:
        TypeError: ``reader`` is not a Reader.
    """

    def _iter(self, start: int | None, stop: int | None, yield_key: bool, raw: bool, copy: bool, chunk_size: int) -> Iterator[Any]:
        # cycles forever from `start`, or covers `start … stop - 1` of the first pass once if `stop` is given
        length = len(self)
        if stop is not None:
            begin, end = self._bounds(start, stop)
            return self._follow_passes(begin, end - begin, yield_key, raw, copy, chunk_size)
        if start is None:
            begin = self._position
        else:
            begin = start + length if start < 0 else start
            if not 0 <= begin <= length:
                raise IndexError(f"cannot start at index {start} of {self!r} with {length} samples")
        return self._follow_passes(begin, None, yield_key, raw, copy, chunk_size)

    def _follow_passes(
        self, begin: int, count: int | None, yield_key: bool, raw: bool, copy: bool, chunk_size: int
    ) -> Iterator[Any]:
        """Yield ``count`` samples (``None``: forever) from ``begin`` on, a wrapped pass at a time."""
        length = len(self)
        if length == 0 or count == 0:
            return
        position = begin % length
        while True:
            stop = None if count is None else position + count
            before = position
            passes = self._reader.iter(start=position, stop=stop, yield_key=yield_key, raw=raw, copy=copy, chunk_size=chunk_size)
            for item in passes:
                position += 1
                self._position = position % length
                yield item
            if count is not None or position == before:  # done, or the wrapped reader yielded nothing
                return
            position = 0



class Repeater(_Passes):
    """Read a reader ``times`` times in a row.

    As in datadings, ``len`` is the wrapped reader's length (one repetition); :attr:`total` is
    the number of samples a full iteration yields, ``times * len(reader)``. Iteration reads the
    wrapped reader's passes one after another through its ``iter``, so a shuffler inside gets a
    new epoch for each repetition. Random access and slices cover all ``total`` positions:
    position ``i`` is the wrapped reader's index ``i % len(reader)`` in its current order.
    :meth:`find_index` returns the first repetition's index. :meth:`seek` moves to ``index %
    len(reader)`` of the first repetition (as datadings), so iteration then yields the rest of
    that repetition and ``times - 1`` more.

    Args:
        reader: the reader to repeat.
        times: number of repetitions, at least 1.

    Raises:
        TypeError: ``reader`` is not a Reader, or ``times`` is not an int.
        ValueError: ``times < 1``.
    """

    def __init__(self, reader: Reader, times: int) -> None:
        super().__init__(reader)
        value = _as_int(times, "times")
        if value < 1:
            raise ValueError(f"times must be at least 1, got {times!r}")
        self._times = value

    @property
    def times(self) -> int:
        """Number of repetitions."""
        return self._times

    @property
    def total(self) -> int:
        """Samples of all repetitions together: ``times * len(reader)``."""
        return self._times * len(self._reader)

    def __len__(self) -> int:
        return len(self._reader)

    # positions run over all repetitions, while len is one repetition (datadings)
    def _normalize(self, index: int) -> int:
        try:
            return range(self.total)[index]  # negative counts from the end, like a sequence
        except IndexError:
            raise IndexError(f"index {index} out of range for {self!r} with {self.total} samples in all repetitions") from None
        except TypeError:
            raise TypeError(f"sample indices must be integers, not {type(index).__name__} ({index!r})") from None

    def _bounds(self, start: int | None, stop: int | None) -> tuple[int, int]:
        start = self._position if start is None else start
        begin, end, _ = slice(start, stop).indices(self.total)
        return begin, max(begin, end)

    def _resume(self) -> int:
        if self._position >= self.total:
            self._position = 0
        return self._position

    def find_index(self, key: str) -> int:
        """Return the index of ``key`` in the first repetition.

        Raises:
            KeyError: no sample has this key.
        """
        return self._reader.find_index(key)

    def find_key(self, index: int) -> str:
        """Return the key at ``index`` (negative counts from the end of the last repetition).

        Raises:
            IndexError: ``index`` is out of range.
        """
        return self._reader.find_key(self._normalize(index) % len(self._reader))

    def read_sample(self, index: int, *, raw: bool = False, copy: bool = True) -> Any:
        """Return sample ``index`` (valid, non-negative): the wrapped reader's ``index % len(reader)``."""
        return self._reader.read_sample(index % len(self._reader), raw=raw, copy=copy)

    def _map_indices(self, indices: np.ndarray) -> np.ndarray:
        return indices % len(self._reader)

    def read_range(self, start: int, stop: int, *, raw: bool = False, copy: bool = True) -> Iterator[Any]:
        """Yield samples ``start`` … ``stop - 1``, wrapping around the wrapped reader."""
        length = len(self._reader)
        position = start
        while position < stop:
            offset = position % length
            end = min(length, offset + stop - position)
            yield from self._reader.read_range(offset, end, raw=raw, copy=copy)
            position += end - offset

    def _iter(self, start: int | None, stop: int | None, yield_key: bool, raw: bool, copy: bool, chunk_size: int) -> Iterator[Any]:
        begin, end = self._bounds(self._resume() if start is None else start, stop)
        return self._follow_passes(begin, end, yield_key, raw, copy, chunk_size)

    def _follow_passes(self, begin: int, end: int, yield_key: bool, raw: bool, copy: bool, chunk_size: int) -> Iterator[Any]:
        length = len(self._reader)
        position = begin
        while position < end:
            offset = position % length
            before = position
            stop = min(length, offset + end - position)
            for item in self._reader.iter(start=offset, stop=stop, yield_key=yield_key, raw=raw, copy=copy, chunk_size=chunk_size):
                position += 1
                self._position = position
                yield item
            if position == before:  # the wrapped reader yielded nothing: do not spin
                return


    def _repr_args(self) -> str:
        return f", times={self._times}"


class Range(Augment):
    """A contiguous part of a reader: indices ``start … stop - 1``, renumbered from 0.

    ``start`` and ``stop`` work like the arguments of ``range``, and negative values count from
    the end. As in datadings, ``start`` must be an index of the reader (or ``len(reader)``, an
    empty range at the end), while ``stop`` is clipped like a slice bound: a ``stop`` past the end
    means the end, and a ``stop`` before ``start`` gives an empty range. Keys outside the range are
    not found (``in`` is false, :meth:`find_index` raises ``KeyError``). A Range reads through
    random access and never starts a new pass of the reader it wraps. A Range over a
    :class:`Shuffler` is therefore a fixed random subset.

    Unlike datadings (where every augment's ``len`` is the wrapped reader's), ``len`` of a Range
    is the number of samples in it.

    Args:
        reader: the reader to take samples from.
        start: first index.
        stop: end index, exclusive; ``None`` for the end.

    Raises:
        TypeError: ``reader`` is not a Reader, or ``start``/``stop`` is not an int.
        IndexError: ``start`` is out of range.
    """

    def __init__(self, reader: Reader, start: int = 0, stop: int | None = None) -> None:
        super().__init__(reader)
        length = len(reader)
        begin = _as_int(start, "start")
        end = None if stop is None else _as_int(stop, "stop")
        begin += length if begin < 0 else 0
        if not 0 <= begin <= length:
            raise IndexError(f"start {start} is out of range for {reader!r} with {length} samples")
        begin, end, _ = slice(begin, end).indices(length)
        end = max(begin, end)
        self._start = begin
        self._stop = end

    @property
    def start(self) -> int:
        """First index of the range in the wrapped reader."""
        return self._start

    @property
    def stop(self) -> int:
        """End of the range in the wrapped reader (exclusive)."""
        return self._stop

    def __len__(self) -> int:
        return self._stop - self._start

    def __contains__(self, key: object) -> bool:
        # only keys inside the range (any key type the wrapped reader has, e.g. ListReader's ints)
        return key in self._reader and self._start <= self._reader.find_index(key) < self._stop  # type: ignore[arg-type]

    def find_index(self, key: str) -> int:
        """Return the index of ``key`` relative to the start of the range.

        Raises:
            KeyError: no sample in the range has this key.
        """
        index = self._reader.find_index(key)
        if not self._start <= index < self._stop:
            raise KeyError(f"{key!r} is not in {self!r} (its index in the wrapped reader is {index})")
        return index - self._start

    def find_key(self, index: int) -> str:
        """Return the key at ``index`` of the range (negative counts from the end).

        Raises:
            IndexError: ``index`` is out of range.
        """
        return self._reader.find_key(self._start + self._normalize(index))

    def read_sample(self, index: int, *, raw: bool = False, copy: bool = True) -> Any:
        """Return sample ``index`` (valid, non-negative) of the range."""
        return self._reader.read_sample(self._start + index, raw=raw, copy=copy)

    def read_range(self, start: int, stop: int, *, raw: bool = False, copy: bool = True) -> Iterator[Any]:
        """Return an iterator over samples ``start`` … ``stop - 1`` of the range."""
        return self._reader.read_range(self._start + start, self._start + stop, raw=raw, copy=copy)

    def _map_indices(self, indices: np.ndarray) -> np.ndarray:
        return indices + self._start

    def read_runs(self, runs: Sequence[tuple[int, int]], raw: bool = False, copy: bool = True) -> list[list]:
        """Return the samples of each run ``(start, stop)`` of the range: the wrapped reader's runs,
        shifted (fetched concurrently when it is remote)."""
        bounds = [self._bounds(start, stop) for start, stop in runs]
        return self._reader.read_runs([(self._start + a, self._start + b) for a, b in bounds], raw, copy)

    def _repr_args(self) -> str:
        return f", start={self._start}, stop={self._stop}"
