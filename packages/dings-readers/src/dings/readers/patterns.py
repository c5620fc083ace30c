"""Search patterns shared by DirectoryReader and ZipFileReader: ``{LABEL}`` globs, file lists, filters.

A *search pattern* is either

- the path of a **file list** on disk: a text file (UTF-8) with one sample per line,
  ``path<separator>label<separator>extra…``; the label and the extra columns are optional; or
- a **glob pattern** such as ``root/{LABEL}/**`` or ``root/{LABEL}/*.jpg``, whose components
  may use ``*``, ``?``, ``[...]`` (as :func:`fnmatch.fnmatchcase`, never across ``/``) and ``**``
  (zero or more directories; at the end: every file below). One component may be exactly
  ``{LABEL}``: it matches one directory, whose name becomes the sample's label. As with
  :mod:`glob`, wildcards do not match names that start with ``.`` unless the pattern component
  does too.

Both readers turn matches into the same sample dicts (see :func:`collect_samples`); they differ
only in where files live (:class:`FileSource`).
"""

from __future__ import annotations

import fnmatch
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple, Protocol

from .labels import natural_sort_key

__all__ = [
    "LABEL",
    "FileListEntry",
    "FileSource",
    "GlobPattern",
    "collect_samples",
    "has_magic",
    "is_included",
    "parse_file_list",
    "pattern_list",
]

LABEL = "{LABEL}"
_MAGIC = frozenset("*?[")


def has_magic(text: str) -> bool:
    """True if ``text`` contains a glob wildcard or ``{LABEL}``."""
    return LABEL in text or any(c in _MAGIC for c in text)


def pattern_list(patterns: str | os.PathLike | Iterable[str | os.PathLike]) -> list[str]:
    """Return ``patterns`` as a list of strings; a single string or path is one pattern."""
    if isinstance(patterns, (str, os.PathLike)):
        return [os.fspath(patterns)]
    return [os.fspath(p) for p in patterns]


def _hidden_mismatch(name: str, component: str) -> bool:
    """Glob's rule: a wildcard does not match a leading dot that the pattern does not spell out."""
    return name.startswith(".") and not component.startswith(".")


class GlobPattern:
    """A parsed glob pattern: a fixed base directory plus components matched against relative paths.

    The base is the longest leading run of components without wildcards (never the last
    component, which always names files). Matches are paths relative to the base, given as tuples
    of names; the key of a matched sample is that relative path joined with ``/``.

    Args:
        pattern: the glob pattern (``/`` separated; ``os.sep`` is accepted too).

    Raises:
        ValueError: the pattern is empty, has more than one ``{LABEL}``, uses ``{LABEL}`` inside a
            longer name, or puts ``{LABEL}`` last (it must name a directory).
    """

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        text = pattern.replace(os.sep, "/") if os.sep != "/" else pattern
        absolute = text.startswith("/")
        components = [c for c in text.split("/") if c]
        if not components:
            raise ValueError(
                f"search pattern {pattern!r} is empty; give a glob such as 'root/{{LABEL}}/**' or a file list"
            )
        labels = [i for i, c in enumerate(components) if LABEL in c]
        if len(labels) > 1:
            raise ValueError(f"search pattern {pattern!r} has {len(labels)} {LABEL} components; use at most one")
        if labels and components[labels[0]] != LABEL:
            raise ValueError(
                f"search pattern {pattern!r}: {LABEL} must be a whole directory name, "
                f"not part of {components[labels[0]]!r}; write e.g. 'root/{LABEL}/*.jpg'"
            )
        if labels and labels[0] == len(components) - 1:
            raise ValueError(
                f"search pattern {pattern!r}: {LABEL} must be a directory level followed by a file pattern, "
                f"e.g. {pattern.rstrip('/') + '/**'!r}"
            )
        first = next((i for i, c in enumerate(components) if has_magic(c)), len(components) - 1)
        base = "/".join(components[:first])
        #: fixed directory the matches are relative to ("" for the current directory / archive root)
        self.base: str = ("/" + base) if absolute else base
        #: pattern components below the base
        self.components: tuple[str, ...] = tuple(components[first:])
        #: deepest relative path that can match (``None``: unbounded, the pattern has ``**``)
        self.max_depth: int | None = None if "**" in self.components else len(self.components)

    def match(self, parts: Sequence[str]) -> tuple[bool, str | None]:
        """Match a file's path relative to :attr:`base`.

        Args:
            parts: the relative path's names (``("cat", "a.jpg")``).

        Returns:
            ``(matched, label)``; ``label`` is the name at the ``{LABEL}`` level or ``None``.
        """
        return self._match(0, tuple(parts), 0)

    def _match(self, c: int, parts: tuple[str, ...], p: int) -> tuple[bool, str | None]:
        components = self.components
        if c == len(components):
            return p == len(parts), None
        component = components[c]
        if component == "**":
            if c == len(components) - 1:  # at the end: every file below, at any depth (at least one name)
                rest = parts[p:]
                return bool(rest) and not any(name.startswith(".") for name in rest), None
            for end in range(p, len(parts)):  # elsewhere: zero or more directories
                if end > p and parts[end - 1].startswith("."):
                    break
                matched, label = self._match(c + 1, parts, end)
                if matched:
                    return matched, label
            return False, None
        if p == len(parts):
            return False, None
        name = parts[p]
        if component == LABEL:
            if name.startswith("."):
                return False, None
            matched, _ = self._match(c + 1, parts, p + 1)
            return matched, (name if matched else None)
        if has_magic(component) and _hidden_mismatch(name, component):
            return False, None
        if not fnmatch.fnmatchcase(name, component):
            return False, None
        return self._match(c + 1, parts, p + 1)

    def __repr__(self) -> str:
        return f"GlobPattern({self.pattern!r})"


