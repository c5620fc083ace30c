"""Print the samples of a dataset, abbreviated: long strings and bytes are cut, images and arrays
are summarised (format and size; dtype, shape, min and max).

example:
  dings cat train.msgpack -n 2 -s 40
"""

from __future__ import annotations

import argparse
import sys

from ._common import add_quiet, input_dataset

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``dings cat``."""
    parser.add_argument("infile", help="the dataset (NAME.msgpack)")
    parser.add_argument("-s", "--maxstring", type=int, default=100, help="longest string or bytes shown in full (default %(default)s)")
    parser.add_argument("--max-items", type=int, default=20, help="most list items shown (default %(default)s)")
    parser.add_argument("--start", type=int, default=0, help="first sample (negative counts from the end)")
    parser.add_argument("-n", "--count", type=int, default=None, help="print only this many samples")
    add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    """Print every selected sample, separated by blank lines."""
    from dings.tools import cat

    from ._common import UsageError

    if args.count is not None and args.count < 0:
        raise UsageError(f"-n/--count must not be negative, got {args.count}")
    stop = None if args.count is None else args.start + args.count
    if args.start < 0 and stop is not None and stop >= 0:
        stop = None
    for number, text in enumerate(cat(input_dataset(args.infile), args.maxstring, max_items=args.max_items, start=args.start, stop=stop)):
        if number:
            sys.stdout.write("\n")
        sys.stdout.write(text + "\n")
    sys.stdout.flush()
    return 0
