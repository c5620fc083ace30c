"""Write NUMBER samples of a dataset to a new dataset: the first ones (sequential) or a random
subset in input order (random).

example:
  dings sample train.msgpack small.msgpack 100 -s random --seed 3
"""

from __future__ import annotations

import argparse

from ._common import DATASET_HELP, add_no_confirm, add_quiet, at_least, input_dataset, progress_flag

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``dings sample`` (datadings' flags)."""
    parser.add_argument("infile", help=DATASET_HELP)
    parser.add_argument("outfile", help="the dataset to write")
    parser.add_argument("number", type=at_least(0), help="number of samples")
    parser.add_argument(
        "-s",
        "--strategy",
        choices=("sequential", "random"),
        default="sequential",
        help="which samples (default %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed for random (default 0)")
    add_no_confirm(parser)
    add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    """Sample and report the file written."""
    from dings.tools import sample

    from ._common import allow_overwrite

    source = input_dataset(args.infile)
    overwrite = allow_overwrite([args.outfile], args.no_confirm)
    path = sample(
        source, args.outfile, args.number, args.strategy, args.seed, overwrite=overwrite, progress=progress_flag(args)
    )
    if not args.quiet:
        print(f"wrote {path}")
    return 0
