"""Print the samples of a dataset, abbreviated: long strings and bytes are cut, images and arrays
are summarised (format and size; dtype, shape, min and max). --fields picks sample keys; --json
prints one JSON object per line (small numeric arrays as lists, the rest summarised as in text).

examples:
  dings cat train.msgpack -n 2 -s 40
  dings cat train.msgpack --fields key label --json | jq .label
"""

from __future__ import annotations

import argparse
import sys

from ._common import DATASET_HELP, add_quiet, input_dataset

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``dings cat``."""
    parser.add_argument("infile", help=DATASET_HELP)
    parser.add_argument(
        "-s", "--maxstring", type=int, default=100, help="longest string or bytes shown in full (default %(default)s)"
    )
    parser.add_argument("--max-items", type=int, default=20, help="most list items shown (default %(default)s)")
    parser.add_argument("--start", type=int, default=0, help="first sample (negative counts from the end)")
    parser.add_argument("-n", "--count", type=int, default=None, help="print only this many samples")
    parser.add_argument(
        "--fields", nargs="+", default=None, metavar="KEY", help="show only these sample keys, in this order"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per sample and line (JSON Lines), abbreviated the same way",
    )
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
    texts = cat(
        input_dataset(args.infile),
        args.maxstring,
        max_items=args.max_items,
        start=args.start,
        stop=stop,
        fields=args.fields,
        as_json=args.json,
    )
    for number, text in enumerate(texts):
        if number and not args.json:
            sys.stdout.write("\n")
        sys.stdout.write(text + "\n")
    sys.stdout.flush()
    return 0
