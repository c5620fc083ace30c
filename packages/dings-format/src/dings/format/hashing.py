"""md5 of a byte stream on a background thread, so hashing overlaps packing and writing."""

from __future__ import annotations

import hashlib
import queue
import threading

__all__ = ["BackgroundMd5"]

_STOP = None


class BackgroundMd5:
    """Feed chunks with :meth:`update`; a daemon thread hashes them (hashlib releases the GIL).

    Args:
        max_pending: chunks that may wait in the queue before :meth:`update` blocks (bounds memory).
    """

    def __init__(self, max_pending: int = 16) -> None:
        self._md5 = hashlib.md5()
        self._queue: queue.Queue[bytes | None] = queue.Queue(max_pending)
        self._thread = threading.Thread(target=self._run, name="dings-md5", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        update = self._md5.update
        get = self._queue.get
        while (chunk := get()) is not _STOP:
            update(chunk)

    def update(self, chunk: bytes) -> None:
        """Queue ``chunk`` for hashing (must not be modified afterwards)."""
        self._queue.put(chunk)

    def hexdigest(self) -> str:
        """Wait until every queued chunk is hashed and return the hex digest. Call once."""
        self._queue.put(_STOP)
        self._thread.join()
        return self._md5.hexdigest()

    def cancel(self) -> None:
        """Stop the thread without waiting for a digest; does nothing if it has stopped."""
        if not self._thread.is_alive():
            return
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(_STOP)
        self._thread.join()
