"""Import your own data as a dataset: an ImageFolder tree or flat folder of images, a CSV/TSV/JSON-lines
list of files, a Parquet/Arrow/Feather table, WebDataset tar shards, or a Hugging Face dataset
(save_to_disk folder, or a name in the local cache). Samples get the converters' layout: key, image
(the encoded bytes), label (int), other fields as they are; label names go to NAME.msgpack.labels.json.

Only regular files are read (a FIFO or device such as /dev/zero in a list or folder is refused); a
list or table from someone else is safe to import with --root, which no path may leave. Tar members
over --max-member-size and brace patterns of more than 1,000,000 names are refused.

examples:
  dings import photos/ photos.msgpack                      class folders photos/cat/1.jpg … → labels
  dings import train.csv train.msgpack --root images/      path,label[,more columns] rows
  dings import 'shards/train-{000000..000099}.tar' train.msgpack --shard-size 100000
  dings import data.parquet data.msgpack --shuffle --seed 1
  dings import photos/ photos.msgpack -t 4 --recompress 90 --max-size 512
  dings import hf_saved/ train.msgpack --split train
  dings import 'old/train-*.msgpack' train.msgpack --shard-size 50000   a dings dataset, resharded
  dings import photos/ out/photos --engine ray --partition-size 10000 --shard-size 5000
  dings import photos/ s3://bucket/photos --engine ray --address ray://head:10001
  torchrun --nproc-per-node 4 -m dings import photos/ out/photos --engine ranks

With --engine the source is cut into partitions (--partition-size files or rows; one tar file of
WebDataset shards), written by many tasks at once as shards NAME-<partition>-<shard>.msgpack, and
committed whole with a manifest NAME.manifest.json; running the same command again after an
interruption skips the partitions already written and verified. --engine ray runs on Ray Data
(pip install "dings-tools[ray]"); --engine ranks runs as one of WORLD_SIZE processes (RANK,
WORLD_SIZE as torchrun or SLURM set them): every rank writes its partitions, rank 0 commits.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._common import add_no_confirm, add_quiet, at_least

if TYPE_CHECKING:
    from collections.abc import Sequence

    from dings.tools import SourceKind, SourceOption

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``dings import``: the common ones, then those of every registered source kind."""
    from dings.tools import ENGINES, source_kinds

    parser.add_argument(
        "source",
        help="folder, list file, table, tar shard (pattern or URL), Hugging Face dataset, or a dings dataset "
        "(a data file, a shard pattern in quotes, a folder of shards or a partitioned set, a manifest)",
    )
    parser.add_argument("output", help="the dataset to write (NAME.msgpack; with --shard-size NAME-00000.msgpack …)")
    parser.add_argument(
        "--from",
        dest="kind",
        choices=[kind.name for kind in source_kinds()],
        default=None,
        help="the kind of source (default: detected)",
    )
    parser.add_argument(
        "--labels", default=None, metavar="FILE", help="the class list, one name a line (default: from the source)"
    )
    parser.add_argument("--shuffle", action="store_true", help="write the samples in a random order")
    parser.add_argument("--seed", type=int, default=None, help="seed of --shuffle (default 0)")
    parser.add_argument(
        "-t",
        "--threads",
        type=int,
        default=0,
        help="threads reading files (default 0: all CPUs); the output is the same for any count",
    )
    parser.add_argument(
        "--shard-size", type=int, default=None, metavar="N", help="write shards of N samples (NAME-00000.msgpack …)"
    )
    parser.add_argument(
        "--recompress",
        type=int,
        default=None,
        metavar="QUALITY",
        help="re-encode images as JPEG of this quality (default: keep the bytes)",
    )
    parser.add_argument(
        "--max-size",
        type=int,
        default=None,
        metavar="PIXELS",
        help="with --recompress: shrink images to at most this size a side",
    )
    parser.add_argument(
        "--check",
        choices=("decode", "header", "none"),
        default="decode",
        help="how far images are checked: decode each in full, in the -t threads (default; refuses a "
        "truncated file), only its header (a JPEG/PNG/GIF/BMP/TIFF/WebP signature), or not at all",
    )
    _add_source_options(parser, source_kinds())
    parser.add_argument("--no-image-check", action="store_true", help="the same as --check none")
    group = parser.add_argument_group("writing in partitions (many processes or machines)")
    group.add_argument(
        "--engine",
        choices=ENGINES,
        default=None,
        help="write partitions in this process (local), as RANK of WORLD_SIZE (ranks) or on Ray Data (ray); default: no partitions",
    )
    group.add_argument(
        "--address",
        default=None,
        help="--engine ray: the Ray cluster (default: RAY_ADDRESS, else a new local instance)",
    )
    group.add_argument(
        "--partition-size",
        type=at_least(1),
        default=10_000,
        metavar="N",
        help="--engine: files or rows per partition (default %(default)s)",
    )
    group.add_argument(
        "--timeout",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="--engine ranks: how long rank 0 waits for the other ranks (default %(default)s)",
    )
    group.add_argument(
        "--no-resume", action="store_true", help="--engine: rewrite partitions that an earlier, interrupted run left"
    )
    add_no_confirm(parser)
    add_quiet(parser)


