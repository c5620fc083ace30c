"""Read a dataset once and report samples/s and MB/s. INFILE is a msgpack dataset, a directory
(every file below it is a sample) or a DirectoryReader pattern such as 'images/{LABEL}/*.jpg'.

example:
  dings bench train.msgpack --raw --shuffle
"""

from __future__ import annotations

import argparse

from ._common import DATASET_HELP, add_json, add_quiet, at_least, progress_flag

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``dings bench`` (datadings' flags)."""
    parser.add_argument("infile", help=DATASET_HELP + "; or a directory or DirectoryReader pattern")
    parser.add_argument("-r", "--raw", action="store_true", help="do not decode samples (as when workers decode)")
    parser.add_argument("-s", "--shuffle", action="store_true", help="read in a random order")
    parser.add_argument("-n", "--limit", type=at_least(0), default=None, help="read at most this many samples")
    parser.add_argument("--seed", type=int, default=None, help="seed of the random order")
    parser.add_argument("--separator", default="\t", help="DirectoryReader only: column separator of file lists")
    parser.add_argument("--root-dir", default="", help="DirectoryReader only: prefix of relative paths in file lists")
    parser.add_argument("--include", nargs="+", default=(), help="DirectoryReader only: patterns a file must match")
    parser.add_argument("--exclude", nargs="+", default=(), help="DirectoryReader only: patterns that skip a file")
    add_json(parser)
    add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    """Benchmark and print the result line (or JSON)."""
    from dings.tools import bench

    from ._common import print_json

    result = bench(
        args.infile,
        args.raw,
        args.shuffle,
        limit=args.limit,
        seed=args.seed,
        separator=args.separator,
        root_dir=args.root_dir,
        include=args.include,
        exclude=args.exclude,
        progress=progress_flag(args),
    )
    if args.json:
        print_json(result.to_dict())
    else:
        print(result)
    return 0
