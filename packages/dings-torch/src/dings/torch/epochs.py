"""Epoch bookkeeping shared by a dataset and every DataLoader worker forked from it.

A DataLoader copies the dataset into each worker process; with ``persistent_workers=False`` it
does so again for every epoch. To let :meth:`~dings.torch.IterableDataset.set_epoch` and
:meth:`~dings.torch.IterableDataset.load_state_dict` reach workers that already exist, and to let
fresh workers know which epoch comes next, the bookkeeping lives in a small shared-memory array
created with the dataset (workers inherit it when they are forked).

Each call of ``iter(dataset)`` names the DataLoader iteration it belongs to with a *key*:
workers of one DataLoader iteration share their ``base_seed`` (drawn anew for every iteration
of a non-persistent DataLoader) and the number of iterations their process has started (which
grows for persistent workers); the main process (``num_workers=0``) uses its pid and its own
count. The first worker with a new key starts the next epoch; the others join it.

Pickled while a process is being started (DataLoader workers with the ``spawn`` context), the
array stays shared; pickled at any other time, the copy gets its own array (a snapshot).
"""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing.context import get_spawning_popen

__all__ = ["EpochState"]

_EPOCH, _START, _ITERATION, _KIND, _KEY_A, _KEY_B, _ACTIVE, _ACTIVE_EPOCH, _ACTIVE_START, _GENERATION = range(10)
_FIELDS = 10


class EpochState:
    """The epoch and resume offset of a dataset, shared with the processes forked from it.

    Args:
        epoch: the epoch the next iteration uses.
        start: positions of that epoch already consumed (the resume offset).
    """

    def __init__(self, epoch: int = 0, start: int = 0) -> None:
        self._values = multiprocessing.Array("q", _FIELDS, lock=True)
        self._iterations = 0  # iterations this process has started (copied, not shared, on fork)
        self.set(epoch, start)

    def __getstate__(self) -> dict:
        # starting a process (spawn/forkserver) shares the array; any other pickling takes a snapshot
        if get_spawning_popen() is not None:
            return {"shared": self._values, "iterations": self._iterations}
        with self._values.get_lock():
            return {"snapshot": list(self._values.get_obj()), "iterations": self._iterations}

    def __setstate__(self, state: dict) -> None:
        self._iterations = state["iterations"]
        if "shared" in state:
            self._values = state["shared"]
        else:
            self._values = multiprocessing.Array("q", _FIELDS, lock=True)
            self._values.get_obj()[:] = state["snapshot"]

    def set(self, epoch: int, start: int = 0) -> None:
        """Make the next iteration use ``epoch``, resuming after ``start`` positions."""
        with self._values.get_lock():
            values = self._values.get_obj()
            values[_EPOCH], values[_START], values[_ITERATION] = epoch, start, -1
            values[_KIND] = values[_KEY_A] = values[_KEY_B] = 0
            values[_ACTIVE] = 0
            values[_GENERATION] += 1

    def pending(self) -> tuple[int, int, bool]:
        """``(epoch, start, untouched)``: what ``set`` stored and whether no iteration began since."""
        with self._values.get_lock():
            values = self._values.get_obj()
            return values[_EPOCH], values[_START], values[_ITERATION] < 0

    def active(self) -> tuple[int, int, tuple[int, int] | None]:
        """``(epoch, start, token)`` of the iteration that began last (``token`` identifies it), or
        of the next one if none began since :meth:`set` (``token`` is ``None``)."""
        with self._values.get_lock():
            values = self._values.get_obj()
            if values[_ACTIVE]:
                return values[_ACTIVE_EPOCH], values[_ACTIVE_START], (values[_GENERATION], values[_ITERATION])
            return values[_EPOCH], values[_START], None

    def begin(self, worker_base_seed: int | None) -> tuple[int, int, tuple[int, int]]:
        """Start an iteration in this process; return its ``(epoch, start, token)``.

        Args:
            worker_base_seed: the DataLoader's ``base_seed`` in a worker (its seed minus its id),
                ``None`` in the main process.
        """
        count = self._iterations
        self._iterations += 1
        if worker_base_seed is None:
            key = (1, os.getpid(), count)
        else:
            key = (2, worker_base_seed, count)
        with self._values.get_lock():
            values = self._values.get_obj()
            if (values[_KIND], values[_KEY_A], values[_KEY_B]) != key:
                values[_KIND], values[_KEY_A], values[_KEY_B] = key
                values[_ITERATION] += 1
            iteration = values[_ITERATION]
            epoch = values[_EPOCH] + iteration
            start = values[_START] if iteration == 0 else 0
            values[_ACTIVE], values[_ACTIVE_EPOCH], values[_ACTIVE_START] = 1, epoch, start
            return epoch, start, (values[_GENERATION], iteration)
