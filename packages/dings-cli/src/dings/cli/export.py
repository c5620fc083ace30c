"""Export a dataset so that other tools read it: WebDataset tar shards, a Parquet file (pyarrow, pandas,
Hugging Face datasets) or an ImageFolder tree of image files. `dings import` reads each back to the
same samples, keys, labels and label names.

examples:
  dings export train.msgpack train.tar --to webdataset --shard-size 10000   train-000000.tar …
  dings export train.msgpack train.parquet --to parquet
  dings export train.msgpack train_images/ --to folder                      class/key.jpg, labels.json
"""

from __future__ import annotations

import argparse

from ._common import DATASET_HELP, add_no_confirm, add_quiet, input_dataset, progress_flag

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``dings export``."""
    parser.add_argument("dataset", help=DATASET_HELP)
    parser.add_argument("output", help="a .tar file (webdataset), a .parquet file, or a folder")
    parser.add_argument("--to", required=True, choices=("webdataset", "parquet", "folder"), help="the format to write")
    parser.add_argument(
        "--shard-size",
        type=int,
        default=None,
        metavar="N",
        help="webdataset: N samples per tar shard (NAME-000000.tar …)",
    )
    add_no_confirm(parser)
    add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    """Export and say what was written."""
    from pathlib import Path

    from dings.format import check_output_not_input
    from dings.tools import export, input_paths

    from ._common import UsageError, allow_overwrite

    options = {}
    if args.shard_size is not None:
        if args.to != "webdataset":
            raise UsageError("--shard-size is for --to webdataset only")
        if args.shard_size < 1:
            raise UsageError("--shard-size must be at least 1")
        options["shard_size"] = args.shard_size
    output = Path(args.output)
    if not args.shard_size:  # before asking to replace it (the library checks shards, also with -y)
        check_output_not_input([output], input_paths(input_dataset(args.dataset, "DATASET")))
    if args.to == "folder":
        if output.exists() and not output.is_dir():
            raise UsageError(f"{output}: is a file; --to folder writes a folder")
        overwrite = args.no_confirm
        if output.is_dir() and not overwrite:
            raise FileExistsError(f"{output}: folder exists; pass -y/--no-confirm to replace it")
    else:
        first = output.with_name(output.name.removesuffix(".tar") + "-000000.tar") if args.shard_size else output
        overwrite = allow_overwrite([first], args.no_confirm)
    written = export(
        input_dataset(args.dataset, "DATASET"),
        output,
        args.to,
        overwrite=overwrite,
        progress=progress_flag(args),
        **options,
    )
    if not args.quiet:
        shown = str(written[0]) if len(written) == 1 else f"{len(written)} files {written[0]} … {written[-1]}"
        print(f"exported {args.dataset} → {shown}")
    return 0
