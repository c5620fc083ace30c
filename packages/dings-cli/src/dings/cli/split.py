"""Split a dataset at sample positions. Positions A and B give three files: samples 0 to A-1,
A to B-1, and B to the end. Outputs default to NAME_0.msgpack, NAME_1.msgpack, … next to the input.

example:
  dings split data.msgpack 800 -o train.msgpack val.msgpack
"""

from __future__ import annotations

import argparse

from ._common import add_no_confirm, add_quiet, input_dataset, progress_flag

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``dings split`` (datadings' flags)."""
    parser.add_argument("infile", help="the dataset to split")
    parser.add_argument("split", nargs="+", type=int, metavar="SPLIT", help="sample index where a new part starts")
    parser.add_argument("-o", "--outfiles", nargs="+", metavar="PATH", default=None, help="output files, one more than positions")
    add_no_confirm(parser)
    add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    """Split and report the files written."""
    from dings.tools import split
    from dings.tools.split import default_split_names

    from ._common import UsageError, allow_overwrite

    source = input_dataset(args.infile)
    if args.outfiles is not None and len(args.outfiles) != len(args.split) + 1:
        raise UsageError(f"{len(args.split)} split position(s) need {len(args.split) + 1} -o/--outfiles, got {len(args.outfiles)}")
    targets = args.outfiles if args.outfiles is not None else default_split_names(source, len(args.split) + 1)
    overwrite = allow_overwrite(targets, args.no_confirm)
    paths = split(source, args.split, targets, overwrite=overwrite, progress=progress_flag(args))
    if not args.quiet:
        print("wrote " + ", ".join(str(p) for p in paths))
    return 0
