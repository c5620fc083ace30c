"""Class lists: turn the label values of a source (names or ints) into int labels and label names."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .core import ImportDataError

__all__ = ["ClassList", "read_class_list"]

Labels = str | os.PathLike | Sequence[str] | None


def read_class_list(labels: Labels) -> list[str] | None:
    """Return the class names of a ``labels`` argument: ``None``, a file (one name a line) or names.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: a name appears twice.
    """
    if labels is None:
        return None
    if isinstance(labels, (str, os.PathLike)):
        with open(labels, encoding="utf-8-sig") as f:
            names = [line.rstrip("\r\n") for line in f]
        while names and not names[-1]:
            names.pop()
        where = os.fspath(labels)
    else:
        names = [str(n) for n in labels]
        where = "labels"
    seen: dict[str, int] = {}
    for position, name in enumerate(names):
        if name in seen:
            raise ValueError(f"{where}: class {name!r} is listed twice (positions {seen[name]} and {position})")
        seen[name] = position
    return names


class ClassList:
    """Maps label values to int labels.

    With names (given, or collected from a source's string labels in sorted order) a str label is
    looked up by name and an int label must lie in ``0 … len(names) - 1``. Without names, labels
    must be ints (or strings of digits) and are kept as they are.

    Args:
        names: the class names in label order, or ``None``.
    """

    def __init__(self, names: list[str] | None) -> None:
        self.names = names
        self._index = {name: i for i, name in enumerate(names)} if names is not None else {}

    @classmethod
    def collect(cls, values: Iterable[Any], given: Labels = None) -> ClassList:
        """The class list for ``values``: the ``given`` one, else sorted names of the str values.

        Strings of decimal digits count as ints when every value is one (a CSV of numeric labels).
        """
        names = read_class_list(given)
        if names is not None:
            return cls(names)
        strings = {v for v in values if isinstance(v, str)}
        if not strings or all(_is_int_text(v) for v in strings):
            return cls(None)
        return cls(sorted(strings))

    def label(self, value: Any, origin: str) -> int:
        """The int label of ``value``.

        Raises:
            ImportDataError: the value is not a known name, an int outside the class list, or
                neither str nor int; the message names ``origin``.
        """
        if isinstance(value, (bool, np.bool_)):
            raise ImportDataError(f"{origin}: label {value!r} is a bool; labels are class names or ints")
        if isinstance(value, (int, np.integer)):
            number = int(value)
        elif isinstance(value, str):
            if value in self._index:
                return self._index[value]
            if self.names is not None or not _is_int_text(value):
                raise ImportDataError(f"{origin}: label {value!r} is not in the class list ({_show(self.names)})")
            number = int(value)
        else:
            raise ImportDataError(
                f"{origin}: label {value!r} ({type(value).__name__}) is neither a class name nor an int"
            )
        if self.names is not None and not 0 <= number < len(self.names):
            raise ImportDataError(f"{origin}: label {number} is outside the class list (0 … {len(self.names) - 1})")
        return number


def _is_int_text(text: str) -> bool:
    stripped = text.strip()
    return stripped.isdigit() or (stripped[:1] == "-" and stripped[1:].isdigit())


def _show(names: list[str] | None) -> str:
    if names is None:
        return "none given; labels must be ints"
    shown = ", ".join(names[:8])
    return f"{len(names)} classes: {shown}" + (", …" if len(names) > 8 else "")
