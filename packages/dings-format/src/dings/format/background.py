"""A bounded queue drained by a background thread, so hashing and writing overlap packing."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["BackgroundWorker"]

_STOP = None


class BackgroundWorker:
    """Calls ``consume(chunk)`` on a daemon thread for every submitted chunk, in order.

    ``hashlib`` updates and file writes release the GIL, so two workers (md5 and write) run next to
    the thread that packs samples. An exception in ``consume`` stops the worker and is raised again
    by the next :meth:`submit` or by :meth:`finish`.

    Args:
        consume: called with each chunk.
        name: thread name (shows in debuggers).
        max_pending: chunks that may wait before :meth:`submit` blocks (bounds memory).
    """

    def __init__(self, consume: Callable[[bytes], object], name: str, max_pending: int = 16) -> None:
        self._consume = consume
        self._queue: queue.Queue[bytes | None] = queue.Queue(max_pending)
        self._error: BaseException | None = None
        self._cancelled = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        consume, get, empty = self._consume, self._queue.get, queue.Empty
        while True:
            try:
                # a timeout, so that a cancel always ends the thread, even when a Ctrl-C in the
                # submitting thread left the queue's wake-ups in a bad state
                chunk = get(timeout=0.2)
            except empty:
                if self._cancelled:
                    return
                continue
            if chunk is _STOP or self._cancelled:
                return
            if self._error is None:
                try:
                    consume(chunk)
                except BaseException as exc:  # re-raised in the submitting thread
                    self._error = exc

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def submit(self, chunk: Any) -> None:
        """Queue ``chunk`` (which must not change afterwards); raises an earlier error of ``consume``."""
        self._raise_error()
        self._queue.put(chunk)

    def finish(self) -> None:
        """Wait until every chunk is consumed; raises an error of ``consume``."""
        self._queue.put(_STOP)
        self._thread.join()
        self._raise_error()

    def cancel(self) -> None:
        """Drop pending chunks and stop the thread; does nothing if it has stopped."""
        self._cancelled = True
        if not self._thread.is_alive():
            return
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        try:
            self._queue.put_nowait(_STOP)
        except queue.Full:
            pass  # the thread sees the flag within its timeout
        self._thread.join()
