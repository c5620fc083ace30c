"""Convert MIT300 (``BenchmarkIMAGES.zip``) to ``MIT300.msgpack``: the ``.jpg`` images, bytes unchanged.

Run ``python -m dings.sets.MIT300_write --help`` or ``dings write MIT300 --help``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from ._gaze import is_clutter, open_zip, read_member
from .converter import Outputs, run_converter, shuffled
from .MIT300 import INFO
from .samples import ImageData

__all__ = ["convert", "is_image", "main"]

SPLIT = "MIT300"


def is_image(member: str) -> bool:
    """True for a benchmark image: a ``.jpg`` outside the ``SM`` folder and archive clutter."""
    parts = member.split("/")
    return member.endswith(".jpg") and "SM" not in parts[:-1] and not is_clutter(member) \
        and not parts[0].startswith("__")


def convert(args: argparse.Namespace, files: dict[str, Path], outputs: Outputs) -> None:
    """Write ``MIT300.msgpack`` (see the module docstring)."""
    if not outputs.wanted(SPLIT):
        return
    with open_zip(files["BenchmarkIMAGES.zip"], INFO.sources[0].url) as archive:
        images = [m for m in archive.namelist() if is_image(m)]
        if args.shuffle:
            images = shuffled(images, args.seed)
        samples = (ImageData(member, read_member(archive, member)) for member in images)
        outputs.write(SPLIT, samples, total=len(images))


def main(argv: Sequence[str] | None = None) -> Outputs:
    """Command-line entry point."""
    return run_converter(INFO, convert, argv)


if __name__ == "__main__":
    main()
