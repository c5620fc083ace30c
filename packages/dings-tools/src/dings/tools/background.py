"""Run a generator in a background thread or process and read its items through a bounded queue.

``yield_threaded`` overlaps I/O (reading source files) with the consumer's work; ``yield_process``
also moves CPU-bound generation (decoding, transcoding) out of the consumer's interpreter.

Both return an iterator that

- yields the generator's items in order, holding at most ``maxsize`` of them in the queue;
- re-raises an exception of the generator in the consumer: a thread's exception is the original
  object with its original traceback; a process's exception arrives pickled, with the worker's
  formatted traceback attached as its ``__cause__`` (a :class:`WorkerTraceback`), or as a
  :class:`WorkerError` when the exception cannot be pickled;
- stops the worker when the consumer stops early: ``close()``, a ``with`` block, a ``break`` followed
  by garbage collection, or the end of the program. A thread finishes the item it is computing,
  closes the generator (its ``finally`` blocks run) and exits; a process that does not exit within
  a few seconds is terminated.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import pickle
import queue
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

__all__ = ["WorkerError", "WorkerTraceback", "yield_process", "yield_threaded"]

T = TypeVar("T")

_ITEM, _DONE, _ERROR = 0, 1, 2
#: seconds to wait for a stopped worker before giving up (thread) or terminating it (process)
_STOP_TIMEOUT = 5.0
#: seconds between checks that a worker process is still alive while waiting for an item
_POLL = 0.2


class WorkerError(RuntimeError):
    """A background worker failed in a way that cannot be re-raised as the original exception."""


class WorkerTraceback(Exception):
    """The formatted traceback of an exception raised in another process (set as ``__cause__``)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return "\n" + self.text.rstrip("\n")


def _check_maxsize(maxsize: int) -> int:
    if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
        raise ValueError(f"maxsize must be an int >= 1, got {maxsize!r}")
    return maxsize


