"""Helpers every subcommand shares: common options, input checks, overwrite questions, JSON output."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "DATASET_HELP",
    "Declined",
    "UsageError",
    "add_json",
    "add_no_confirm",
    "add_quiet",
    "allow_overwrite",
    "at_least",
    "input_dataset",
    "print_json",
    "progress_flag",
]


class UsageError(Exception):
    """Bad command-line usage: the ``dings`` command exits with status 2."""


class Declined(Exception):
    """The user answered no to a question (e.g. replacing an output): exit status 1, no "error:"."""


def at_least(minimum: int) -> Any:
    """An argparse ``type`` for a whole number ``>= minimum`` (a smaller one is a usage error, status 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    parse.__name__ = "number"  # argparse names the type in its messages
    return parse


def add_quiet(parser: argparse.ArgumentParser) -> None:
    """Add ``-q/--quiet`` (no progress bars) and ``--progress`` (bars even without a terminal)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    group.add_argument(
        "--progress",
        action="store_true",
        help="show progress bars even when stderr is not a terminal (default: only on one)",
    )


def progress_flag(args: argparse.Namespace) -> bool | None:
    """The library ``progress`` argument for the options of :func:`add_quiet`.

    Returns:
        ``False`` with ``-q``, ``True`` with ``--progress``, else ``None``: bars only on a terminal.
    """
    if getattr(args, "quiet", False):
        return False
    return True if getattr(args, "progress", False) else None


def add_json(parser: argparse.ArgumentParser) -> None:
    """Add ``--json`` (machine-readable output on stdout)."""
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of text")


def add_no_confirm(parser: argparse.ArgumentParser) -> None:
    """Add datadings' ``-y/--no-confirm`` (replace existing outputs without asking)."""
    parser.add_argument("-y", "--no-confirm", action="store_true", help="replace existing outputs without asking")


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout."""
    json.dump(value, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


#: the help of an argument that takes a dataset spec
DATASET_HELP = (
    "the dataset: a data file NAME.msgpack, a shard pattern in quotes ('out/train-*.msgpack', "
    "'out/train-{00000..00009}.msgpack'), a folder of shards or a partitioned set, a manifest, or a URL of one"
)


def input_dataset(spec: str, argument: str = "INFILE") -> str:
    """Check that ``spec`` names an existing dataset (any spec: file, pattern, folder, manifest, URL)
    before a library call.

    Raises:
        FileNotFoundError: nothing is there; the message names the argument.
    """
    import glob

    from dings.readers import is_url
    from dings.tools import input_shards

    if not (is_url(spec) or glob.has_magic(spec) or "{" in spec or os.path.exists(spec)):
        raise FileNotFoundError(
            f"{spec}: no such file ({argument}); check the path: a data file NAME.msgpack, a shard pattern "
            "in quotes, a folder or a manifest"
        )
    try:
        input_shards(spec)
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{exc} ({argument})") from None
    return spec


def allow_overwrite(outputs: Iterable[str | os.PathLike], no_confirm: bool) -> bool:
    """Decide whether existing ``outputs`` may be replaced; ask on a terminal, never hang without one.

    Args:
        outputs: the files a command is about to write.
        no_confirm: ``-y`` was given: replace without asking.

    Returns:
        ``True`` when the outputs may be replaced (the library call then gets ``overwrite=True``).

    Raises:
        FileExistsError: an output exists, there is no terminal to ask and ``-y`` is missing.
        Declined: the user answered no (nothing is written).
    """
    from dings.tools import NonInteractiveError, query_user

    existing = [Path(p) for p in outputs if Path(p).exists() and not Path(p).is_dir()]
    if no_confirm or not existing:
        return True
    names = ", ".join(str(p) for p in existing[:3]) + (f" and {len(existing) - 3} more" if len(existing) > 3 else "")
    verb = "exists" if len(existing) == 1 else "exist"
    try:
        answer = query_user(f"{names} {verb}. Overwrite?", default=None, answers=("yes", "no"))
    except NonInteractiveError:
        raise FileExistsError(f"{existing[0]}: output exists; pass -y/--no-confirm to replace it") from None
    if answer != "yes":
        raise Declined(f"{names}: kept as {'it is' if len(existing) == 1 else 'they are'}; nothing was written")
    return True
