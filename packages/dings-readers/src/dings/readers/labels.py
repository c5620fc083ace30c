"""Labels of in-memory samples: natural sort order, label files, and the mapping to numeric labels.

Used by :class:`~dings.readers.ListReader` and, through it, by the directory and ZIP readers.
"""

from __future__ import annotations

import numbers
import os
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "UnknownLabelError",
    "label_index",
    "load_labels",
    "natural_sort_key",
    "numeric_label",
    "resolve_labels",
    "sorted_labels",
]

_DIGITS = re.compile(r"([0-9]+)")


class UnknownLabelError(ValueError, KeyError):
    """A sample's label is missing from the explicit list of labels.

    A ``ValueError`` (the sample or the list is wrong) and a ``KeyError`` (datadings raised one here).
    """

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


def natural_sort_key(value: Any) -> tuple:
    """Sort key that orders numbers inside labels by value: ``"img2" < "img10"``, ``2 < 10``.

    Strings are split into text and digit runs (``"img10"`` → ``("img", 10, "")``); real numbers sort
    by value as if they were digit runs, so they come before text. Values that compare equal under
    this rule (``"img02"`` and ``"img2"``, ``3`` and ``"3"``) are ordered by type name and ``repr``, so
    the order is total and does not depend on input order. Other values sort by ``str(value)``.

    Args:
        value: a label (usually ``str`` or ``int``).

    Returns:
        A tuple usable as ``sorted(..., key=natural_sort_key)``.
    """
    if isinstance(value, numbers.Real):
        chunks: tuple = ("", value)
    else:
        text = value if isinstance(value, str) else str(value)
        parts = _DIGITS.split(text)  # text, digits, text, digits, …, text
        chunks = tuple(int(part) if i % 2 else part for i, part in enumerate(parts))
    return (chunks, type(value).__name__, repr(value))


def load_labels(path: str | bytes | os.PathLike) -> list[str]:
    """Read a label file: one label per line, in the order that defines the numeric labels.

    Line endings are removed and nothing else (labels may contain spaces). Empty lines at the end
    of the file are ignored; an empty line elsewhere is the label ``""``.

    Args:
        path: the text file (UTF-8, a byte order mark is ignored).

    Returns:
        The labels in file order.

    Raises:
        FileNotFoundError: ``path`` does not exist.
    """
    try:
        with open(path, encoding="utf-8-sig", newline=None) as f:
            labels = [line.rstrip("\n") for line in f]
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{os.fsdecode(path)}: label file not found; pass an existing file with one label per line, or a list of labels"
        ) from None
    while labels and labels[-1] == "":
        labels.pop()
    return labels


def resolve_labels(labels: Iterable | str | bytes | os.PathLike | None, source: str = "labels") -> list | None:
    """Turn the ``labels`` argument of a reader into a list (or ``None`` when it was not given).

    Args:
        labels: ``None``; a path (``str``, ``bytes`` or path-like) to a label file; or an iterable
            of labels in the desired order.
        source: how to call the argument in error messages.

    Returns:
        The labels as a list, or ``None``.

    Raises:
        FileNotFoundError: a label file does not exist.
        ValueError: a label appears twice.
        TypeError: a label is not hashable.
    """
    if labels is None:
        return None
    result: list[Any]
    if isinstance(labels, (str, bytes, os.PathLike)):
        source = os.fsdecode(labels)
        result = load_labels(labels)
    else:
        result = list(labels)
    seen: dict[Any, int] = {}
    for position, label in enumerate(result):
        if not isinstance(label, Hashable):
            raise TypeError(f"{source}: label {label!r} at position {position} is not hashable; use str or int labels")
        if label in seen:
            raise ValueError(
                f"{source}: label {label!r} appears twice (positions {seen[label]} and {position}); "
                "list every label once"
            )
        seen[label] = position
    return result


def _describe(index: int, sample: Mapping) -> str:
    key = sample.get("key")
    return f"sample {index}" + (f" (key {key!r})" if key is not None else "")


def sorted_labels(samples: Sequence[Mapping]) -> list:
    """Collect the distinct ``"label"`` values of ``samples`` in natural sort order.

    Samples without a ``"label"`` are skipped.

    Args:
        samples: sample dicts.

    Returns:
        The distinct labels, sorted with :func:`natural_sort_key`.

    Raises:
        ValueError: a sample's label is ``None`` (it cannot be sorted; give the labels explicitly).
        TypeError: a label is not hashable.
    """
    found: set = set()
    for index, sample in enumerate(samples):
        if "label" not in sample:
            continue
        label = sample["label"]
        if label is None:
            raise ValueError(
                f"{_describe(index, sample)} has label None, which cannot be sorted; "
                "pass labels=[...] (including None) to the reader to use None as a label"
            )
        if not isinstance(label, Hashable):
            raise TypeError(f"{_describe(index, sample)} has unhashable label {label!r}; use str or int labels")
        found.add(label)
    return sorted(found, key=natural_sort_key)


def label_index(labels: Sequence) -> dict:
    """Map each label to its position in ``labels`` (the numeric label)."""
    return {label: position for position, label in enumerate(labels)}


def numeric_label(mapping: Mapping, index: int, sample: Mapping) -> int:
    """Return the numeric label of ``sample`` (which has a ``"label"``) using ``mapping``.

    Raises:
        UnknownLabelError: the label is not in ``mapping``.
        TypeError: the label is not hashable.
    """
    label = sample["label"]
    try:
        return mapping[label]
    except KeyError:
        raise UnknownLabelError(
            f"{_describe(index, sample)} has label {label!r}, which is not in the reader's labels; "
            "add it to the labels list/file or fix the sample"
        ) from None
    except TypeError:
        raise TypeError(f"{_describe(index, sample)} has unhashable label {label!r}; use str or int labels") from None
