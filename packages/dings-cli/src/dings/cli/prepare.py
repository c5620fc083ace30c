"""Download and verify a dataset's source files into DATA_DIR/NAME, then print a JSON document
with the file paths and the dataset's facts (for scripts: jq '.files'). Files that cannot be
downloaded automatically must be placed there by hand; the error says where to get them.
`dings write NAME` reads the same folder by default, so prepare, then write:

  dings prepare CIFAR10 && dings write CIFAR10 -o /data/out

example:
  dings prepare CIFAR10 --data-dir /data
"""

from __future__ import annotations

import argparse

from ._common import add_quiet, progress_flag

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``dings prepare``."""
    parser.add_argument("dataset", help="dataset name or alias (see dings sets)")
    parser.add_argument(
        "--data-dir", default=None, help="data directory (default: $DINGS_DATA or ~/.local/share/dings)"
    )
    parser.add_argument("--files", nargs="+", default=None, help="only these source files")
    parser.add_argument("--skip-verification", action="store_true", help="do not check md5 sums")
    add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    """Prepare and print the JSON document."""
    from dings.sets import UnknownDatasetError, get, prepare

    from ._common import UsageError, print_json

    try:
        info = get(args.dataset)
        if args.files is not None:
            for name in args.files:
                info.source(name)
    except (UnknownDatasetError, KeyError) as exc:
        raise UsageError(str(exc).strip("'\"")) from None
    result = prepare(
        info.name,
        args.data_dir,
        files=args.files,
        skip_verification=args.skip_verification,
        progress=progress_flag(args),
    )
    print_json(result)
    return 0
