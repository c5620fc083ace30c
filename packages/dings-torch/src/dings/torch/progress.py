"""A one-line progress display for the few long operations of dings.torch (nothing when disabled).

dings.torch depends only on dings-readers, torch and Pillow, so it neither uses dings.tools' tqdm bars
nor imports dings.format directly; this prints ``desc: done/total unit`` to stderr at most twice a second.
"""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


class Progress:
    """Count work done and show it on one line of stderr when ``enabled``.

    Args:
        desc: what is being done.
        total: the amount expected, if known.
        enabled: show the line.
        unit: name of the unit counted (``"samples"``, ``"MB"``, …).
        scale: divide counts by this for display (e.g. ``1e6`` for bytes shown as MB).
    """

    def __init__(self, desc: str, total: float | None = None, enabled: bool = False, unit: str = "samples", scale: float = 1.0) -> None:
        self.desc, self.total, self.enabled, self.unit, self.scale = desc, total, enabled, unit, scale
        self.done = 0.0
        self._last = 0.0

    def update(self, amount: float) -> None:
        """Add ``amount``; refresh the line if half a second has passed."""
        self.done += amount
        if self.enabled and time.monotonic() - self._last >= 0.5:
            self._show()

    def _show(self) -> None:
        self._last = time.monotonic()
        total = f"/{self.total / self.scale:,.0f}" if self.total else ""
        sys.stderr.write(f"\r{self.desc}: {self.done / self.scale:,.0f}{total} {self.unit}")
        sys.stderr.flush()

    def close(self) -> None:
        """Show the final count and end the line."""
        if self.enabled:
            self._show()
            sys.stderr.write("\n")
            sys.stderr.flush()