class FileListEntry(NamedTuple):
    """One line of a file list."""

    path: str
    """The path as written (it becomes the sample's key)."""
    label: str | None
    """The second column, or ``None`` when the line has only a path."""
    extra: list[str]
    """Any further columns."""
    line: int
    """Line number (1-based), for error messages."""


def parse_file_list(lines: Iterable[str], source: str, separator: str) -> Iterator[FileListEntry]:
    """Parse the lines of a file list; blank lines are skipped.

    Args:
        lines: the file's lines (line endings are removed here).
        source: the file's name, for error messages.
        separator: the column separator.

    Raises:
        ValueError: a line has an empty path, or the separator is empty.
    """
    if not separator:
        raise ValueError(f"{source}: the column separator is empty; pass e.g. separator='\\t' or ','")
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        columns = line.split(separator)
        if not columns[0]:
            raise ValueError(f"{source} line {number}: the path column is empty; each line must start with a file path")
        label = columns[1] if len(columns) > 1 else None
        yield FileListEntry(columns[0], label, columns[2:], number)


def is_included(path: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """Apply ``include``/``exclude`` :func:`fnmatch.fnmatch` patterns to a sample's path.

    With no inclusion patterns every path is included, otherwise it must match one of them; a
    path matching any exclusion pattern is excluded. ``*`` matches ``/`` here (``"*.jpg"``
    matches every JPEG at any depth).
    """
    if include and not any(fnmatch.fnmatch(path, p) for p in include):
        return False
    return not any(fnmatch.fnmatch(path, p) for p in exclude)


class FileSource(Protocol):
    """Where a reader's files live (a directory tree or a ZIP archive).

    ``ordered`` is true when :meth:`files` yields in a meaningful order that glob matches keep
    (a ZIP archive's member order, as datadings); otherwise matches are sorted by path.
    """

    ordered: bool

    def describe(self) -> str:
        """Name the source in messages (e.g. ``"the file system"`` or the ZIP's path)."""

    def read_file_list(self, pattern: str) -> list[str] | None:
        """Return the lines of the file list named by ``pattern``, or ``None`` if it is a glob."""

    def list_entry_path(self, root_dir: str, entry: FileListEntry, source: str) -> str:
        """Resolve a file list entry (relative paths below ``root_dir``) to the sample's path."""

    def files(self, glob: GlobPattern) -> Iterable[tuple[str, ...]]:
        """Yield every file below ``glob.base`` (at most ``glob.max_depth`` deep) as relative names."""

    def join(self, base: str, parts: tuple[str, ...]) -> str:
        """Return the sample path of a file found by :meth:`files`."""


def _sample(key: str, label: str | None, path: str, extra: list[str]) -> dict:
    sample: dict = {"key": key}
    if label is not None:
        sample["label"] = label
    sample["path"] = path
    sample["_additional_info"] = extra
    return sample


def collect_samples(
    source: FileSource,
    patterns: str | os.PathLike | Iterable[str | os.PathLike],
    separator: str = "\t",
    root_dir: str | os.PathLike = "",
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> list[dict]:
    """Find the samples that ``patterns`` describe in ``source``.

    Each sample is ``{"key", "label", "path", "_additional_info"}`` (``"label"`` only if the
    pattern has ``{LABEL}`` or the file list has a label column). Patterns are used in the
    given order; a glob's matches keep the source's order if it has one (``source.ordered``: a
    ZIP archive's member order) and are otherwise sorted by their relative path, comparing
    directory by directory in natural order (``img2`` before ``img10``); a file list keeps its
    line order.
    The key is the path relative to the glob's base directory, or the path as written in the
    file list. ``include``/``exclude`` filter on the sample's ``"path"``.

    Args:
        source: where files live.
        patterns: one pattern or several (see the module documentation).
        separator: column separator of file lists.
        root_dir: prefix for relative paths in file lists (not for glob patterns).
        include: :func:`fnmatch.fnmatch` patterns; if given, a path must match one.
        exclude: :func:`fnmatch.fnmatch` patterns; a path matching any is skipped.

    Returns:
        The samples, without data.

    Warns:
        UserWarning: a glob pattern matched no file at all.
    """
    root = os.fspath(root_dir)
    include, exclude = _filters(include), _filters(exclude)
    samples: list[dict] = []
    for pattern in pattern_list(patterns):
        lines = source.read_file_list(pattern)
        if lines is not None:
            for entry in parse_file_list(lines, pattern, separator):
                path = source.list_entry_path(root, entry, pattern)
                if is_included(path, include, exclude):
                    samples.append(_sample(entry.path, entry.label, path, entry.extra))
            continue
        glob = GlobPattern(pattern)
        matches = []
        for parts in source.files(glob):
            matched, label = glob.match(parts)
            if matched:
                matches.append((tuple(natural_sort_key(name) for name in parts), parts, label))
        if not matches:
            warnings.warn(f"search pattern {pattern!r} matched no files in {source.describe()}", stacklevel=3)
        if not source.ordered:
            matches.sort(key=lambda match: match[0])
        for _, parts, label in matches:
            path = source.join(glob.base, parts)
            if is_included(path, include, exclude):
                samples.append(_sample("/".join(parts), label, path, []))
    return samples


def _filters(patterns: str | Sequence[str]) -> tuple[str, ...]:
    # a single string is one pattern, not a sequence of one-character patterns
    return (patterns,) if isinstance(patterns, str) else tuple(patterns)
