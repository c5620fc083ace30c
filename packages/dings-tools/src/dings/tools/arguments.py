"""Argument parsers for converters and tools, with datadings' option names and meanings.

Each ``argument_<name>(parser, *flags, **overrides)`` adds one argument and returns its
``argparse.Action``. Every default can be changed: ``flags`` replace the option strings (or the
positional name) and ``overrides`` replace or add keyword arguments of ``add_argument``, e.g.
``argument_outdir(parser, help="Where to write the shards.")`` or
``argument_shuffle(parser, "--order-random", default="no")``.

Parsed values: ``indir`` defaults to ``"."``; ``outdir``/``outfile`` to ``None`` (the converter
decides, usually ``outdir or indir``); ``--shuffle yes|no`` becomes a bool; ``--threads N`` becomes a
concrete count (0 = all CPUs this process may use).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from .parallel import available_cpus, resolve_workers

__all__ = [
    "MinMaxAction",
    "YesNoAction",
    "argument_calculate_weights",
    "argument_indir",
    "argument_infile",
    "argument_no_confirm",
    "argument_outdir",
    "argument_outfile",
    "argument_outfile_positional",
    "argument_outfiles",
    "argument_shuffle",
    "argument_skip_verification",
    "argument_threads",
    "make_parser",
    "make_parser_simple",
]


class MinMaxAction(argparse.Action):
    """Store a number clamped to ``min_value … max_value`` (datadings' action); 0 or nothing means ``max_value``.

    Subclass it to set the bounds::

        class OneToSeven(MinMaxAction):
            min_value = 1
            max_value = 7

        parser.add_argument("--level", type=int, action=OneToSeven)
    """

    min_value: float | None = None
    max_value: float | None = None

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        value = values or self.max_value
        if value is not None and self.min_value is not None:
            value = max(self.min_value, value)
        if value is not None and self.max_value is not None:
            value = min(self.max_value, value)
        setattr(namespace, self.dest, value)


class YesNoAction(argparse.Action):
    """Store ``True`` when the given word is the first of ``choices`` (``"yes"``), else ``False``."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        yes = next(iter(self.choices), "yes") if self.choices else "yes"
        setattr(namespace, self.dest, values == yes)


def _add(
    parser: argparse.ArgumentParser,
    default_flags: Sequence[str],
    flags: Sequence[str],
    defaults: dict[str, Any],
    overrides: dict[str, Any],
) -> argparse.Action:
    options = {**defaults, **overrides}
    return parser.add_argument(*(flags or default_flags), **options)


def argument_indir(parser: argparse.ArgumentParser, *flags: str, **overrides: Any) -> argparse.Action:
    """Add the optional positional ``indir`` (default ``"."``): the folder with the source files.

    Args:
        parser: the parser to extend.
        flags: replace the name ``indir``.
        overrides: replace or add ``add_argument`` keywords.
    """
    defaults = {
        "type": str,
        "nargs": "?",
        "default": ".",
        "metavar": "INDIR",
        "help": "Directory that contains the dataset's source files. (default: current directory)",
    }
    return _add(parser, ["indir"], flags, defaults, overrides)


def argument_outdir(parser: argparse.ArgumentParser, *flags: str, **overrides: Any) -> argparse.Action:
    """Add ``-o/--outdir PATH`` (default ``None``, which converters read as "same as indir").

    Args:
        parser: the parser to extend.
        flags: replace ``-o``, ``--outdir``.
        overrides: replace or add ``add_argument`` keywords.
    """
    defaults = {"type": str, "default": None, "metavar": "PATH", "help": "Output directory. (default: INDIR)"}
    return _add(parser, ["-o", "--outdir"], flags, defaults, overrides)


def argument_infile(parser: argparse.ArgumentParser, *flags: str, **overrides: Any) -> argparse.Action:
    """Add the positional ``infile``.

    Args:
        parser: the parser to extend.
        flags: replace the name ``infile``.
        overrides: replace or add ``add_argument`` keywords.
    """
    defaults = {"type": str, "metavar": "INFILE", "help": "Input file."}
    return _add(parser, ["infile"], flags, defaults, overrides)


def argument_outfile(parser: argparse.ArgumentParser, *flags: str, **overrides: Any) -> argparse.Action:
    """Add ``-o/--outfile PATH`` (default ``None``).

    Args:
        parser: the parser to extend.
        flags: replace ``-o``, ``--outfile``.
        overrides: replace or add ``add_argument`` keywords.
    """
    defaults = {"type": str, "default": None, "metavar": "PATH", "help": "Output file."}
    return _add(parser, ["-o", "--outfile"], flags, defaults, overrides)


def argument_outfile_positional(parser: argparse.ArgumentParser, *flags: str, **overrides: Any) -> argparse.Action:
    """Add the positional ``outfile``.

    Args:
        parser: the parser to extend.
        flags: replace the name ``outfile``.
        overrides: replace or add ``add_argument`` keywords.
    """
    defaults = {"type": str, "metavar": "OUTFILE", "help": "Output file."}
    return _add(parser, ["outfile"], flags, defaults, overrides)


def argument_outfiles(parser: argparse.ArgumentParser, *flags: str, **overrides: Any) -> argparse.Action:
    """Add ``-o/--outfiles PATH [PATH ...]`` (default ``None``).

    Args:
        parser: the parser to extend.
        flags: replace ``-o``, ``--outfiles``.
        overrides: replace or add ``add_argument`` keywords.
    """
    defaults = {"type": str, "default": None, "metavar": "PATH", "nargs": "+", "help": "Output files."}
    return _add(parser, ["-o", "--outfiles"], flags, defaults, overrides)


def argument_no_confirm(parser: argparse.ArgumentParser, *flags: str, **overrides: Any) -> argparse.Action:
    """Add ``-y/--no-confirm``: answer every question with yes (e.g. overwrite existing files).

    Args:
        parser: the parser to extend.
        flags: replace ``-y``, ``--no-confirm``.
        overrides: replace or add ``add_argument`` keywords.
    """
    defaults = {
        "dest": "no_confirm",
        "action": "store_true",
        "help": "Don't ask for confirmation; answer yes (e.g. overwrite existing files).",
    }
    return _add(parser, ["-y", "--no-confirm"], flags, defaults, overrides)


def argument_skip_verification(parser: argparse.ArgumentParser, *flags: str, **overrides: Any) -> argparse.Action:
    """Add ``-s/--skip-verification``: do not check the md5 of source files.

    Args:
        parser: the parser to extend.
        flags: replace ``-s``, ``--skip-verification``.
        overrides: replace or add ``add_argument`` keywords.
    """
    defaults = {"action": "store_true", "help": "Skip the md5 verification of source files."}
    return _add(parser, ["-s", "--skip-verification"], flags, defaults, overrides)


def argument_shuffle(parser: argparse.ArgumentParser, *flags: str, **overrides: Any) -> argparse.Action:
    """Add ``--shuffle {yes,no}``, parsed to a bool (default ``True``).

    The first of ``choices`` means yes. A string ``default`` (``"yes"``/``"no"``) is turned into
    the matching bool, so the parsed value is always a bool.

    Args:
        parser: the parser to extend.
        flags: replace ``--shuffle``.
        overrides: replace or add ``add_argument`` keywords.
    """
    options: dict[str, Any] = {
        "default": True,
        "choices": ["yes", "no"],
        "action": YesNoAction,
        "help": "Write samples in random order. (default: yes)",
        **overrides,
    }
    if isinstance(options["default"], str):
        options["default"] = options["default"] == options["choices"][0]
    return parser.add_argument(*(flags or ["--shuffle"]), **options)


def argument_calculate_weights(parser: argparse.ArgumentParser, *flags: str, **overrides: Any) -> argparse.Action:
    """Add ``--calculate-weights``: compute median-frequency class weights.

    Args:
        parser: the parser to extend.
        flags: replace ``--calculate-weights``.
        overrides: replace or add ``add_argument`` keywords.
    """
    defaults = {"action": "store_true", "help": "Calculate median-frequency class weights."}
    return _add(parser, ["--calculate-weights"], flags, defaults, overrides)


def _thread_count(max_threads: int | None) -> Any:
    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None
        if number < 0:
            raise argparse.ArgumentTypeError(f"expected a whole number >= 0 (0 = all CPUs), got {number}")
        number = resolve_workers(number)
        return min(number, max_threads) if max_threads else number

    parse.__name__ = "threads"  # argparse names the type in its messages
    return parse


def argument_threads(
    parser: argparse.ArgumentParser,
    *flags: str,
    default: int = 1,
    max_threads: int | None = None,
    **overrides: Any,
) -> argparse.Action:
    """Add ``-t/--threads N``: how many threads or processes to use; 0 = all CPUs.

    The parsed value is a concrete count >= 1: 0 (also as ``default``) becomes the number of CPUs
    this process may use, then it is capped at ``max_threads`` if that is given. datadings' call
    ``argument_threads(parser, default, max_threads)`` works too (ints in place of ``flags``).

    Args:
        parser: the parser to extend.
        flags: replace ``-t``, ``--threads``.
        default: the count when the option is not given.
        max_threads: upper limit of the parsed count: ``None`` = no limit; as in datadings, 0 =
            the number of CPUs and ``-k`` = ``k`` times the number of CPUs.
        overrides: replace or add ``add_argument`` keywords.

    Raises:
        ValueError: ``default`` is not an int >= 0.
        TypeError: ints and flags mixed, or more than two ints.
    """
    if any(isinstance(flag, int) for flag in flags):  # datadings: argument_threads(parser, default, max_threads)
        if len(flags) > 2 or not all(isinstance(flag, int) and not isinstance(flag, bool) for flag in flags):
            raise TypeError(
                f"argument_threads: give flags (str) or datadings' default and max_threads (ints), got {flags!r}"
            )
        default, max_threads = (*flags, max_threads)[:2]  # type: ignore[assignment]
        flags = ()
    if max_threads is not None and max_threads <= 0:
        max_threads = available_cpus() * max(1, -max_threads)
    if isinstance(default, bool) or not isinstance(default, int) or default < 0:
        raise ValueError(f"argument_threads: default must be an int >= 0, got {default!r}")
    defaults = {
        "type": _thread_count(max_threads),
        # a string default goes through ``type``, so 0 is resolved when parsing, not now
        "default": str(default),
        "metavar": "N",
        "help": f"Number of threads/processes to use; 0 = all CPUs. (default: {default})",
    }
    return _add(parser, ["-t", "--threads"], flags, defaults, overrides)


def make_parser(
    description: str | None,
    indir: bool = True,
    outdir: bool = True,
    no_confirm: bool = True,
    skip_verification: bool = True,
    shuffle: bool = True,
    formatter_class: type[argparse.HelpFormatter] = argparse.RawDescriptionHelpFormatter,
    threads: bool = False,
    **kwargs: Any,
) -> argparse.ArgumentParser:
    """Create a converter's ArgumentParser with the usual arguments already added.

    ``threads`` is off by default because datadings-style converters add it themselves with
    :func:`argument_threads` (and their own default); adding it twice would be an argparse error.

    Args:
        description: text shown before the arguments; a module's ``__doc__`` is typical.
        indir: add :func:`argument_indir`.
        outdir: add :func:`argument_outdir`.
        no_confirm: add :func:`argument_no_confirm`.
        skip_verification: add :func:`argument_skip_verification`.
        shuffle: add :func:`argument_shuffle`.
        formatter_class: help formatter; the default keeps the description's line breaks.
        threads: add :func:`argument_threads` (default 1).
        kwargs: passed on to ``argparse.ArgumentParser``.
    """
    parser = argparse.ArgumentParser(description=description, formatter_class=formatter_class, **kwargs)
    if indir:
        argument_indir(parser)
    if outdir:
        argument_outdir(parser)
    if no_confirm:
        argument_no_confirm(parser)
    if skip_verification:
        argument_skip_verification(parser)
    if shuffle:
        argument_shuffle(parser)
    if threads:
        argument_threads(parser)
    return parser


def make_parser_simple(
    description: str | None,
    indir: bool = False,
    outdir: bool = False,
    no_confirm: bool = False,
    skip_verification: bool = False,
    shuffle: bool = False,
    formatter_class: type[argparse.HelpFormatter] = argparse.RawDescriptionHelpFormatter,
    threads: bool = False,
    **kwargs: Any,
) -> argparse.ArgumentParser:
    """Like :func:`make_parser`, but every argument is off by default.

    Args:
        description: text shown before the arguments.
        indir: add :func:`argument_indir`.
        outdir: add :func:`argument_outdir`.
        no_confirm: add :func:`argument_no_confirm`.
        skip_verification: add :func:`argument_skip_verification`.
        shuffle: add :func:`argument_shuffle`.
        formatter_class: help formatter.
        threads: add :func:`argument_threads`.
        kwargs: passed on to ``argparse.ArgumentParser``.
    """
    return make_parser(
        description,
        indir=indir,
        outdir=outdir,
        no_confirm=no_confirm,
        skip_verification=skip_verification,
        shuffle=shuffle,
        threads=threads,
        formatter_class=formatter_class,
        **kwargs,
    )
