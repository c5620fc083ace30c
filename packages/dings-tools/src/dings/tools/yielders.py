"""datadings' background-worker building blocks: a thread or process that feeds a queue from a generator.

:func:`~dings.tools.yield_threaded` and :func:`~dings.tools.yield_process` are the easy way to run a
generator in the background. The classes here are for code written against datadings' own loop:
start a worker, then read the queue until the end marker, raising on the error marker::

    queue = Queue(maxsize=3)
    end, error = object(), object()
    worker = Yielder(gen, queue, end, error)
    worker.start()
    while (item := queue.get()) is not end:
        if item is error:
            raise RuntimeError("the generator failed")
        ...
    worker.stop()

A worker puts every item of the generator into the queue, waiting while it is full, then the end
marker; if the generator raises, it puts the error marker instead (a :class:`Yielder` also keeps the
exception as ``exception``). After :meth:`stop` it puts nothing more and exits once it sees the flag.
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
import threading
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["SentinelEnd", "SentinelError", "Yielder", "YielderProc"]

#: seconds a worker waits on a full queue before it checks whether it was stopped
_RECHECK = 0.1


class SentinelEnd:
    """Put into the queue by a :class:`YielderProc` after the generator's last item."""


class SentinelError:
    """Put into the queue by a :class:`YielderProc` when the generator raised."""


def _feed(gen: Iterable[Any], out: Any, running: Callable[[], bool], end: Any, error: Any) -> BaseException | None:
    """Put ``gen``'s items, then ``end`` (or ``error``), into ``out`` while ``running()``; return gen's exception."""

    def put(obj: Any) -> bool:
        while running():
            try:
                out.put(obj, timeout=_RECHECK)
                return True
            except queue_module.Full:
                continue
        return False

    try:
        for obj in gen:
            if not put(obj):
                return None
    except Exception as exc:  # handed to the consumer as the error marker
        put(error)
        return exc
    put(end)
    return None


class Yielder(threading.Thread):
    """A daemon thread that puts the items of ``gen`` into ``queue``, then ``end`` (or ``error``).

    Args:
        gen: the generator (any iterable), iterated only in the thread.
        queue: a :class:`queue.Queue`, best bounded.
        end: the object put after the last item.
        error: the object put if ``gen`` raises; the exception is kept as :attr:`exception`.
    """

    def __init__(self, gen: Iterable[Any], queue: queue_module.Queue, end: Any, error: Any) -> None:
        super().__init__(daemon=True)
        self.running = True
        self.gen = gen
        self.queue = queue
        self.end = end
        self.error = error
        #: the exception ``gen`` raised, if it did
        self.exception: BaseException | None = None

    def run(self) -> None:
        self.exception = _feed(self.gen, self.queue, lambda: self.running, self.end, self.error)

    def stop(self) -> None:
        """Ask the thread to stop after the item it is working on; nothing more is put."""
        self.running = False


class YielderProc(multiprocessing.Process):
    """A daemon process that puts the items of ``gen`` into ``queue``, then a :class:`SentinelEnd`.

    If ``gen`` raises, a :class:`SentinelError` is put instead. ``gen`` and every item must be
    picklable to reach the process and come back, so a generator object needs the ``fork`` start
    method (as in datadings).

    Args:
        gen: the generator (any iterable), iterated only in the process.
        queue: a :class:`multiprocessing.Queue`, best bounded.
    """

    def __init__(self, gen: Iterable[Any], queue: Any) -> None:
        super().__init__(daemon=True)
        self.running = multiprocessing.Value("b", 1)
        self.gen = gen
        self.queue = queue

    def run(self) -> None:
        _feed(self.gen, self.queue, lambda: bool(self.running.value), SentinelEnd(), SentinelError())
        if not self.running.value:  # stopped: the consumer reads no more, do not wait for it
            self.queue.cancel_join_thread()

    def stop(self) -> None:
        """Ask the process to stop after the item it is working on; nothing more is put."""
        self.running.value = 0
