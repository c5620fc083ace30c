"""Draw a contact sheet (PNG) of a dataset: a grid of sample images with key and label under each.
Segmentation samples show their label_image in colour over the image (the dataset's own colours
with --dataset NAME, else a default palette); saliency samples show fixation maps and points;
numpy-array images are scaled for display.

examples:
  dings preview train.msgpack -o sheet.png -n 16
  dings preview train.msgpack -o sheet.png -n 16 --random --seed 1
"""

from __future__ import annotations

import argparse

from ._common import DATASET_HELP, add_no_confirm, add_quiet, input_dataset, progress_flag

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``dings preview``."""
    parser.add_argument("infile", help=DATASET_HELP)
    parser.add_argument("-o", "--outfile", required=True, help="the PNG to write")
    parser.add_argument(
        "-n",
        "--count",
        type=int,
        default=16,
        help="number of samples (default %(default)s): the first ones, or random ones with --random",
    )
    parser.add_argument(
        "--random",
        action="store_true",
        help="show randomly chosen samples (in dataset order) instead of the first ones",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="random seed of --random (default: a fixed one, so runs repeat)"
    )
    parser.add_argument("--keys", nargs="+", default=None, metavar="KEY", help="show these samples instead")
    parser.add_argument("--columns", type=int, default=None, help="cells per row (default: an about square grid)")
    parser.add_argument("--size", type=int, default=128, help="cell size in pixels (default %(default)s)")
    parser.add_argument("--image-key", default=None, help="the sample key that holds the image (default: found)")
    parser.add_argument(
        "--dataset", default=None, metavar="NAME", help="use this catalog dataset's label colours (index_to_color)"
    )
    add_no_confirm(parser)
    add_quiet(parser)


def _palette(name: str):
    """The ``index_to_color`` of a catalog dataset's metadata module, or ``None`` (default palette)."""
    import importlib
    import sys

    from dings.sets import UnknownDatasetError, get

    from ._common import UsageError

    try:
        info = get(name)
    except UnknownDatasetError as exc:
        raise UsageError(str(exc)) from None
    try:
        module = importlib.import_module(f"dings.sets.{info.name}")
    except ImportError:
        module = None
    function = getattr(module, "index_to_color", None)
    if function is None:
        print(
            f"dings preview: {info.name} defines no label colours (index_to_color); using the default palette",
            file=sys.stderr,
        )
    return function


def run(args: argparse.Namespace) -> int:
    """Write the contact sheet and say where."""
    from dings.tools import preview

    from ._common import UsageError, allow_overwrite

    if args.count < 1 or args.size < 1 or (args.columns is not None and args.columns < 1):
        raise UsageError("-n/--count, --size and --columns must be at least 1")
    index_to_color = _palette(args.dataset) if args.dataset else None
    source = input_dataset(args.infile)
    overwrite = allow_overwrite([args.outfile], args.no_confirm)
    path = preview(
        source,
        args.outfile,
        args.count,
        keys=args.keys,
        columns=args.columns,
        cell_size=args.size,
        index_to_color=index_to_color,
        image_key=args.image_key,
        random=args.random,
        seed=args.seed,
        overwrite=overwrite,
        progress=progress_flag(args),
    )
    if not args.quiet:
        print(f"wrote {path}")
    return 0
