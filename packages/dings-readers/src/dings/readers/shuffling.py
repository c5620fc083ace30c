"""Readers in a seeded random order per epoch: :class:`Shuffler` and :class:`QuasiShuffler`."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

import numpy as np

from dings.format import DamagedDataError

from .order import EpochPlan, QuasiPlan, epoch_rng
from .reader import Reader
from .wrapping import BLOCK, Augment, as_int, check_seed, check_yield_key

__all__ = ["EpochOrdered", "QuasiShuffler", "Shuffler"]

#: chunks a quasi-shuffled pass fetches at once from a remote reader (concurrent requests)
_READ_AHEAD = 16


Plan = TypeVar("Plan", bound=EpochPlan)


class EpochOrdered(Augment, Generic[Plan]):
    """Shared by the shufflers: a seeded order per epoch (from :mod:`.order`) and the rule that starts new passes."""

    def __init__(self, reader: Reader, seed: int | None) -> None:
        super().__init__(reader)
        self._seed = check_seed(seed, len(reader))
        self._epoch = 0
        self._pass_done = False
        self._plan_cache: Plan | None = None

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
        value = as_int(epoch, "epoch")
        if value < 0:
            raise ValueError(f"epoch must be a non-negative int, got {epoch!r}")
        self._epoch = value
        self._pass_done = False

    def _rng(self) -> np.random.Generator:
        return epoch_rng(self._seed, self._epoch)

    def _make_plan(self) -> Plan:
        raise NotImplementedError

    def _plan(self) -> Plan:
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

    def _iter(
        self, start: int | None, stop: int | None, yield_key: bool, raw: bool, copy: bool, chunk_size: int
    ) -> Iterator[Any]:
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
        value = as_int(index, "index")
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


class Shuffler(EpochOrdered[EpochPlan]):
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

    def _make_plan(self) -> EpochPlan:
        return EpochPlan(self._epoch, self._rng().permutation(len(self._reader)))

    def read_range(self, start: int, stop: int, *, raw: bool = False, copy: bool = True) -> Iterator[Any]:
        """Yield the samples at positions ``start`` … ``stop - 1`` of the current epoch's order."""
        order = self._plan().order
        read = self._reader.read_sample
        for first in range(start, stop, BLOCK):
            for index in order[first : min(stop, first + BLOCK)].tolist():
                yield read(index, raw=raw, copy=copy)


class QuasiShuffler(EpochOrdered[QuasiPlan]):
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

    _buf_size: int
    _chunk_size: int

    def __init__(self, reader: Reader, buf_size: float = 0.01, chunk_size: int = 16, seed: int | None = None) -> None:
        super().__init__(reader, seed)
        chunk = as_int(chunk_size, "chunk_size")
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

    def _make_plan(self) -> QuasiPlan:
        return QuasiPlan(self._epoch, self._rng(), len(self._reader), self._buf_size, self._chunk_size)

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
        return self._iter(start, stop, check_yield_key(yield_key), raw, copy, hint)

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
        for first in range(start, stop, BLOCK):
            for wanted in ranks[first : min(stop, first + BLOCK)].tolist():
                while wanted not in waiting:
                    found = next(stream, None)
                    if found is None:  # the wrapped reader yielded fewer samples than it has
                        raise DamagedDataError(
                            f"{reader!r} yielded fewer samples than its length {len(reader)}; "
                            "its data is damaged or its read_range() is wrong"
                        )
                    waiting[found[0]] = found[1]
                yield waiting.pop(wanted)

    def _stream(self, plan: QuasiPlan, rank: int, raw: bool, copy: bool) -> Iterator[tuple[int, Any]]:
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