class _Background(Iterator[T], Generic[T]):
    """Consumer side shared by the thread and process variants."""

    _finished = True  # so __del__ is safe if __init__ failed early

    def __iter__(self) -> _Background[T]:
        return self

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        kind, payload = self._get()
        if kind == _ITEM:
            return self._unwrap(payload)
        self._finished = True
        self._join()
        if kind == _DONE:
            raise StopIteration
        raise self._error(payload)

    def close(self) -> None:
        """Stop the worker and drop queued items; safe to call more than once."""
        if self._finished:
            return
        self._finished = True
        self._stop_worker()

    def __enter__(self) -> _Background[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: modules may be gone already
            pass

    # implemented by the variants
    def _get(self) -> tuple[int, Any]:
        raise NotImplementedError

    def _unwrap(self, payload: Any) -> T:
        raise NotImplementedError

    def _error(self, payload: Any) -> BaseException:
        raise NotImplementedError

    def _join(self) -> None:
        raise NotImplementedError

    def _stop_worker(self) -> None:
        raise NotImplementedError


# --- threads ---


def _thread_worker(iterable: Iterable[Any], out: queue.Queue, stop: threading.Event) -> None:
    # After ``stop`` is set the consumer drains the queue once; this loop then puts at most one more
    # message, so a put never blocks forever (maxsize >= 1).
    iterator: Iterator[Any] | None = None
    try:
        iterator = iter(iterable)
        for item in iterator:
            out.put((_ITEM, item))
            if stop.is_set():
                return
        out.put((_DONE, None))
    except BaseException as exc:  # handed to the consumer
        out.put((_ERROR, exc))
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()  # runs the generator's finally blocks in the thread that ran it


class _Threaded(_Background[T]):
    def __init__(self, iterable: Iterable[T], maxsize: int, name: str) -> None:
        self._queue: queue.Queue = queue.Queue(_check_maxsize(maxsize))
        self._stop = threading.Event()
        # the thread must not reference self, or garbage collection could never stop it
        self._thread = threading.Thread(
            target=_thread_worker, args=(iterable, self._queue, self._stop), name=name, daemon=True
        )
        self._thread.start()
        self._finished = False

    def _get(self) -> tuple[int, Any]:
        return self._queue.get()

    def _unwrap(self, payload: Any) -> T:
        return payload

    def _error(self, payload: Any) -> BaseException:
        return payload  # the original exception; its __traceback__ holds the worker's frames

    def _join(self) -> None:
        self._thread.join()

    def _drain(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def _stop_worker(self) -> None:
        self._stop.set()
        self._drain()
        # a generator stuck in a slow next() is left to finish on its own (daemon thread)
        self._thread.join(_STOP_TIMEOUT)
        self._drain()


def yield_threaded(gen: Iterable[T], maxsize: int = 16, *, name: str = "yield_threaded") -> Iterator[T]:
    """Iterate ``gen`` in a background thread and yield its items here, in order.

    The thread starts at once and runs ahead of the consumer by at most ``maxsize`` items. Close the
    returned iterator (or use it in a ``with`` block) to stop the thread early; garbage collection
    does the same.

    Args:
        gen: a generator or any iterable; it is iterated (and closed) only in the worker thread.
        maxsize: queue length, i.e. how many items may wait for the consumer (>= 1).
        name: thread name (shows in debuggers and thread dumps).

    Returns:
        An iterator with ``close()`` that is also a context manager.

    Raises:
        ValueError: ``maxsize`` is not a positive int.
        Exception: whatever the generator raises, re-raised with its original traceback.
    """
    return _Threaded(gen, maxsize, name)


# --- processes ---


def _pack_exception(exc: BaseException) -> tuple[str, str, str, bytes | None]:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        packed = pickle.dumps(exc)
        pickle.loads(packed)  # some exceptions pickle but cannot be rebuilt
        data: bytes | None = packed
    except Exception:
        data = None
    return type(exc).__qualname__, str(exc), text, data


def _unpack_exception(packed: tuple[str, str, str, bytes | None], where: str) -> BaseException:
    name, message, text, data = packed
    exc: BaseException | None = None
    if data is not None:
        try:
            exc = pickle.loads(data)
        except Exception:
            exc = None
    if not isinstance(exc, BaseException):
        exc = WorkerError(f"{name} in {where}: {message}")
    exc.__cause__ = WorkerTraceback(text)
    return exc


def _process_worker(
    factory: Callable[..., Iterable[Any]],
    args: tuple,
    kwargs: dict,
    out: Any,  # multiprocessing Queue
    stop: Any,  # multiprocessing Event
) -> None:
    iterator: Iterator[Any] | None = None
    try:
        iterator = iter(factory(*args, **kwargs))
        for item in iterator:
            # pickle here, so an unpicklable item is an error of the generator, not a lost item
            out.put((_ITEM, pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)))
            if stop.is_set():
                out.cancel_join_thread()  # nobody reads any more: exit without flushing
                return
        out.put((_DONE, None))
    except BaseException as exc:
        out.put((_ERROR, _pack_exception(exc)))
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


class _Process(_Background[T]):
    def __init__(
        self,
        factory: Callable[..., Iterable[T]],
        args: tuple,
        kwargs: dict,
        maxsize: int,
        context: Any,  # a multiprocessing context (BaseContext does not declare Process)
        name: str,
    ) -> None:
        self._queue = context.Queue(_check_maxsize(maxsize))
        self._stop = context.Event()
        self._name = name
        self._process = context.Process(
            target=_process_worker, args=(factory, args, kwargs, self._queue, self._stop), name=name, daemon=True
        )
        self._process.start()
        self._finished = False

    def _get(self) -> tuple[int, Any]:
        while True:
            try:
                return self._queue.get(timeout=_POLL)
            except queue.Empty:
                if self._process.is_alive():
                    continue
            try:  # it exited: take what it flushed before exiting
                return self._queue.get(timeout=_POLL)
            except queue.Empty:
                self._finished = True
                self._process.join()
                raise WorkerError(
                    f"the background process {self._name!r} exited with code {self._process.exitcode} "
                    "before its generator finished (killed, out of memory, or os._exit?)"
                ) from None

    def _unwrap(self, payload: Any) -> T:
        return pickle.loads(payload)

    def _error(self, payload: Any) -> BaseException:
        return _unpack_exception(payload, f"background process {self._name!r}")

    def _join(self) -> None:
        self._process.join()
        self._queue.close()

    def _stop_worker(self) -> None:
        self._stop.set()
        deadline = time.monotonic() + _STOP_TIMEOUT
        while self._process.is_alive() and time.monotonic() < deadline:
            try:  # free queue slots so a blocked put returns and the worker sees the stop flag
                while True:
                    self._queue.get_nowait()
            except queue.Empty:
                pass
            self._process.join(0.02)
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._queue.close()
        self._queue.cancel_join_thread()


def yield_process(
    gen: Callable[..., Iterable[T]] | Iterable[T],
    *args: Any,
    maxsize: int = 16,
    context: str | multiprocessing.context.BaseContext | None = None,
    name: str = "yield_process",
    **kwargs: Any,
) -> Iterator[T]:
    """Run ``gen(*args, **kwargs)`` in a background process and yield its items here, in order.

    The generator is created inside the worker process from a factory, so it works with every start
    method: with ``spawn``/``forkserver`` the factory and its arguments must be picklable (a
    module-level function and plain values); with ``fork`` (Linux's default up to Python 3.13) they
    are inherited. A generator *object* cannot be pickled, so passing one instead of a factory
    needs the ``fork`` start method. Every item is pickled to cross the process boundary.
    The worker is a daemon process: the generator cannot start processes of its own.

    Args:
        gen: a callable returning an iterable (preferred), or an iterable such as a generator
            (``fork`` only), as datadings' ``yield_process(gen)``.
        args: positional arguments for ``gen``.
        maxsize: how many pickled items may wait in the queue (>= 1).
        context: multiprocessing start method name or context; ``None`` uses the default.
        name: process name.
        kwargs: keyword arguments for ``gen``.

    Returns:
        An iterator with ``close()`` that is also a context manager.

    Raises:
        TypeError: ``gen`` is an iterable but the start method is not ``fork``.
        ValueError: ``maxsize`` is not a positive int.
        Exception: the generator's exception, with the worker's traceback as ``__cause__``;
            :class:`WorkerError` when it cannot be pickled or the process died.
    """
    if context is None or isinstance(context, str):
        ctx = multiprocessing.get_context(context)
    else:
        ctx = context
    if callable(gen):
        factory: Callable[..., Iterable[T]] = gen
    else:
        if args or kwargs:
            raise TypeError("yield_process: arguments are only allowed when gen is a callable factory")
        if ctx.get_start_method() != "fork":
            raise TypeError(
                f"yield_process: cannot send a {type(gen).__name__} to a {ctx.get_start_method()!r} process; "
                "pass a picklable factory function (and its arguments) that returns the generator"
            )
        factory, args = iter, (gen,)
    return _Process(factory, args, kwargs, maxsize, ctx, name)
