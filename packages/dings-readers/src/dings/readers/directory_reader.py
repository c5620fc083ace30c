"""DirectoryReader: samples from files on disk, found by ``{LABEL}`` glob patterns or file lists."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from .list_reader import ListReader, noop
from .patterns import FileListEntry, GlobPattern, collect_samples, pattern_list

__all__ = ["DirectoryReader"]


class _Directory:
    """The file system as a :class:`~dings.readers.patterns.FileSource`."""

    ordered = False  # directory listings have no meaningful order: matches are sorted

    def describe(self) -> str:
        return "the file system"

    def read_file_list(self, pattern: str) -> list[str] | None:
        if not os.path.isfile(pattern):
            return None
        try:
            with open(pattern, encoding="utf-8-sig") as f:
                return f.readlines()
        except UnicodeDecodeError:
            raise ValueError(
                f"{pattern}: is a file, so it was read as a file list, but it is not UTF-8 text; "
                "to read one data file use a glob pattern for its directory (e.g. 'dir/*.jpg' with include=...)"
            ) from None

    def list_entry_path(self, root_dir: str, entry: FileListEntry, source: str) -> str:
        return os.path.join(root_dir, entry.path) if root_dir else entry.path

    def files(self, glob: GlobPattern) -> Iterator[tuple[str, ...]]:
        base = glob.base or os.curdir
        if not os.path.isdir(base):
            raise FileNotFoundError(
                f"{glob.base}: directory not found (from search pattern {glob.pattern!r}); "
                "check the pattern and the working directory"
            )
        return _walk(base, glob.max_depth)

    def join(self, base: str, parts: tuple[str, ...]) -> str:
        return os.path.join(base, *parts) if base else os.path.join(*parts)


def _walk(top: str, max_depth: int | None) -> Iterator[tuple[str, ...]]:
    """Yield the files below ``top`` as tuples of names, following symbolic links.

    A link to one of its own ancestors (a cycle) is not followed; other links to directories
    are, so a directory reachable under two names is listed under both (as :mod:`glob` does).
    """
    stack: list[tuple[str, tuple[str, ...], frozenset[str]]] = [(top, (), frozenset([os.path.realpath(top)]))]
    while stack:
        directory, parts, ancestors = stack.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                names = (*parts, entry.name)
                if entry.is_dir():
                    if max_depth is not None and len(names) >= max_depth:
                        continue
                    real = os.path.realpath(entry.path)
                    if real not in ancestors:
                        stack.append((entry.path, names, ancestors | {real}))
                elif entry.is_file():
                    yield names


class DirectoryReader(ListReader):
    """Read files from disk as samples (datadings' ``DirectoryReader``).

    Each search pattern is either a glob pattern with an optional ``{LABEL}`` directory level,
    or the path of a CSV-like file list (``path<separator>label<separator>extra…``, one sample per
    line; relative paths are below ``root_dir``). See :mod:`dings.readers.patterns` for the
    pattern syntax. For example ``"images/{LABEL}/*.jpg"`` finds ``images/cat/1.jpg`` as

    ``{"key": "cat/1.jpg", "label": 0, "path": "images/cat/1.jpg", "_additional_info": [],
    "_label": "cat", "data": b"..."}``

    - ``key``: the path relative to the glob's fixed base directory (here ``images``), or the
      path as written in the file list. Keys must be unique: two patterns that find the same
      relative path raise :class:`~dings.format.DuplicateKeyError` (use ``initfun`` to set keys).
    - ``label``/``_label``: the ``{LABEL}`` directory name or the list's second column, mapped to
      a number as described in :class:`ListReader`. Samples from a pattern without ``{LABEL}`` or
      a list line without a label column have no ``label``.
    - ``path``: the file's path (relative paths stay relative to the working directory).
    - ``_additional_info``: the list's columns after the label (else ``[]``).
    - ``data``: the file's bytes, read only when the sample is read (so the reader is cheap to
      create and holds no file open); ``convertfun`` sees the data. If ``initfun`` sets
      ``data``, it is kept and the file is not read.

    Order: patterns in the given order; a glob's matches sorted directory by directory in
    natural order; a file list's lines in file order. Files and directories whose names start
    with ``.`` match only pattern components that start with ``.``.

    Args:
        patterns: one search pattern or several.
        labels: labels in the order that defines numeric labels, or the path of a file with one
            label per line; ``None`` natural-sorts the labels found.
        numeric_labels: replace labels by their index in the list of labels.
        initfun: ``initfun(sample)`` changes each sample in place once, during construction.
        convertfun: ``convertfun(sample)`` changes a shallow copy (with ``data``) in place every
            time a sample is returned.
        include: :func:`fnmatch.fnmatch` patterns matched against ``path``; if given, a file must
            match one (``*`` matches across ``/``).
        exclude: :func:`fnmatch.fnmatch` patterns; a file whose ``path`` matches any is skipped.
        separator: column separator of file lists.
        root_dir: prefix for relative paths in file lists (glob patterns are not affected).

    Raises:
        FileNotFoundError: a glob's fixed base directory does not exist, or ``labels`` names a
            missing file. A sample file that disappears later raises when that sample is read.
        ValueError: a malformed pattern or file list, and the errors of :class:`ListReader`.

    Warns:
        UserWarning: a glob pattern matched no file.
    """

    def __init__(
        self,
        patterns: str | os.PathLike | Sequence[str | os.PathLike],
        labels: Iterable | str | os.PathLike | None = None,
        numeric_labels: bool = True,
        initfun: Callable[[dict], Any] = noop,
        convertfun: Callable[[dict], Any] = noop,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        separator: str = "\t",
        root_dir: str | os.PathLike = "",
    ) -> None:
        self.patterns = pattern_list(patterns)
        samples = collect_samples(_Directory(), self.patterns, separator, root_dir, include, exclude)
        super().__init__(samples, labels, numeric_labels, initfun, convertfun)

    def _load(self, index: int, sample: dict) -> None:
        if "data" in sample:
            return
        path = sample["path"]
        try:
            with open(path, "rb") as f:
                sample["data"] = f.read()
        except OSError as error:
            raise OSError(
                error.errno,
                f"cannot read sample {index} (key {sample['key']!r}): {error.strerror}; "
                "if files were moved or deleted, create the reader again",
                path,
            ) from error

    def __repr__(self) -> str:
        return f"DirectoryReader({self.patterns!r}, <{len(self)} samples>)"
