"""The ``dings`` command: one subcommand per module, imported only when it runs.

Every subcommand module exposes ``add_arguments(parser)`` and ``run(args) -> int``; its heavy
imports happen inside ``run`` so that ``dings --help`` stays fast. ``add_arguments`` runs only for
the command given, so it may read options from a library (``dings import``: the source kinds). Exit status: 0 success, 1 an
error or a failed check, 2 bad usage, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import sys
from collections.abc import Callable, Collection, Sequence

from ._common import Declined, UsageError

__all__ = ["COMMANDS", "UsageError", "build_parser", "entry", "installed_versions", "main"]

#: subcommand name → (module, one-line help)
COMMANDS = {
    "write": ("dings.cli.write", "convert a public dataset (bare: list the datasets that can be written)"),
    "import": (
        "dings.cli.import_",
        "import your own data: image folders, CSV/JSON lists, Parquet, WebDataset, Hugging Face",
    ),
    "export": ("dings.cli.export", "export a dataset to WebDataset shards, Parquet or an ImageFolder tree"),
    "cat": ("dings.cli.cat", "print the samples of a dataset, abbreviated"),
    "info": ("dings.cli.info", "length, files, md5 state and a summary of the sample keys"),
    "verify": ("dings.cli.verify", "check md5 sums and index files (exit status 1 if damaged)"),
    "shuffle": ("dings.cli.shuffle", "write a dataset's samples in a random order"),
    "merge": ("dings.cli.merge", "merge several datasets into one"),
    "split": ("dings.cli.split", "split a dataset at sample positions into several"),
    "sample": ("dings.cli.sample", "write a subset of a dataset"),
    "bench": ("dings.cli.bench", "measure how fast a dataset or directory tree reads"),
    "convert-index": ("dings.cli.convert_index", "give a legacy dataset (NAME.msgpack.index) the new index files"),
    "stage": ("dings.cli.stage", "copy datasets to a local disk, verified, skipping what is there"),
    "sets": ("dings.cli.sets", "list, search and show the dataset catalog"),
    "prepare": ("dings.cli.prepare", "download and verify a dataset's source files; print them as JSON"),
    "preview": ("dings.cli.preview", "draw a contact sheet (PNG) of a dataset's images"),
    "demo": ("dings.cli.demo", "the whole product on a small generated dataset, offline, in under a minute"),
}

#: extras of dings-tools that dings-cli forwards under the same name (see its pyproject.toml)
FORWARDED_EXTRAS = ("table", "huggingface", "remote", "ray")

EPILOG = """examples:
  dings demo                              see everything work on a generated dataset
  dings info train.msgpack                what is in a dataset
  dings info 'out/train-*.msgpack'        a set: a quoted pattern, a folder, a manifest or a URL
  dings verify train.msgpack              md5 and index checks (exit status 1 if damaged)
  dings write                             the datasets dings can convert
  dings COMMAND --help                    the options of one command
  python -m dings …                       the same, when dings is not on the PATH

