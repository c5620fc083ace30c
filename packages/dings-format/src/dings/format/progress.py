"""A minimal progress line (samples, samples/s, MB/s) for writers; no dependencies.

dings.format keeps its dependencies to msgpack, msgpack-numpy, numpy and simplebloom, so it has its
own tiny progress display instead of tqdm. Higher packages use tqdm.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress", "progress_enabled"]


def progress_enabled(progress: bool | None, stream: TextIO | None = None) -> bool:
    """Resolve a ``progress`` flag: ``None`` means "on when the stream is a terminal"."""
    if progress is not None:
        return bool(progress)
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


class Progress:
    """Shows ``desc: samples [/ total] · samples/s · MB/s · elapsed`` on one line, refreshed at most
    every ``interval`` seconds. Prints nothing at all when disabled.

    Args:
        desc: label at the start of the line (usually the file name).
        total: expected number of samples, if known.
        enabled: show the line; ``None`` shows it when ``stream`` is a terminal.
        stream: where to print (stderr by default).
        interval: minimum seconds between refreshes.
    """

    def __init__(
        self,
        desc: str = "",
        total: int | None = None,
        enabled: bool | None = None,
        stream: TextIO | None = None,
        interval: float = 0.5,
    ) -> None:
        self.desc = desc
        self.total = total
        self.stream = stream or sys.stderr
        self.enabled = progress_enabled(enabled, self.stream)
        self.interval = interval
        self.samples = 0
        self.nbytes = 0
        self._start = time.perf_counter()
        self._last = self._start
        self._shown = False

    def update(self, samples: int, nbytes: int = 0) -> None:
        """Count ``samples`` more samples of ``nbytes`` bytes; refresh the line if it is time."""
        self.samples += samples
        self.nbytes += nbytes
        if self.enabled:
            now = time.perf_counter()
            if now - self._last >= self.interval:
                self._last = now
                self._show(now)

    def _show(self, now: float) -> None:
        elapsed = max(now - self._start, 1e-9)
        count = f"{self.samples:,}" + (f"/{self.total:,}" if self.total else "")
        minutes, seconds = divmod(int(elapsed), 60)
        rates = f"{self.nbytes / elapsed / 1e6:,.1f} MB/s, {minutes}:{seconds:02d}"
        if self.samples or not self.nbytes:
            line = f"{self.desc}: {count} samples, {self.samples / elapsed:,.0f} samples/s, {rates}"
        else:  # counting bytes only (e.g. hashing a file)
            line = f"{self.desc}: {self.nbytes / 1e6:,.1f} MB, {rates}"
        self.stream.write("\r" + line)
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        """Show the final figures and end the line."""
        if self.enabled:
            self._show(time.perf_counter())
            self.stream.write("\n")
            self.stream.flush()
            self.enabled = False
