"""Progress bars (tqdm) and a one-line status printer shared by every dings.tools operation."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TextIO, TypeVar

from tqdm.auto import tqdm

__all__ = ["progress_bar", "print_over"]

T = TypeVar("T")


def progress_bar(
    iterable: Iterable[T] | None = None,
    *,
    total: float | None = None,
    desc: str | None = None,
    unit: str = "it",
    enabled: bool = True,
    **tqdm_kwargs: Any,
) -> tqdm:
    """Return a tqdm progress bar that prints nothing when ``enabled`` is false.

    Args:
        iterable: iterable to wrap (or ``None`` and call ``update`` yourself).
        total: expected number of items or bytes.
        desc: label in front of the bar (usually a file name).
        unit: what is counted; ``"B"`` shows bytes with binary prefixes and a rate.
        enabled: show the bar; library functions pass their ``progress`` flag here.
        tqdm_kwargs: passed on to tqdm.
    """
    if unit == "B":
        tqdm_kwargs.setdefault("unit_scale", True)
        tqdm_kwargs.setdefault("unit_divisor", 1024)
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        disable=not enabled,
        dynamic_ncols=True,
        **tqdm_kwargs,
    )


def print_over(*values: object, stream: TextIO | None = None, sep: str = " ") -> None:
    """Print ``values`` on the current terminal line, overwriting what was there (no newline).

    Args:
        values: printed like ``print`` does.
        stream: where to print (stderr by default).
        sep: separator between values.
    """
    stream = stream or sys.stderr
    stream.write("\r\033[K" + sep.join(str(v) for v in values))
    stream.flush()
