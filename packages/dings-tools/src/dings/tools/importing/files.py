"""Finding and reading the files of an import: image suffixes, include/exclude globs, safe reads."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from .core import ImportDataError

__all__ = ["IMAGE_SUFFIXES", "is_selected", "read_file", "walk_files"]

#: the file suffixes an import takes by default (formats :func:`dings.tools.sniff_image` knows)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp")


def is_selected(relative: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """Apply ``include``/``exclude`` :func:`fnmatch.fnmatch` globs to a relative POSIX path.

    ``*`` matches ``/`` too (``"*.jpg"`` matches JPEGs at any depth). Without ``include`` a file
    must have one of :data:`IMAGE_SUFFIXES` (any case); a file matching an ``exclude`` glob is skipped.
    """
    if include:
        if not any(fnmatch.fnmatch(relative, p) for p in include):
            return False
    elif not relative.lower().endswith(IMAGE_SUFFIXES):
        return False
    return not any(fnmatch.fnmatch(relative, p) for p in exclude)


def walk_files(root: Path) -> Iterator[tuple[str, ...]]:
    """Yield the files below ``root`` as tuples of names, skipping hidden files and folders.

    Links to files are followed; links to folders are not (no cycles).
    """
    stack: list[tuple[Path, tuple[str, ...]]] = [(root, ())]
    while stack:
        folder, parts = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            raise ImportDataError(f"{folder}: cannot list the folder: {exc.strerror or exc}") from None
        for entry in entries:
            if entry.name.startswith("."):
                continue
            names = (*parts, entry.name)
            if entry.is_dir(follow_symlinks=False):
                stack.append((Path(entry.path), names))
            elif entry.is_file():
                yield names


def read_file(path: str | os.PathLike, origin: str | None = None) -> bytes:
    """Read a whole file; an OS error becomes an :class:`ImportDataError` naming the file."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise ImportDataError(f"{origin or os.fspath(path)}: cannot read the file: {exc.strerror or exc}") from None