def _add_source_options(parser: argparse.ArgumentParser, kinds: Sequence[SourceKind]) -> None:
    """Add each option of the source kinds once, its help prefixed with the kinds that take it."""
    options: dict[str, SourceOption] = {}
    takers: dict[str, list[str]] = {}
    for kind in kinds:
        for option in kind.options:
            known = options.setdefault(option.flag, option)
            if known != option:
                raise ValueError(f"source kind {kind.name!r} declares {option.flag} unlike {takers[option.flag][0]!r}")
            takers.setdefault(option.flag, []).append(kind.name)
    group = parser.add_argument_group("options of the source kinds (each help starts with the kinds that take it)")
    for flag, option in options.items():
        extra: dict[str, Any] = {"action": "append", "default": []} if option.repeat else {"default": option.default}
        if option.type is not None:
            extra["type"] = _argument_type(option.type)
        group.add_argument(
            flag,
            dest=option.dest,
            choices=option.choices,
            metavar=option.metavar,
            help=f"{', '.join(takers[flag])}: {option.help}",
            **extra,
        )


def _argument_type(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    """``convert`` as an argparse type: its ValueError becomes the usage error's message."""

    def typed(text: str) -> Any:
        try:
            return convert(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    typed.__name__ = getattr(convert, "__name__", "value")
    return typed


def _source_options(kind: str, args: argparse.Namespace) -> dict:
    """The options of the source kind ``kind`` from the command line (unset ones are left out);
    refuse an option of other kinds that was given."""
    from dings.tools import get_source_kind, source_kinds

    from ._common import UsageError

    taken = get_source_kind(kind).options
    for other in source_kinds():
        for option in other.options:
            if option not in taken and getattr(args, option.dest, None) not in (None, [], option.default):
                raise UsageError(f"{option.flag} is not an option of a {kind} source; leave it out or pass --from")
    values = {option.keyword: getattr(args, option.dest) for option in taken}
    return {keyword: value for keyword, value in values.items() if value not in (None, [])}


def run(args: argparse.Namespace) -> int:
    """Import and say what was written."""
    from pathlib import Path

    from dings.format import shard_pattern
    from dings.tools import detect_source, import_source

    from ._common import UsageError, allow_overwrite

    if args.threads < 0 or (args.shard_size is not None and args.shard_size < 1):
        raise UsageError("-t/--threads must be >= 0 and --shard-size >= 1")
    if args.recompress is not None and not 1 <= args.recompress <= 100:
        raise UsageError("--recompress takes a JPEG quality from 1 to 100")
    kind = args.kind or detect_source(args.source)
    if args.engine is not None:
        return _run_partitioned(args, kind)
    if args.address is not None:
        raise UsageError("--address needs --engine ray")
    first = Path(shard_pattern(args.output).format(0, index=0)) if args.shard_size else Path(args.output)
    overwrite = allow_overwrite([first], args.no_confirm)
    result = import_source(
        args.source, args.output, kind, threads=args.threads, overwrite=overwrite, **_common_options(kind, args)
    )
    if not args.quiet:
        print(f"imported {kind} {args.source}: {result}")
    return 0


def _common_options(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """The options of an import with or without an engine."""
    return {
        "labels": args.labels,
        "shuffle": args.shuffle,
        "seed": args.seed,
        "shard_size": args.shard_size,
        "recompress": args.recompress,
        "max_size": args.max_size,
        "check_images": "none" if args.no_image_check else args.check,
        "progress": False if args.quiet else (True if args.progress else None),  # _common.progress_flag
        **_source_options(kind, args),
    }


def _run_partitioned(args: argparse.Namespace, kind: str) -> int:
    """``dings import --engine …``: one library call, then say what was written."""
    from dings.format import PartitionedOutput
    from dings.readers import is_url
    from dings.tools import import_partitioned

    from ._common import UsageError, allow_overwrite

    if args.address is not None and args.engine != "ray":
        raise UsageError("--address needs --engine ray")
    overwrite = args.no_confirm
    if not is_url(args.output):
        overwrite = allow_overwrite(PartitionedOutput(args.output).existing()[:1], args.no_confirm)
    result = import_partitioned(
        args.source,
        args.output,
        kind,
        engine=args.engine,
        partition_size=args.partition_size,
        overwrite=overwrite,
        resume=not args.no_resume,
        address=args.address,
        timeout=args.timeout,
        **_common_options(kind, args),
    )
    if not args.quiet:
        if result.paths:
            print(f"imported {kind} {args.source} with --engine {args.engine}: {result}")
        else:
            print(
                f"imported {kind} {args.source} with --engine {args.engine}: {result.samples:,} samples written by this rank; rank 0 commits"
            )
    return 0