short options mean one thing everywhere: -o output, -n number of samples, -q no progress bars,
-y replace outputs without asking; -s, -r and -t keep the meanings of datadings' commands
(cat -s maxstring, merge/sample -s strategy, bench -s shuffle, bench -r raw, converters
-s skip-verification and -t threads). Progress bars show only on a terminal (--progress forces them)."""


def build_parser(commands: Collection[str] | None = None) -> argparse.ArgumentParser:
    """Build the top-level parser with every subcommand (imports each subcommand module, not its work).

    Args:
        commands: the subcommands whose options are added (default: all); the others are only
            listed. Some options are declared by libraries (``dings import``'s source kinds), so
            ``dings --help`` and other commands do not import them.
    """
    parser = argparse.ArgumentParser(
        prog="dings",
        description="Convert, check and read machine-learning datasets in the dings (datadings 3.4) format.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    parser.add_argument("--version", action=_VersionAction, help="show every installed dings package and its version")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser.set_defaults(subparsers={})
    for name, (module, help_text) in COMMANDS.items():
        mod = importlib.import_module(module)
        sub = subparsers.add_parser(
            name,
            help=help_text,
            description=(mod.__doc__ or help_text).strip(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(module=module)
        parser.get_default("subparsers")[name] = sub
        sub.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help="show the traceback of an error"
        )
        if commands is None or name in commands:
            mod.add_arguments(sub)
    return parser


def installed_versions() -> dict[str, str]:
    """Every installed distribution named ``dings-*`` and its version, sorted by name."""
    from importlib.metadata import distributions

    found: dict[str, str] = {}
    for dist in distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name.startswith("dings-"):
            found[name] = dist.version
    return dict(sorted(found.items()))


class _VersionAction(argparse.Action):
    """``--version``: one line per installed dings package, then exit."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser, namespace, values, option_string=None) -> None:  # noqa: ANN001
        lines = [f"{name} {version}" for name, version in installed_versions().items()]
        print("\n".join(lines or ["dings: no dings package is installed as a distribution"]))
        parser.exit()


def _message(exc: BaseException) -> str:
    """One line for the user: the exception's own message, or file and reason for bare OS errors."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror.lower()}"
    if isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        text = exc.args[0].strip().splitlines()  # str() of a KeyError adds quotes
    else:
        text = str(exc).strip().splitlines()
    if not text:
        return type(exc).__name__
    line = text[0] if len(text) == 1 else f"{text[0]} (…)"
    extra = getattr(exc, "extra", None) if isinstance(exc, ImportError) else None
    if extra in FORWARDED_EXTRAS:  # a dings.tools.MissingExtraError
        line += f' (for the dings command: pip install "dings-cli[{extra}]")'
    return line


def _expansion_hint(command: str | None, argv: list[str], unknown: list[str]) -> str:
    """A hint when the shell expanded an unquoted pattern into several data files (``dings info x-*.msgpack``).

    Returns:
        ``"; quote the pattern …: dings info 'x-*.msgpack'"``, or ``""`` when the extra arguments
        are no data files.
    """
    if command is None:
        return ""
    files = [a for a in argv[argv.index(command) + 1 :] if a.endswith(".msgpack") and os.path.isfile(a)]
    if not any(a in files for a in unknown) or len(files) < 2:
        return ""
    prefix = os.path.commonprefix(files).rstrip("0123456789")
    suffix = os.path.commonprefix([f[::-1] for f in files])[::-1].lstrip("0123456789")
    if len(prefix) + len(suffix) > min(len(f) for f in files):
        suffix = ".msgpack"
    return (
        f"; the shell expanded a pattern into {len(files)} files, but one dataset is expected: "
        f"quote the pattern: dings {command} '{prefix}*{suffix}'"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``dings`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in argv if not a.startswith("-")), None)
    if first is not None and first not in COMMANDS:
        close = difflib.get_close_matches(first, COMMANDS, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; choose from {', '.join(COMMANDS)}"
        print(f"dings: unknown command '{first}'{hint}", file=sys.stderr)
        return 2
    parser = build_parser([first] if first is not None else [])
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # the subcommand's usage, not the top-level one
        command = args.subparsers.get(args.command, parser) if args.command else parser
        command.error(f"unrecognized arguments: {' '.join(unknown)}{_expansion_hint(args.command, argv, unknown)}")
    if not args.command:
        parser.print_help()
        return 2
    try:
        return int(importlib.import_module(args.module).run(args) or 0)
    except KeyboardInterrupt:
        print("dings: interrupted; no partial outputs were kept", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of our output went away (e.g. `dings cat x | head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Declined as exc:
        print(f"dings {args.command}: {_message(exc)}", file=sys.stderr)
        return 1
    except UsageError as exc:
        if args.debug:
            raise
        print(f"dings {args.command}: error: {_message(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:
        if args.debug:
            raise
        print(f"dings {args.command}: error: {_message(exc)}", file=sys.stderr)
        return 1


def entry() -> None:
    """Console-script entry point of ``dings``."""
    sys.exit(main())


def _alias(command: str) -> Callable[[], None]:
    def alias_entry() -> None:
        sys.exit(main([command, *sys.argv[1:]]))

    alias_entry.__doc__ = f"Console-script entry point of ``dings-{command}`` (same as ``dings {command}``)."
    return alias_entry


# datadings users know datadings-cat and friends: the same commands as dings-cat, …
write_entry = _alias("write")
cat_entry = _alias("cat")
info_entry = _alias("info")
verify_entry = _alias("verify")
shuffle_entry = _alias("shuffle")
merge_entry = _alias("merge")
split_entry = _alias("split")
sample_entry = _alias("sample")
bench_entry = _alias("bench")
convert_index_entry = _alias("convert-index")

if __name__ == "__main__":
    entry()
