"""Brace patterns: ``train-{00000..00099}.msgpack`` and ``{a,b}`` lists, expanded with a bound."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

__all__ = ["MAX_EXPANSION", "expand_braces", "has_braces"]

#: the most names one brace pattern may expand to
MAX_EXPANSION = 1_000_000
_BRACES = re.compile(r"\{(\d+)\.\.(\d+)\}|\{([^{}]*,[^{}]*)\}")


def has_braces(text: str) -> bool:
    """True if ``text`` holds a ``{LOW..HIGH}`` range or a ``{a,b}`` list."""
    return _BRACES.search(text) is not None


def expand_braces(pattern: str) -> list[str]:
    """Expand ``{000..099}`` ranges (zero-padded like the first bound) and ``{a,b}`` lists.

    Raises:
        ValueError: a range runs backwards, or the pattern expands to more than
            :data:`MAX_EXPANSION` names (checked before they are made).
    """
    names: list[str] = []
    for name in _iter_braces(pattern, pattern):
        if len(names) == MAX_EXPANSION:
            raise _too_many(pattern)
        names.append(name)
    return names


def _too_many(pattern: str) -> ValueError:
    return ValueError(f"{pattern}: expands to more than {MAX_EXPANSION:,} names; give fewer shards in one pattern")


def _iter_braces(text: str, pattern: str) -> Iterator[str]:
    """The names ``text`` expands to, one at a time (``pattern``: the original, for messages)."""
    match = _BRACES.search(text)
    if match is None:
        yield text
        return
    head, tail = text[: match.start()], text[match.end() :]
    choices: Iterable[str]
    if match.group(3) is not None:
        choices = match.group(3).split(",")
    else:
        low, high = match.group(1), match.group(2)
        if max(len(low), len(high)) > 18:  # more names than any limit, and beyond int()'s digit limit
            raise _too_many(pattern)
        if int(high) < int(low):
            raise ValueError(f"{pattern}: brace range {{{low}..{high}}} runs backwards")
        if int(high) - int(low) >= MAX_EXPANSION:
            raise _too_many(pattern)
        choices = (f"{n:0{len(low)}d}" for n in range(int(low), int(high) + 1))
    for choice in choices:
        yield from _iter_braces(head + choice + tail, pattern)
