"""IterableDataset: shuffled, sharded (ranks × workers), resumable iteration over a dings reader."""

from __future__ import annotations

import itertools
import numbers
import operator
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

import torch.distributed as dist
import torch.utils.data
from dings.readers import EpochOrder
from torch.utils.data import get_worker_info

from .base import DatasetBase, Transforms
from .distributed import resolve_rank
from .epochs import EpochState
from .partition import Split, even_mode

__all__ = ["IterableDataset"]


def _count(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _coalesce(bounds: Iterator[tuple[int, int]], size: int) -> Iterator[tuple[int, int]]:
    """Join adjacent ranges (one rank and worker reading consecutive small batches) into reads of
    at least ``size`` positions; the samples and their order stay the same."""
    first: int | None = None
    stop = 0
    for begin, end in bounds:
        if first is not None and (begin != stop or stop - first >= size):
            yield first, stop
            first = None
        if first is None:
            first = begin
        stop = end
    if first is not None:
        yield first, stop


class IterableDataset(DatasetBase, torch.utils.data.IterableDataset):
    """A ``torch.utils.data.IterableDataset`` over a dings reader for single-process and DDP training.

    **Order.** Each epoch has one global order, the same on every rank and machine: the dataset
    in file order, a seeded permutation of all samples (``shuffle=True``), or a seeded
    permutation of runs of ``chunk_size`` consecutive samples (``quasi=True``: reads are
    sequential and fast; each batch then holds ``batch_size / chunk_size`` random runs, and its
    samples come out in random order — keep that ratio near the number of classes or above).
    The order of epoch ``e`` depends only on ``(seed, e)``.

    **Split.** The order is dealt out in blocks of ``batch_size``: block ``g`` goes to rank
    ``g % world_size``, and each rank's blocks go to its DataLoader workers in turn, so every
    sample is read exactly once per epoch across all ranks and workers, for any length, world size,
    worker count and batch size. The last, incomplete round is shared evenly. With ``even=True``
    (``"repeat"``) it is padded with at most ``world_size - 1`` samples repeated from the start of
    the epoch, so every rank yields the same number of batches (DDP never waits forever);
    ``even="drop"`` leaves out at most ``world_size - 1`` samples instead; ``even=False`` yields
    each sample exactly once and ranks may differ by one batch. Pass the DataLoader's
    ``batch_size`` here too: then the DataLoader delivers each rank's blocks in order.

    **Epochs.** Each ``iter(dataset)`` (each DataLoader epoch) starts the next epoch, with or
    without ``persistent_workers``. :meth:`set_epoch` chooses it explicitly, like
    ``DistributedSampler.set_epoch``; it reaches workers that already exist. ``epoch_size=K``
    makes every epoch ``K`` samples long, continuing where the previous one stopped (one pass
    after another through the shuffled dataset).

    **Resume.** ``state_dict(batches=b)`` after the DataLoader delivered ``b`` batches in this
    epoch gives ``{"epoch", "consumed", …}``; after :meth:`load_state_dict` the next iteration
    yields exactly the samples of that epoch not yet consumed — with any number of workers, and
    even a different world size — then the epochs continue as before.

    Args:
        reader: a dings reader, or a dataset spec (a data file, pattern, folder, manifest, URL
            or list of them; opened with :func:`dings.readers.open_dataset`).
        transforms: see :class:`~dings.torch.DatasetBase`.
        rng: see :class:`~dings.torch.DatasetBase`.
        batch_size: the DataLoader's batch size (``None`` means 1).
        epoch: the first epoch (zero-based).
        copy: passed to the reader; ``False`` may yield ``memoryview`` objects for raw data.
        chunk_size: the run length of ``quasi`` shuffling, and the least number of consecutive
            samples read at once when batches are smaller (each batch's runs are read whole).
        group: the ``torch.distributed`` process group (``None``: the default group).
        shuffle: a new seeded uniform order of all samples each epoch.
        quasi: shuffle runs of ``chunk_size`` consecutive samples (faster reads).
        seed: non-negative int; the same seed gives the same orders everywhere.
        even: ``True``/``"repeat"``, ``"drop"`` or ``False`` (see **Split**).
        epoch_size: samples per epoch (over all ranks), or ``None`` for one pass.
        rank: this process's rank (default: from ``torch.distributed``, else 0).
        world_size: number of ranks (default: from ``torch.distributed``, else 1).
        shared_memory: see :class:`~dings.torch.DatasetBase`.
        reader_options: keyword arguments for :func:`~dings.readers.open_dataset` when ``reader``
            is a spec (``cache_dir``, ``storage_options``, ``allow_unsafe`` …).

    Raises:
        ValueError: an argument is out of range (the message names it).
        TypeError: see :class:`~dings.torch.DatasetBase`.

    Example::

        ds = IterableDataset(MsgpackReader("train.msgpack"), transforms, batch_size=256, shuffle=True)
        loader = DataLoader(ds, batch_size=256, num_workers=4)
        for epoch in range(epochs):
            ds.set_epoch(epoch)
            for batch in loader:
                ...
    """

    def __init__(
        self,
        reader: Any,
        transforms: Transforms = None,
        rng: Callable[[dict], dict] | None = None,
        batch_size: int | None = 1,
        epoch: int = 0,
        copy: bool = True,
        chunk_size: int = 16,
        group: Any = None,
        *,
        shuffle: bool = False,
        quasi: bool = False,
        seed: int = 0,
        even: bool | str = True,
        epoch_size: int | None = None,
        rank: int | None = None,
        world_size: int | None = None,
        shared_memory: bool = False,
        reader_options: Mapping[str, Any] | None = None,
    ) -> None:
        DatasetBase.__init__(self, reader, transforms, rng, shared_memory=shared_memory, reader_options=reader_options)
        self.batch_size = _count(1 if batch_size is None else batch_size, "batch_size", 1)
        self.copy = copy
        self.chunk_size = _count(chunk_size, "chunk_size", 1)
        self.group = group
        self.even = even_mode(even)
        mode = "quasi" if quasi else "shuffle" if shuffle else "sequential"
        size = None if epoch_size is None else _count(epoch_size, "epoch_size", 1)
        self._order = EpochOrder(len(self.reader), mode, _count(seed, "seed", 0), size, self.chunk_size)
        self._rank, self._world_size = rank, world_size
        self._resolved: tuple[int, int] | None = None
        self.ranks()  # check explicit values now; remember torch.distributed's for spawned workers
        self._epochs = EpochState(_count(epoch, "epoch", 0))
        self._own: list | None = None  # [token, samples yielded] of this process's own iteration

    # --- rank, epochs ---

    def ranks(self) -> tuple[int, int]:
        """``(rank, world_size)`` this dataset splits for.

        Explicit values win; else ``torch.distributed``'s, remembered so that DataLoader workers
        started with the ``spawn`` context (where no process group exists) split the same way.
        """
        explicit = self._rank is not None or self._world_size is not None
        if not explicit and self._resolved is not None and not (dist.is_available() and dist.is_initialized()):
            return self._resolved
        self._resolved = resolve_rank(self._rank, self._world_size, self.group)
        return self._resolved

    @property
    def rank(self) -> int:
        """This process's rank."""
        return self.ranks()[0]

    @property
    def world_size(self) -> int:
        """Number of ranks."""
        return self.ranks()[1]

    @property
    def epoch(self) -> int:
        """The epoch being iterated (or, before it starts, the next one); assigning calls :meth:`set_epoch`."""
        return self._epochs.active()[0]

    @epoch.setter
    def epoch(self, value: int) -> None:
        self.set_epoch(value)

    @property
    def seed(self) -> int:
        """The seed of the epoch orders."""
        return self._order.seed

    @property
    def epoch_length(self) -> int:
        """Samples per epoch over all ranks (``epoch_size``, or the dataset length)."""
        return self._order.epoch_length

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration epoch ``epoch`` (from its start).

        After :meth:`load_state_dict`, setting the loaded epoch again keeps the resume position,
        so a loop calling ``set_epoch(e)`` at the top of every epoch resumes correctly.

        Raises:
            ValueError: ``epoch`` is negative or not an int.
        """
        epoch = _count(epoch, "epoch", 0)
        pending, start, untouched = self._epochs.pending()
        self._epochs.set(epoch, start if (untouched and pending == epoch) else 0)

    def _split(self, start: int, world_size: int) -> Split:
        return Split(max(0, self._order.epoch_length - start), world_size, self.batch_size, self.even)

    def __len__(self) -> int:
        """Samples this rank yields in an epoch, padding included (the rest of it, if a resume is pending)."""
        rank, world = self.ranks()
        _, start, untouched = self._epochs.pending()
        return self._split(start if untouched else 0, world).rank_samples(rank)

    # --- iteration ---

    def __iter__(self) -> Iterator[Any]:
        info = get_worker_info()
        if info is None:
            workers, worker, base = 1, 0, None
        else:
            workers, worker, base = info.num_workers, info.id, info.seed - info.id
        epoch, start, token = self._epochs.begin(base)
        rank, world = self.ranks()
        split = self._split(start, world)
        own = None
        if info is None:  # iterated in this process: count what is handed out, for state_dict()
            own = self._own = [token, 0, iter(())]
        samples = self._generate(epoch, start, split, rank, worker, workers, own)
        if self.transform is not None:
            samples = map(self.transform, samples)
        return samples

    def _generate(
        self, epoch: int, start: int, split: Split, rank: int, worker: int, workers: int, own: list | None = None
    ) -> Iterator[Any]:
        """This worker's samples of the epoch: one list per batch, chained at C speed (a DataLoader's
        ``next()`` costs no Python frame). With ``own`` (``[token, samples started, current batch
        iterator]``), samples handed out = ``own[1]`` minus what the current batch has left."""

        def batch(bounds: tuple[int, int]) -> list | Iterator[Any]:
            first, stop = bounds
            samples = self._read(self._order.batch_indices(epoch, start, first, stop, split.remaining))
            if quasi and len(samples) > 1:
                shuffle = self._order.batch_permutation(epoch, start + first, len(samples))
                samples = list(map(samples.__getitem__, shuffle.tolist()))
            if own is None:
                return samples
            own[1] += len(samples)
            own[2] = remaining = iter(samples)
            return remaining

        quasi = self._order.mode == "quasi"
        bounds = split.batches(rank, worker, workers)
        if not quasi and self.batch_size < self.chunk_size:
            bounds = _coalesce(bounds, self.chunk_size)
        return itertools.chain.from_iterable(map(batch, bounds))

    def _read(self, indices: np.ndarray) -> list:
        """Samples at ``indices``; runs of consecutive indices are read as one slice (the reader's
        sequential path), other indices one by one."""
        n = len(indices)
        reader, copy = self.reader, self.copy
        if n == 0:
            return []
        first = int(indices[0])
        if n == 1:
            return [reader.get(first, copy=copy)]
        steps = np.diff(indices)
        if int(indices[-1]) - first == n - 1 and bool(np.all(steps == 1)):
            return reader.slice(first, first + n, copy=copy)
        breaks = np.flatnonzero(steps != 1) + 1
        if getattr(reader, "fetches_concurrently", False):  # a remote reader: all runs at once, requests in flight
            bounds = [0, *breaks.tolist(), n]
            starts = indices[bounds[:-1]].tolist()
            runs = [(start, start + end - begin) for start, begin, end in zip(starts, bounds[:-1], bounds[1:])]
            return list(itertools.chain.from_iterable(reader.read_runs(runs, copy=copy)))
        if len(breaks) == n - 1:  # no runs at all (a full shuffle): random access
            return [reader.get(i, copy=copy) for i in indices.tolist()]
        samples: list = []
        bounds = [0, *breaks.tolist(), n]
        for begin, end in zip(bounds[:-1], bounds[1:]):
            first = int(indices[begin])
            if end - begin == 1:
                samples.append(reader.get(first, copy=copy))
            else:
                samples.extend(reader.slice(first, first + end - begin, copy=copy))
        return samples

    # --- resuming ---

    def state_dict(self, batches: int | None = None) -> dict:
        """Where the current epoch stands, to resume it later with :meth:`load_state_dict`.

        Args:
            batches: batches this rank's DataLoader delivered since the current iteration began
                (every rank delivers the same number). May be left out when the dataset is
                iterated in this process (``num_workers=0``) or has not been iterated since the
                last :meth:`set_epoch`/:meth:`load_state_dict`.

        Returns:
            ``{"epoch", "consumed", "length", "mode", "seed", "epoch_size", "chunk_size"}``:
            ``consumed`` positions of ``epoch`` are used up; a finished epoch gives the next
            epoch with ``consumed=0``.

        Raises:
            ValueError: ``batches`` is needed but missing, or larger than the epoch holds.
        """
        rank, world = self.ranks()
        epoch, start, token = self._epochs.active()
        split = self._split(start, world)
        if batches is None:
            own = self._own
            if token is None:
                batches = 0
            elif own is not None and own[0] == token:
                yielded = own[1] - operator.length_hint(own[2])
                full = yielded >= split.rank_samples(rank)
                batches = split.rank_batches(rank) if full else yielded // self.batch_size
            else:
                raise ValueError(
                    "state_dict() needs batches=: this epoch is iterated in DataLoader workers; pass the number of "
                    "batches the DataLoader delivered since the epoch (or the resumed part of it) began"
                )
        used, done = split.consumed(_count(batches, "batches", 0))
        state = {"epoch": epoch + 1 if done else epoch, "consumed": 0 if done else start + used}
        state.update(self._order.identity())
        return state

    def load_state_dict(self, state: dict) -> None:
        """Continue from a :meth:`state_dict`: the next iteration yields the rest of its epoch.

        Raises:
            ValueError: ``state`` is not such a dict, or was made for a different dataset, order
                or seed (the message names the difference).
        """
        epoch, consumed = self._order.resume_position(state, "IterableDataset", "dataset")
        self._epochs.set(epoch, consumed)
