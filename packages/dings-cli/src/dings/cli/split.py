"""Split a dataset at split points. Points A and B give three files: samples 0 to A-1, A to B-1,
and B to the end. A point is a sample index (800), a fraction of the dataset (0.8) or a
percentage (80%), rounded to the nearest sample: 0.8 splits 80/20, 0.8 0.9 splits 80/10/10.
Outputs default to NAME_0.msgpack, NAME_1.msgpack, … next to the input.

examples:
  dings split data.msgpack 800 -o train.msgpack val.msgpack
  dings split data.msgpack 80% -o train.msgpack val.msgpack
"""

from __future__ import annotations

import argparse

from ._common import DATASET_HELP, add_no_confirm, add_quiet, input_dataset, progress_flag

__all__ = ["add_arguments", "run"]


def _point(text: str) -> int | float | str:
    """A split point as typed: an int, a float, or the percentage string (checked against the length later)."""
    text = text.strip()
    if text.endswith("%"):
        try:
            float(text[:-1])
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a sample index, fraction or percentage, got {text!r}") from None
        return text
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a sample index, fraction or percentage, got {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``dings split`` (datadings' flags)."""
    parser.add_argument("infile", help=DATASET_HELP)
    parser.add_argument(
        "split",
        nargs="+",
        type=_point,
        metavar="SPLIT",
        help="where a new part starts: sample index, fraction (0.8) or percentage (80%%)",
    )
    parser.add_argument(
        "-o", "--outfiles", nargs="+", metavar="PATH", default=None, help="output files, one more than positions"
    )
    add_no_confirm(parser)
    add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    """Split and report the files written."""
    from dings.tools import default_split_names, split

    from ._common import UsageError, allow_overwrite

    source = input_dataset(args.infile)
    if args.outfiles is not None and len(args.outfiles) != len(args.split) + 1:
        raise UsageError(
            f"{len(args.split)} split position(s) need {len(args.split) + 1} -o/--outfiles, got {len(args.outfiles)}"
        )
    targets = args.outfiles if args.outfiles is not None else default_split_names(source, len(args.split) + 1)
    overwrite = allow_overwrite(targets, args.no_confirm)
    paths = split(source, args.split, targets, overwrite=overwrite, progress=progress_flag(args))
    if not args.quiet:
        print("wrote " + ", ".join(str(p) for p in paths))
    return 0
