"""Worker processes for :class:`~dings.torch.Loader`: batches handed back through shared-memory slots.

Each worker (a forked copy of the loader) builds the batches of the tasks it is sent and copies
their arrays into a *slot*: a ``multiprocessing.shared_memory`` segment the worker owns and grows
when a result needs more room. It sends back only a small layout (names, dtypes, shapes, offsets);
the main process maps the slot and wraps the arrays without copying or pickling them. A slot is
written again only after every array made from it is gone (see :class:`~dings.torch.BufferPool`).
Tasks go to the workers in turn and results are read back in the same order. Closing the pool
stops the workers and unlinks every segment, also after errors and interrupts.
"""

from __future__ import annotations

import mmap
import multiprocessing
import os
import secrets
import signal
import threading
import traceback
import weakref
from collections.abc import Callable
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import SharedMemory
from typing import Any, cast

import numpy as np

from .batch_decode import BatchError
from .columns import Column, _Owner

__all__ = ["ProcessPool"]

_ALIGN = 64
_SHM = "/dev/shm"


#: the shared memory of a batch without arrays
_NO_MEMORY = np.empty(0, dtype=np.uint8)


def _layout(value: Any, arrays: list[tuple[int, np.ndarray]], size: list[int]) -> Any:
    """Describe ``value`` with its arrays replaced by ``("a", offset, dtype, shape)`` (collected in ``arrays``)."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufc":
        offset = size[0]
        size[0] += -(-value.nbytes // _ALIGN) * _ALIGN
        arrays.append((offset, value))
        return ("a", offset, value.dtype.str, value.shape)
    if isinstance(value, Column):
        return ("c", _layout(value.data, arrays, size), _layout(value.offsets, arrays, size), value.text)
    if isinstance(value, dict):
        return ("d", {k: _layout(v, arrays, size) for k, v in value.items()})
    return ("o", value)


def _attach(name: str) -> mmap.mmap:
    """Map a worker's segment (a plain mmap: it closes itself when the last array over it goes)."""
    fd = os.open(os.path.join(_SHM, name), os.O_RDWR)
    try:
        return mmap.mmap(fd, 0)
    finally:
        os.close(fd)


def _unlink(name: str) -> None:
    try:
        os.unlink(os.path.join(_SHM, name))
    except FileNotFoundError:
        return
    resource_tracker.unregister("/" + name, "shared_memory")  # as SharedMemory.unlink does


