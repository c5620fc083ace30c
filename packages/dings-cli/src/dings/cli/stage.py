"""Copy datasets (data, index, md5, checksum and label-name files) to a local folder, e.g. a node's SSD: each file is
verified by its md5 sum, files already there and intact are skipped, and an interrupted stage never
looks complete. SOURCE is a dataset, a folder of datasets (shards) or a glob pattern in quotes.

example:
  dings stage '/shared/imagenet/train-*.msgpack' /scratch/imagenet
"""

from __future__ import annotations

import argparse

from ._common import add_json, add_quiet, progress_flag

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``dings stage``."""
    parser.add_argument("source", help="dataset, folder of datasets, or glob pattern")
    parser.add_argument("local_dir", help="destination folder (created if needed)")
    add_json(parser)
    add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    """Stage and report what was copied and skipped."""
    from dings.tools import stage

    from ._common import print_json

    result = stage(args.source, args.local_dir, progress=progress_flag(args))
    if args.json:
        print_json(result.to_dict())
    else:
        print(result)
    return 0
