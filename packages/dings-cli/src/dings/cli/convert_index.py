"""Give a legacy dataset (with only NAME.msgpack.index) the new index files, per-sample checksums
and an md5 file. In place by default; with -o the data file is copied (or hard-linked with --link)
to another folder. A dataset that has index files but no per-sample checksums (NAME.msgpack.crc32)
gets them.

examples:
  dings convert-index old/train.msgpack -o new/
  dings convert-index 'old/train-*.msgpack'          every shard of a set
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import add_no_confirm, add_quiet, input_dataset, progress_flag

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``dings convert-index`` (datadings' flags)."""
    parser.add_argument(
        "infile",
        help="the data file (NAME.msgpack) or its .index file; or a set (a shard pattern in quotes, a folder, "
        "a manifest): each shard is converted",
    )
    parser.add_argument(
        "-o", "--outdir", metavar="PATH", default=None, help="output folder (default: the input's folder)"
    )
    parser.add_argument("--link", action="store_true", help="hard-link the data file into PATH instead of copying it")
    add_no_confirm(parser)
    add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    """Convert every shard of the dataset and report each dataset written."""
    from dings.readers import is_url
    from dings.tools import input_shards

    from ._common import UsageError

    shards = input_shards(input_dataset(args.infile))
    if any(is_url(shard) for shard in shards):
        raise UsageError(f"{args.infile}: convert-index writes next to the data; stage a URL first (dings stage)")
    for shard in shards:
        path = _convert_one(shard, args)
        if not args.quiet:
            print(f"converted {path}")
    return 0


def _convert_one(shard: str, args: argparse.Namespace) -> Path:
    """Ask before replacing the outputs of one data file, then convert it."""
    from dings.format import data_path, index_path
    from dings.tools import convert_index

    from ._common import allow_overwrite

    source = data_path(shard)
    folder = source.parent if args.outdir is None else Path(args.outdir)
    outputs = [
        index_path(folder / source.name, s) for s in (".offsets", ".keys", ".key_hashes", ".filter", ".crc32", ".md5")
    ]
    if folder.resolve() != source.parent.resolve():
        outputs.append(folder / source.name)
    if index_path(source, ".index").is_file():
        overwrite = allow_overwrite(outputs, args.no_confirm)
    elif args.outdir is None and index_path(source, ".offsets").is_file():  # adds the checksums only
        overwrite = allow_overwrite([index_path(source, ".crc32")], args.no_confirm)
    else:  # the library's own error (nothing to convert) is the one to show
        overwrite = False
    return convert_index(source, args.outdir, link=args.link, overwrite=overwrite, progress=progress_flag(args))
