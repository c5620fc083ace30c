"""Convert a public dataset with its converter. Without DATASET, list the datasets that can be
written, grouped by domain. Everything after DATASET goes to the converter: run
`dings write DATASET -h` for its own options (input folder, -o/--outdir, -y, --shuffle, …).

examples:
  dings write
  dings write CIFAR10 /data/CIFAR10 -o /data/out
"""

from __future__ import annotations

import argparse

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``dings write`` (the rest goes to the converter)."""
    parser.add_argument("dataset", nargs="?", default=None, help="dataset name or alias (omit to list them)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars (passed on to the converter)")
    parser.add_argument(
        "args", nargs=argparse.REMAINDER, help="arguments of the dataset's converter (see dings write DATASET -h)"
    )


def run(args: argparse.Namespace) -> int:
    """List the datasets, or run one converter and report what it wrote."""
    from dings.sets import UnknownDatasetError, command_line, get, list_datasets

    from ._common import UsageError
    from .sets import format_listing

    if args.dataset is None:
        print("datasets (dings write DATASET -h shows a converter's options):\n")
        print(format_listing(list_datasets()))
        return 0
    try:
        info = get(args.dataset)
    except UnknownDatasetError as exc:
        raise UsageError(str(exc)) from None
    if info.converter is None:
        raise RuntimeError(
            f"{info.name}: has no converter yet; `dings sets --show {info.name}` shows what the catalog knows"
        )
    try:
        outputs = command_line(info.name, [*args.args, *(["-q"] if args.quiet and "-q" not in args.args else [])])
    except ImportError as exc:
        extra = f'pip install "dings-sets[{info.extra}]"' if info.extra else "install its dependencies"
        raise RuntimeError(
            f"{info.name}: the converter needs {exc.name or 'a module'}, which is not installed: {extra}"
        ) from None
    written = getattr(outputs, "written", None)
    if written is not None:
        for path in written:
            print(f"wrote {path}")
        for path in getattr(outputs, "skipped", []):
            print(f"kept  {path} (not replaced)")
    return 0
