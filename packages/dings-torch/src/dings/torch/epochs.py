"""Epoch bookkeeping shared by a dataset and every DataLoader worker made from it.

A DataLoader copies the dataset into each worker process; with ``persistent_workers=False`` it
does so again for every epoch. To let :meth:`~dings.torch.IterableDataset.set_epoch` and
:meth:`~dings.torch.IterableDataset.load_state_dict` reach workers that already exist, and to let
fresh workers know which epoch comes next, the bookkeeping lives in a few int64 values in shared
memory (an unlinked temporary file, memory-mapped), created with the dataset. Forked workers inherit
the mapping; workers started with ``spawn`` or ``forkserver`` receive the file descriptor while
they start. A POSIX record lock on that file makes updates atomic across processes.

Each call of ``iter(dataset)`` names the DataLoader iteration it belongs to with a *key*:
workers of one DataLoader iteration share their ``base_seed`` (drawn anew for every iteration
of a non-persistent DataLoader) and the number of iterations their process has started (which
grows for persistent workers); the main process (``num_workers=0``) uses its pid and its own
count. The first worker with a new key starts the next epoch; the others join it.

Pickled at any other time than while starting a process, the copy gets its own values (a snapshot).
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import tempfile
import weakref
from collections.abc import Iterator
from multiprocessing.context import get_spawning_popen
from multiprocessing.reduction import DupFd

__all__ = ["EpochState"]

_EPOCH, _START, _ITERATION, _KIND, _KEY_A, _KEY_B, _ACTIVE, _ACTIVE_EPOCH, _ACTIVE_START, _GENERATION = range(10)
_FIELDS = 10


def _release(block: mmap.mmap, fd: int) -> None:
    try:
        block.close()
    except BufferError:  # the values are still viewed; the mapping goes with the process
        pass
    os.close(fd)


class EpochState:
    """The epoch and resume offset of a dataset, shared with the processes its DataLoader starts.

    Args:
        epoch: the epoch the next iteration uses.
        start: positions of that epoch already consumed (the resume offset).
    """

    def __init__(self, epoch: int = 0, start: int = 0) -> None:
        fd, name = tempfile.mkstemp(prefix="dings-epochs-")
        os.unlink(name)
        os.ftruncate(fd, 8 * _FIELDS)
        self._attach(fd)
        self._iterations = 0  # iterations this process has started (copied, not shared)
        self.set(epoch, start)

    def _attach(self, fd: int) -> None:
        self._fd = fd
        block = mmap.mmap(fd, 8 * _FIELDS)
        self._values = memoryview(block).cast("q")
        self._finalizer = weakref.finalize(self, _release, block, fd)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[memoryview]:
        fcntl.lockf(self._fd, fcntl.LOCK_EX)
        try:
            yield self._values
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN)

    def __getstate__(self) -> dict:
        if get_spawning_popen() is not None:  # a worker being started: share the values
            return {"fd": DupFd(self._fd), "iterations": self._iterations}
        with self._locked() as values:
            return {"snapshot": values.tolist(), "iterations": self._iterations}

    def __setstate__(self, state: dict) -> None:
        self._iterations = state["iterations"]
        if "fd" in state:
            self._attach(state["fd"].detach())
            return
        fd, name = tempfile.mkstemp(prefix="dings-epochs-")
        os.unlink(name)
        os.ftruncate(fd, 8 * _FIELDS)
        self._attach(fd)
        for index, value in enumerate(state["snapshot"]):
            self._values[index] = value

    def set(self, epoch: int, start: int = 0) -> None:
        """Make the next iteration use ``epoch``, resuming after ``start`` positions."""
        with self._locked() as values:
            values[_EPOCH], values[_START], values[_ITERATION] = epoch, start, -1
            values[_KIND] = values[_KEY_A] = values[_KEY_B] = 0
            values[_ACTIVE] = 0
            values[_GENERATION] += 1

    def pending(self) -> tuple[int, int, bool]:
        """``(epoch, start, untouched)``: what ``set`` stored and whether no iteration began since."""
        with self._locked() as values:
            return values[_EPOCH], values[_START], values[_ITERATION] < 0

    def active(self) -> tuple[int, int, tuple[int, int] | None]:
        """``(epoch, start, token)`` of the iteration that began last (``token`` identifies it), or
        of the next one if none began since :meth:`set` (``token`` is ``None``)."""
        with self._locked() as values:
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
        key = (1, os.getpid(), count) if worker_base_seed is None else (2, worker_base_seed, count)
        with self._locked() as values:
            if (values[_KIND], values[_KEY_A], values[_KEY_B]) != key:
                values[_KIND], values[_KEY_A], values[_KEY_B] = key
                values[_ITERATION] += 1
            iteration = values[_ITERATION]
            epoch = values[_EPOCH] + iteration
            start = values[_START] if iteration == 0 else 0
            values[_ACTIVE], values[_ACTIVE_EPOCH], values[_ACTIVE_START] = 1, epoch, start
            return epoch, start, (values[_GENERATION], iteration)
