"""Check datasets: the md5 sum of every file and the consistency of the index files; with --deep
also decode every sample and the images in it. A set of shards is checked shard by shard, then as
a whole: its manifest (the shards' names, sample counts, sizes and md5 sums) and its label names.
Exit status 1 when any dataset is damaged.

examples:
  dings verify train.msgpack test.msgpack --deep
  dings verify 'out/train-*.msgpack'          every shard (quote the pattern)
  dings verify out/train/                     a partitioned set: every shard and its manifest
  dings verify https://host/sets/train        over a URL (a file, or a set through its manifest)
"""

from __future__ import annotations

import argparse

from ._common import add_json, add_quiet, progress_flag

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``dings verify``."""
    parser.add_argument(
        "infiles",
        nargs="+",
        metavar="DATASET",
        help="datasets to check: a file, a shard pattern in quotes, a folder, a manifest or a URL of one (each shard is checked)",
    )
    parser.add_argument(
        "--deep",
        action="store_true",
        help="also decode every sample, compare its key with the index and decode its images",
    )
    add_json(parser)
    add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    """Print one verdict per dataset (or a JSON list of reports); 1 if any check failed."""
    from dings.tools import verify_dataset

    from ._common import print_json

    reports = [
        report for spec in args.infiles for report in verify_dataset(spec, deep=args.deep, progress=progress_flag(args))
    ]
    if args.json:
        print_json([report.to_dict() for report in reports])
    else:
        for report in reports:
            checks = ", ".join(report.checked) or "nothing"
            if report.ok:
                samples = "" if report.length is None else f"{report.length:,} samples; "
                print(f"{report.path}: OK ({samples}checked {checks})")
            else:
                print(f"{report.path}: FAILED ({len(report.problems)} problem(s))")
                for problem in report.problems:
                    print(f"  - {problem}")
            for note in report.notes:
                print(f"  note: {note}")
    return 0 if all(report.ok for report in reports) else 1
