"""The one progress display of every dings package: tqdm bars, silent when tqdm is not installed.

dings.format depends only on msgpack, msgpack-numpy, numpy and simplebloom, so it imports tqdm when
it is there (dings-tools, dings-torch and dings-cli install it) and shows nothing otherwise. Every
``progress`` argument means the same: ``True`` shows a bar, ``False`` never does, ``None`` shows one
only when the output is a terminal. Bytes are shown with decimal prefixes (kB, MB), as everywhere
in dings.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sized
from typing import Any, TextIO

__all__ = ["Progress", "SilentBar", "progress_bar"]


class SilentBar:
    """The part of tqdm's interface that dings uses, doing nothing (no tqdm, or progress off)."""

    def __init__(self, iterable: Iterable | None = None, total: float | None = None) -> None:
        self.iterable, self.total = iterable, total
        self.n: float = 0
        self.leave = True
        self.disable = True

    def __iter__(self) -> Iterator:
        for item in self.iterable or ():
            self.n += 1
            yield item

    def __len__(self) -> int:
        if isinstance(self.iterable, Sized):
            return len(self.iterable)
        return int(self.total or 0)

    def update(self, n: float = 1) -> None:
        """Count ``n`` more."""
        self.n += n

    def reset(self, total: float | None = None) -> None:
        """Start counting from zero again, towards ``total``."""
        self.n, self.total = 0, total

    def set_description(self, desc: str | None = None, refresh: bool = True) -> None:
        """Ignored."""

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        """Ignored."""

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        """Ignored."""

    def refresh(self) -> None:
        """Ignored."""

    def close(self) -> None:
        """Ignored."""

    def __enter__(self) -> SilentBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress_bar(
    iterable: Iterable | None = None,
    *,
    total: float | None = None,
    desc: str | None = None,
    unit: str = "it",
    enabled: bool | None = True,
    **tqdm_kwargs: Any,
) -> Any:
    """A tqdm progress bar, or a :class:`SilentBar` when ``enabled`` is false or tqdm is missing.

    Args:
        iterable: iterable to wrap (or ``None`` and call ``update`` yourself).
        total: expected number of items or bytes.
        desc: label in front of the bar (usually a file name).
        unit: what is counted; ``"B"`` shows bytes with decimal prefixes (kB, MB) and a rate.
        enabled: ``True`` show the bar, ``False`` never, ``None`` only when the output is a terminal.
        tqdm_kwargs: passed on to tqdm (``file``, ``leave``, ``mininterval``, …).
    """
    if enabled is False:
        return SilentBar(iterable, total)
    try:
        from tqdm import tqdm
    except ImportError:
        return SilentBar(iterable, total)
    if unit == "B":
        tqdm_kwargs.setdefault("unit_scale", True)
        tqdm_kwargs.setdefault("unit_divisor", 1000)
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        disable=None if enabled is None else False,
        dynamic_ncols=True,
        **tqdm_kwargs,
    )


class Progress:
    """Samples and bytes written, on a :func:`progress_bar` counting samples with the bytes as postfix.

    Args:
        desc: label at the start of the line (usually the file name).
        total: expected number of samples, if known.
        enabled: ``True`` show, ``False`` never, ``None`` only when ``stream`` is a terminal.
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
        self.samples = 0
        self.nbytes = 0
        self._start = time.perf_counter()
        kwargs: dict[str, Any] = {"file": stream} if stream is not None else {}
        self._bar = progress_bar(
            total=total, desc=desc, unit=" samples", enabled=enabled, mininterval=interval, **kwargs
        )

    @property
    def enabled(self) -> bool:
        """Whether anything is shown; set it to ``False`` to remove the bar without a final line."""
        return not getattr(self._bar, "disable", True)

    @enabled.setter
    def enabled(self, value: bool) -> None:
        if not value and self.enabled:
            self._bar.leave = False
            self._bar.close()

    def update(self, samples: int, nbytes: int = 0) -> None:
        """Count ``samples`` more samples of ``nbytes`` bytes."""
        self.samples += samples
        self.nbytes += nbytes
        if self.enabled:
            self._bar.set_postfix_str(self._bytes(), refresh=False)
            self._bar.update(samples)

    def close(self) -> None:
        """Show the final figures and end the line."""
        if self.enabled:
            self._bar.set_postfix_str(self._bytes(), refresh=False)
            self._bar.close()

    def _bytes(self) -> str:
        elapsed = max(time.perf_counter() - self._start, 1e-9)
        return f"{self.nbytes / 1e6:,.1f} MB, {self.nbytes / elapsed / 1e6:,.1f} MB/s"
