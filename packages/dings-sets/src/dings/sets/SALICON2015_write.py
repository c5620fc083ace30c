"""Convert SALICON2015 (``image.zip`` + the 2015 ``fixations.zip``) to ``train``, ``val`` and ``test.msgpack``.

Run ``python -m dings.sets.SALICON2015_write --help`` or ``dings write SALICON2015 --help``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from ._salicon import convert_salicon
from .converter import Outputs, run_converter
from .SALICON2015 import INFO

__all__ = ["convert", "main"]


def convert(args: argparse.Namespace, files: dict[str, Path], outputs: Outputs) -> None:
    """Write every split of SALICON2015 (see :func:`dings.sets._salicon.convert_salicon`)."""
    convert_salicon(INFO, args, files, outputs)


def main(argv: Sequence[str] | None = None) -> Outputs:
    """Command-line entry point."""
    return run_converter(INFO, convert, argv)


if __name__ == "__main__":
    main()
