"""Sample orders: which index of a dataset comes at which position of a pass or an epoch.

One implementation for every package: the shufflers of :mod:`dings.readers` (:class:`Shuffler`,
:class:`QuasiShuffler`) and the loaders of :mod:`dings.torch` compute their orders here, from
``(seed, epoch)`` alone, with ``numpy.random.default_rng([seed, epoch])``.

:class:`EpochOrder` is the stateless form used by the data loaders. The passes of a dataset are
laid end to end into an endless *stream*; epoch ``e`` of an ``epoch_size=K`` dataset is the
stream's positions ``e*K … (e+1)*K - 1``, so an epoch starts where the previous one stopped.
Without ``epoch_size``, ``K = N`` and epoch ``e`` is exactly pass ``e``.
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "ORDER_MODES",
    "ChunkRuns",
    "EpochOrder",
    "EpochPlan",
    "QuasiPlan",
    "buffer_ranks",
    "chunk_runs",
    "epoch_rng",
    "group_by_slot",
]


def epoch_rng(seed: int, epoch: int) -> np.random.Generator:
    """The random generator of one epoch (pass): the same ``(seed, epoch)`` gives the same numbers everywhere."""
    return np.random.default_rng([seed, epoch])


class ChunkRuns(NamedTuple):
    """A pass read in runs of consecutive indices, the runs in a random order (see :func:`chunk_runs`)."""

    order: np.ndarray  # position -> index
    starts: np.ndarray  # first index of each run, in reading order
    sizes: np.ndarray  # length of each run
    stream_starts: np.ndarray  # position of each run's first sample in the pass


def chunk_runs(rng: np.random.Generator, length: int, chunk: int) -> ChunkRuns:
    """Runs of ``chunk`` consecutive indices (the last may be shorter) in an order drawn from ``rng``."""
    chunk_order = rng.permutation(-(-length // chunk)).astype(np.int64)
    starts = chunk_order * chunk
    sizes = np.minimum(chunk, length - starts)
    stream_starts = np.cumsum(sizes) - sizes
    # position i of the pass, inside run k, is index starts[k] + (i - stream_starts[k])
    order = np.repeat(starts - stream_starts, sizes) + np.arange(length, dtype=np.int64)
    return ChunkRuns(order, starts, sizes, stream_starts)


#: the ways an epoch can be ordered
ORDER_MODES = ("sequential", "shuffle", "quasi")


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be an int >= 0, got {value!r}")
    return int(value)


class EpochOrder:
    """Maps positions of an epoch to dataset indices.

    Args:
        length: number of samples ``N`` in the dataset.
        mode: ``"sequential"`` (pass ``p`` is ``0 … N-1``), ``"shuffle"`` (a uniform permutation
            per pass, ``numpy.random.default_rng([seed, p]).permutation(N)``) or ``"quasi"``
            (runs of ``chunk`` consecutive indices, the runs in a random order per pass).
        seed: non-negative int; the same seed gives the same orders everywhere.
        epoch_size: samples per epoch ``K``; ``None`` for one pass per epoch.
        chunk: run length of the ``"quasi"`` mode.

    Raises:
        ValueError: unknown mode, negative seed, ``epoch_size < 1`` or ``chunk < 1``.
    """

    def __init__(
        self, length: int, mode: str = "sequential", seed: int = 0, epoch_size: int | None = None, chunk: int = 16
    ) -> None:
        if mode not in ORDER_MODES:
            raise ValueError(f"order mode must be one of {ORDER_MODES}, got {mode!r}")
        if seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        if epoch_size is not None and epoch_size < 1:
            raise ValueError(f"epoch_size must be at least 1 (or None for one pass per epoch), got {epoch_size!r}")
        if chunk < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk!r}")
        self.length = length
        self.mode = mode
        self.seed = seed
        self.epoch_size = epoch_size
        self.chunk = chunk
        self._passes: dict[int, np.ndarray] = {}

    def identity(self) -> dict[str, Any]:
        """What a saved position depends on: dataset length, mode, seed, epoch size and chunk size
        (stored in a ``state_dict`` next to the position)."""
        return {
            "length": self.length,
            "mode": self.mode,
            "seed": self.seed,
            "epoch_size": self.epoch_size,
            "chunk_size": self.chunk,
        }

    def resume_position(self, state: Any, owner: str, noun: str) -> tuple[int, int]:
        """Check a saved ``state`` (``{"epoch", "consumed", …}``) against this order and return
        ``(epoch, consumed)``.

        Args:
            state: the saved dict.
            owner: what is resumed, for messages (``"Loader"``, ``"IterableDataset"``).
            noun: what to call it in a sentence (``"loader"``, ``"dataset"``).

        Raises:
            ValueError: not such a dict, made for another dataset, order or seed (the message names
                the difference), or a position beyond the epoch.
        """
        if not isinstance(state, dict) or "epoch" not in state or "consumed" not in state:
            raise ValueError(f"not a dings.torch {owner} state (needs 'epoch' and 'consumed'): {state!r}")
        for key, value in self.identity().items():
            if key in state and state[key] != value:
                raise ValueError(
                    f"state was saved with {key}={state[key]!r} but this {noun} has {key}={value!r}; "
                    "resume with the same dataset and order options"
                )
        epoch = _count(state["epoch"], "state['epoch']")
        consumed = _count(state["consumed"], "state['consumed']")
        if consumed > self.epoch_length:
            raise ValueError(f"state['consumed']={consumed} is more than an epoch of {self.epoch_length} samples")
        return epoch, consumed

    @property
    def epoch_length(self) -> int:
        """Samples per epoch (``K``); 0 for an empty dataset."""
        if self.length == 0:
            return 0
        return self.length if self.epoch_size is None else self.epoch_size

    def permutation(self, number: int) -> np.ndarray:
        """The dataset indices of pass ``number`` in order (read-only; the last two are cached)."""
        cached = self._passes.get(number)
        if cached is not None:
            return cached
        n = self.length
        if self.mode == "sequential":
            order = np.arange(n, dtype=np.int64)
        elif self.mode == "shuffle":
            order = epoch_rng(self.seed, number).permutation(n).astype(np.int64, copy=False)
        else:
            order = chunk_runs(epoch_rng(self.seed, number), n, self.chunk).order
        order.flags.writeable = False
        if len(self._passes) >= 2:
            self._passes.pop(next(iter(self._passes)))
        self._passes[number] = order
        return order

    def indices(self, epoch: int, start: int, stop: int) -> np.ndarray:
        """Dataset indices at positions ``start … stop - 1`` of ``epoch`` (``0 <= start <= stop <= K``)."""
        n = self.length
        if start >= stop:
            return np.empty(0, dtype=np.int64)
        first = epoch * self.epoch_length + start
        last = epoch * self.epoch_length + stop
        if self.mode == "sequential":
            return np.arange(first, last, dtype=np.int64) % n
        pieces = []
        position = first
        while position < last:
            number, offset = divmod(position, n)
            end = min(n, offset + last - position)
            pieces.append(self.permutation(number)[offset:end])
            position += end - offset
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)

    def batch_indices(self, epoch: int, start: int, first: int, stop: int, remaining: int) -> np.ndarray:
        """Dataset indices of the positions ``first … stop - 1`` of an epoch resumed at ``start``.

        Positions are relative to ``start``; those at or past ``remaining`` are padding: they
        repeat the epoch's first samples, the same ones whether or not the epoch was resumed.
        """
        if stop <= remaining:
            return self.indices(epoch, start + first, start + stop)
        length = self.epoch_length
        pads = np.arange(max(first, remaining), stop, dtype=np.int64) - remaining
        head = self.indices(epoch, 0, min(length, int(pads[-1]) + 1))
        repeated = head[pads % length]
        if first >= remaining:
            return repeated
        return np.concatenate([self.indices(epoch, start + first, start + remaining), repeated])

    def batch_permutation(self, epoch: int, position: int, count: int) -> np.ndarray:
        """The seeded order in which the ``quasi`` mode hands out the ``count`` samples of the batch
        that starts at absolute ``position`` of ``epoch``."""
        return np.random.default_rng([self.seed, epoch, position]).permutation(count)


class EpochPlan:
    """The order of one epoch: ``order[i]`` is the wrapped reader's index of position ``i``."""

    def __init__(self, epoch: int, order: np.ndarray) -> None:
        order.flags.writeable = False  # shared by copies of the augment
        self.epoch = epoch
        self.order = order
        self.inverse: np.ndarray | None = None


