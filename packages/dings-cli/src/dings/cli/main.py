"""The ``dings`` command: one subcommand per module, imported only when it runs."""

from __future__ import annotations

import argparse
import difflib
import importlib
import sys
from collections.abc import Sequence

__all__ = ["main", "COMMANDS"]

#: subcommand name → (module, one-line help); modules expose ``add_arguments(parser)`` and ``run(args)``
COMMANDS = {
    "demo": ("dings.cli.demo", "write a small dataset, verify it, read it back and show how fast"),
}


class UsageError(Exception):
    """Bad command-line usage (exit status 2)."""


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="dings", description="Convert, check and read machine-learning datasets.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(module=module)
        importlib.import_module(module).add_arguments(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``dings`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in argv if not a.startswith("-")), None)
    if first is not None and first not in COMMANDS:
        close = difflib.get_close_matches(first, COMMANDS, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; choose from {', '.join(COMMANDS)}"
        print(f"dings: unknown command '{first}'{hint}", file=sys.stderr)
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        return int(importlib.import_module(args.module).run(args) or 0)
    except KeyboardInterrupt:
        print("dings: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(f"dings {args.command}: error: {exc}", file=sys.stderr)
        return 1


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
