"""The one place that asks the user anything: a question on the terminal, never a hang without one.

The prompting policy of every dings package (see DEVELOPERS.md): library functions never wait for
an answer. They take ``overwrite`` and raise ``FileExistsError`` for an existing output. The only
library class that asks is :class:`dings.format.FileWriter` (and the writers built on it), as
datadings' ``FileWriter`` does: with ``overwrite=False``, on a terminal, through
:func:`ask_overwrite`. The command line and the converters ask through :func:`query_user` before
they call the library with ``overwrite=True``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TextIO

__all__ = ["NonInteractiveError", "ask_overwrite", "query_user"]


class NonInteractiveError(RuntimeError):
    """A question needs an answer, but input is not a terminal (or ended) and there is no default."""


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):  # closed or detached stream
        return False


def query_user(
    question: str,
    default: str | None = "yes",
    answers: Sequence[str] = ("yes", "no"),
    *,
    input_stream: TextIO | None = None,
    output: TextIO | None = None,
    interactive: bool | None = None,
) -> str:
    """Ask ``question`` and return one of ``answers``.

    The user may type any unambiguous prefix (``y``, ``n``), in any case; an empty line picks
    ``default``. An unknown or ambiguous answer asks again.

    Without a terminal (stdin redirected, a CI job, a pipe) nothing is read: the question is still
    printed, followed by the default that was taken, and the default is returned. When there is no
    default, :class:`NonInteractiveError` is raised instead, so scripts fail fast rather than hang;
    the command line turns it into "use -y". Input that ends (EOF) is treated the same way.

    Args:
        question: shown to the user, followed by the choices, e.g. ``[Y/n]``.
        default: the answer taken on an empty line or without a terminal; ``None`` requires one.
        answers: the possible answers (at least two, distinct, non-empty, lower case preferred).
        input_stream: where answers are read from (stdin by default).
        output: where the question is printed (stderr by default, so stdout stays clean).
        interactive: ``None`` decides by ``input_stream.isatty()``; ``True``/``False`` force it.

    Returns:
        The chosen answer, exactly as written in ``answers``.

    Raises:
        ValueError: ``answers`` or ``default`` are invalid.
        NonInteractiveError: no terminal (or end of input) and no default.
    """
    options = [str(a) for a in answers]
    lowered = [a.lower() for a in options]
    if len(options) < 2 or len(set(lowered)) != len(options) or not all(options):
        raise ValueError(f"query_user: answers must be at least two distinct non-empty words, got {list(answers)!r}")
    if default is not None and default.lower() not in lowered:
        raise ValueError(f"query_user: default {default!r} is not one of the answers {options!r}")
    stdin = input_stream if input_stream is not None else sys.stdin
    out = output if output is not None else sys.stderr
    default_index = lowered.index(default.lower()) if default is not None else None
    shown = "/".join(a[0].upper() if i == default_index else a[0].lower() for i, a in enumerate(options))
    if len({a[0] for a in lowered}) != len(options):  # first letters do not tell answers apart
        shown = "/".join(a.upper() if i == default_index else a for i, a in enumerate(options))
    prompt = f"{question} [{shown}] "
    if interactive is None:
        interactive = _is_terminal(stdin) if stdin is not None else False

    def no_answer(reason: str) -> str:
        if default_index is None:
            raise NonInteractiveError(
                f"cannot ask {question!r}: {reason} and there is no default answer; "
                "answer in advance (e.g. with -y/--no-confirm)"
            )
        out.write(f"{prompt}{options[default_index]} ({reason}, taking the default)\n")
        out.flush()
        return options[default_index]

    if not interactive:
        return no_answer("input is not a terminal")
    while True:
        out.write(prompt)
        out.flush()
        line = stdin.readline()
        if not line:
            out.write("\n")
            return no_answer("input ended")
        reply = line.strip().lower()
        if not reply and default_index is not None:
            return options[default_index]
        matches = [i for i, a in enumerate(lowered) if reply and a.startswith(reply)]
        exact = [i for i, a in enumerate(lowered) if a == reply]
        if exact:
            return options[exact[0]]
        if len(matches) == 1:
            return options[matches[0]]
        out.write(f"Please answer one of: {', '.join(options)}.\n")


def ask_overwrite(path: str | os.PathLike, what: str = "file") -> None:
    """Decide what to do about an existing output when ``overwrite`` is false.

    An interactive user is asked yes/no/abort: yes returns (overwrite), no raises
    ``FileExistsError``, abort raises ``KeyboardInterrupt``. Without a terminal on stdin it raises
    ``FileExistsError`` at once instead of waiting for an answer that never comes.

    Args:
        path: the existing output.
        what: how to call it in the messages.

    Raises:
        FileExistsError: no terminal, or the user answered no.
        KeyboardInterrupt: the user answered abort.
    """
    try:
        answer = query_user(f"{path}: {what} exists. Overwrite?", default=None, answers=("yes", "no", "abort"))
    except NonInteractiveError:
        raise FileExistsError(
            f"{path}: {what} exists; pass overwrite=True (-y/--no-confirm on the command line) to replace it"
        ) from None
    if answer == "no":
        raise FileExistsError(f"{path}: {what} exists and was kept")
    if answer == "abort":
        raise KeyboardInterrupt(f"aborted instead of overwriting {path}")
