"""Describe a dataset: number of samples, files and their sizes, index files, and for every sample
key its types, dtypes, shapes, image formats and lengths (plus label counts). Fast: it reads only
the first --samples samples; --md5 (or `dings verify`) hashes every file.

example:
  dings info train.msgpack --samples all
"""

from __future__ import annotations

import argparse

from ._common import DATASET_HELP, add_json, add_quiet, input_dataset, progress_flag

__all__ = ["add_arguments", "run"]


def _samples(text: str) -> int | str:
    if text == "all":
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of samples or 'all', got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``dings info``."""
    parser.add_argument("infile", help=DATASET_HELP)
    parser.add_argument(
        "--samples", type=_samples, default=1000, metavar="N|all", help="samples to summarise (default %(default)s)"
    )
    parser.add_argument(
        "--md5",
        action="store_true",
        help="also hash every file and compare with the md5 file (reads the whole dataset, as verify does)",
    )
    add_json(parser)
    add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    """Print the description (text or JSON)."""
    from dings.tools import info

    from ._common import print_json

    result = info(input_dataset(args.infile), args.samples, check_md5=args.md5, progress=progress_flag(args))
    if args.json:
        print_json(result.to_dict())
    else:
        print(result)
    return 0
