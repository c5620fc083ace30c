"""Merge datasets into one. Strategies: concat writes the inputs one after another; random picks
the input of each next sample at random, in proportion to the samples it has left. Keys must be
unique across inputs (or use --prefix-keys).

example:
  dings merge part1.msgpack part2.msgpack all.msgpack -s random --shuffle
"""

from __future__ import annotations

import argparse

from ._common import add_no_confirm, add_quiet, input_dataset, progress_flag

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``dings merge`` (datadings' flags)."""
    parser.add_argument(
        "infiles",
        nargs="+",
        metavar="INFILE",
        help="the datasets to merge, each a data file, a shard pattern in quotes, a folder or a manifest",
    )
    parser.add_argument("outfile", help="the dataset to write")
    parser.add_argument(
        "-s",
        "--strategy",
        choices=("concat", "random"),
        default="concat",
        help="merging strategy (default %(default)s)",
    )
    parser.add_argument("--shuffle", action="store_true", help="shuffle each input before merging")
    parser.add_argument("--seed", type=int, default=None, help="random seed for random and --shuffle (default 0)")
    parser.add_argument("--prefix-keys", action="store_true", help="prefix every key with its input's name and /")
    add_no_confirm(parser)
    add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    """Merge and report the file written."""
    from dings.tools import merge

    from ._common import allow_overwrite

    inputs = [input_dataset(p) for p in args.infiles]
    overwrite = allow_overwrite([args.outfile], args.no_confirm)
    path = merge(
        inputs,
        args.outfile,
        args.strategy,
        args.shuffle,
        args.seed,
        prefix_keys=args.prefix_keys,
        overwrite=overwrite,
        progress=progress_flag(args),
    )
    if not args.quiet:
        print(f"wrote {path}")
    return 0
