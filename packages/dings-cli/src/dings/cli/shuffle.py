"""Write a dataset's samples in a random order, without decoding them. By default a fast chunked
shuffle (mostly sequential reads, bounded memory); --true-shuffle for a uniformly random order.

example:
  dings shuffle train.msgpack train_shuffled.msgpack --seed 1
"""

from __future__ import annotations

import argparse

from ._common import DATASET_HELP, add_no_confirm, add_quiet, input_dataset, progress_flag

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``dings shuffle`` (datadings' flags)."""
    parser.add_argument("infile", help=DATASET_HELP)
    parser.add_argument("outfile", help="the dataset to write")
    add_no_confirm(parser)
    parser.add_argument(
        "--true-shuffle", action="store_true", help="uniformly random order (random access: slower on disks that seek)"
    )
    parser.add_argument(
        "--buf-size",
        type=float,
        default=0.01,
        help="buffer of the fast shuffle in samples; below 1 a fraction of the dataset (default %(default)s)",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=16,
        help="consecutive samples the fast shuffle reads together (default %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: a fixed one, so runs repeat)")
    add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    """Shuffle and report the file written."""
    from dings.tools import shuffle

    from ._common import allow_overwrite

    overwrite = allow_overwrite([args.outfile], args.no_confirm)
    path = shuffle(
        input_dataset(args.infile),
        args.outfile,
        args.true_shuffle,
        args.buf_size,
        args.chunk_size,
        args.seed,
        overwrite=overwrite,
        progress=progress_flag(args),
    )
    if not args.quiet:
        print(f"wrote {path}")
    return 0