class _Slots:
    """The segments of one worker process, by slot number (worker side)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.segments: dict[int, SharedMemory] = {}

    def write(self, slot: int, batches: list) -> tuple[str | None, list]:
        arrays: list[tuple[int, np.ndarray]] = []
        size = [0]
        layouts = [_layout(batch, arrays, size) for batch in batches]
        if not arrays:
            return None, layouts
        segment = self.segments.get(slot)
        if segment is None or segment.size < size[0]:
            if segment is not None:
                segment.close()  # the main process unlinks it once it no longer maps it
            name = f"{self.prefix}-{slot}-{secrets.token_hex(4)}"
            segment = self.segments[slot] = SharedMemory(name, create=True, size=max(size[0], 1) + size[0] // 4)
        memory = np.frombuffer(cast(memoryview, segment.buf), dtype=np.uint8)  # set while the segment is open
        for offset, array in arrays:
            memory[offset : offset + array.nbytes] = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
        del memory
        return segment.name, layouts

    def close(self) -> None:
        for segment in self.segments.values():
            try:
                segment.close()
            except BufferError:  # pragma: no cover - a view still open while exiting
                pass


def _worker(connection: Any, build: Callable[..., list], prefix: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    slots = _Slots(prefix)
    try:
        while True:
            task = connection.recv()
            if task is None:
                break
            slot, args = task
            try:
                batches, sample_bytes = build(*args)
                name, layouts = slots.write(slot, batches)
                connection.send(("ok", name, layouts, sample_bytes))
            except Exception as exc:  # noqa: BLE001 - reported to the main process
                try:
                    connection.send(("error", exc, traceback.format_exc()))
                except Exception:  # noqa: BLE001 - an exception that cannot be pickled
                    connection.send(("error", BatchError(f"{type(exc).__name__}: {exc}"), traceback.format_exc()))
    except (EOFError, OSError, KeyboardInterrupt):
        pass
    finally:
        slots.close()
        connection.close()


class ProcessPool:
    """Worker processes that build batches and return them through shared memory.

    Args:
        processes: number of worker processes (forked: they inherit the reader and transforms).
        build: ``build(*args) -> (batches, packed bytes per sample)``, called in a worker per task;
            batches are dicts of numpy arrays, :class:`~dings.torch.Column` objects and other values.
    """

    def __init__(self, processes: int, build: Callable[..., Any]) -> None:
        resource_tracker.ensure_running()  # one tracker for the workers' segments and ours
        try:
            context = multiprocessing.get_context("fork")
        except ValueError as exc:  # pragma: no cover - not on Linux/macOS
            raise RuntimeError("processes= needs the fork start method; use threads on this system") from exc
        self.prefix = f"dings-loader-{os.getpid()}-{secrets.token_hex(3)}"
        self._names: set[str] = set()  # the segments mapped here
        self._maps: dict[str, mmap.mmap] = {}
        self._lock = threading.Lock()
        self._free: list[int] = []
        self._slots = 0
        self._connections = []
        self._processes = []
        self._next = 0  # the worker of the next task
        self._closed = False
        for number in range(processes):
            here, there = context.Pipe()
            process = context.Process(
                target=_worker,
                args=(there, build, f"{self.prefix}-{number}"),
                daemon=True,
                name=f"dings-loader-{number}",
            )
            process.start()
            there.close()
            self._connections.append(here)
            self._processes.append(process)
        self._finalizer = weakref.finalize(
            self, ProcessPool._shutdown, self._connections, self._processes, self._maps, self._names, self.prefix
        )

    def submit(self, *args: Any) -> tuple[int, int]:
        """Send a task to the next worker; returns ``(worker, slot)`` for :meth:`result`."""
        with self._lock:
            if self._free:
                slot = self._free.pop()
            else:
                slot = self._slots
                self._slots += 1
        worker = self._next
        self._next = (worker + 1) % len(self._connections)
        self._connections[worker].send((slot, args))
        return worker, slot

    def result(self, ticket: tuple[int, int]) -> tuple[list, int]:
        """The batches of a submitted task, as arrays over shared memory, and the bytes per sample.

        Raises:
            BatchError: (or the worker's exception) when the task failed.
            RuntimeError: a worker died.
        """
        worker, slot = ticket
        connection = self._connections[worker]
        try:
            message = connection.recv()
        except (EOFError, OSError):
            code = self._processes[worker].exitcode
            raise RuntimeError(
                f"loader worker process {worker} died (exit code {code}); its batches are lost"
            ) from None
        if message[0] == "error":
            self._release(slot)
            raise message[1]
        _, name, layouts, sample_bytes = message
        if name is None:
            self._release(slot)
            return [self._rebuild(layout, _NO_MEMORY) for layout in layouts], sample_bytes  # no arrays in them
        segment = self._maps.get(name)
        if segment is None:
            segment = self._maps[name] = _attach(name)
            self._names.add(name)
        memory = np.frombuffer(segment, dtype=np.uint8)
        owner = _Owner(memory, (len(memory),), np.dtype(np.uint8))
        weakref.finalize(owner, self._release, slot)
        view = np.asarray(owner)
        return [self._rebuild(layout, view) for layout in layouts], sample_bytes

    def _release(self, slot: int) -> None:
        with self._lock:
            self._free.append(slot)

    def _rebuild(self, layout: Any, memory: np.ndarray) -> Any:
        kind = layout[0]
        if kind == "a":
            _, offset, dtype, shape = layout
            dtype = np.dtype(dtype)
            count = int(np.prod(shape, dtype=np.int64))
            return memory[offset : offset + count * dtype.itemsize].view(dtype).reshape(shape)
        if kind == "c":
            return Column(self._rebuild(layout[1], memory), self._rebuild(layout[2], memory), layout[3])
        if kind == "d":
            return {k: self._rebuild(v, memory) for k, v in layout[1].items()}
        return layout[1]

    def close(self) -> None:
        """Stop the workers and unlink every shared-memory segment (arrays still held stay valid)."""
        self._finalizer()

    @staticmethod
    def _shutdown(connections: list, processes: list, maps: dict[str, mmap.mmap], names: set, prefix: str) -> None:
        for connection in connections:
            try:
                connection.send(None)
            except (OSError, ValueError):
                pass
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
        for connection in connections:
            connection.close()
        # every segment the workers made, also those the main process never mapped
        found = set(names)
        if os.path.isdir(_SHM):
            found.update(n for n in os.listdir(_SHM) if n.startswith(f"{prefix}-"))
        for name in found:
            _unlink(name)
        names.clear()
        maps.clear()  # each mapping ends when the last array made from it is gone
