"""Progress bars and a one-line status printer for every dings.tools operation.

``progress_bar`` is dings.format's (tqdm; the one progress implementation of every dings package),
re-exported here for the converters' toolbox.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from tqdm import tqdm as std_tqdm

from dings.format import progress_bar

__all__ = ["BAR_FORMAT", "ProgressPrinter", "make_printer", "progress_bar", "print_over"]


def print_over(
    *values: object,
    sep: str = " ",
    end: str = "\n",
    file: TextIO | None = None,
    flush: bool = False,
    stream: TextIO | None = None,
) -> None:
    """Print ``values`` over the current terminal line: from its start, clearing what was there.

    Takes ``print``'s keywords, with datadings' defaults: standard output, and a newline after
    the text (pass ``end=""`` to keep the cursor on the line and overwrite it with the next call).

    Args:
        values: printed like ``print`` does.
        sep: separator between values.
        end: printed after the text (and after clearing the rest of the line).
        file: where to print (standard output by default).
        flush: flush ``file`` after printing.
        stream: the same as ``file`` (an older dings name).
    """
    out = file or stream or sys.stdout
    out.write(sep.join(["\r", *map(str, values)]) + "\033[K" + end)  # the bytes datadings' print_over writes
    if flush:
        out.flush()


#: datadings' bar layout for :func:`make_printer`: description, percentage, times and rate
BAR_FORMAT = "{desc} {percentage:3.0f}% {elapsed}<{remaining}, {rate_fmt}{postfix}"


class ProgressPrinter(std_tqdm):
    """A tqdm bar that is advanced by calling it (``printer(n)`` is ``printer.update(n)``), as datadings'.

    No monitor thread is started (``monitor_interval = 0``).
    """

    monitor_interval = 0

    def __call__(self, n: float = 1) -> bool | None:
        return self.update(n)


def make_printer(
    bar_format: str = BAR_FORMAT,
    miniters: int = 0,
    mininterval: float = 0.5,
    smoothing: float = 0.1,
    **kwargs: Any,
) -> ProgressPrinter:
    """Return a :class:`ProgressPrinter` with datadings' defaults; other keywords go to tqdm.

    Args:
        bar_format: tqdm bar format (:data:`BAR_FORMAT` by default).
        miniters: minimum iterations between redraws.
        mininterval: minimum seconds between redraws.
        smoothing: rate smoothing factor (0: average over all, 1: current speed).
        kwargs: further tqdm arguments (``total``, ``desc``, ``unit``, ``disable`` …).
    """
    return ProgressPrinter(
        bar_format=bar_format, miniters=miniters, mininterval=mininterval, smoothing=smoothing, **kwargs
    )
