"""Progress bars and a one-line status printer for every dings.tools operation.

``progress_bar`` is dings.format's (tqdm; the one progress implementation of every dings package),
re-exported here for the converters' toolbox.
"""

from __future__ import annotations

import sys
from typing import TextIO

from dings.format.progress import progress_bar

__all__ = ["progress_bar", "print_over"]


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