class QuasiPlan(EpochPlan):
    """A QuasiShuffler epoch: which chunks are read in which order, and which read sample goes out when.

    The *stream* is the wrapped reader's samples in the order they are read: the chunks one after
    another in ``chunk_order``. ``ranks[i]`` is the stream position of the sample yielded at
    position ``i``; ``order[i]`` its index in the wrapped reader.
    """

    def __init__(self, epoch: int, rng: np.random.Generator, length: int, buf_size: int, chunk_size: int) -> None:
        runs = chunk_runs(rng, length, chunk_size)
        ranks = buffer_ranks(rng, length, min(buf_size, length))
        super().__init__(epoch, runs.order[ranks])
        ranks.flags.writeable = False
        self.ranks = ranks
        self.starts = runs.starts.tolist()
        self.sizes = runs.sizes.tolist()
        self.stream_starts = runs.stream_starts

    def indices(self, ranks: np.ndarray) -> np.ndarray:
        """Wrapped-reader indices of the samples at stream positions ``ranks``."""
        chunks = np.searchsorted(self.stream_starts, ranks, side="right") - 1
        return np.asarray(self.starts, dtype=np.int64)[chunks] + ranks - self.stream_starts[chunks]


def buffer_ranks(rng: np.random.Generator, length: int, buf_size: int) -> np.ndarray:
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
        by_slot, grouped = group_by_slot(slots, buf_size)
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


def group_by_slot(slots: np.ndarray, buf_size: int, packed: bool = True) -> tuple[np.ndarray, np.ndarray]:
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
