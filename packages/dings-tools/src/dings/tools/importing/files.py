"""Finding and reading the files of an import: image suffixes, include/exclude globs, safe reads.

Only regular files are imported. A FIFO, device, socket or a link to one is refused naming it
(reading ``/dev/zero`` would never end, opening a FIFO would wait forever), and a file is read no
further than the size it had when it was opened.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from .core import ImportDataError

__all__ = ["IMAGE_SUFFIXES", "MAX_FILE_SIZE", "FileRoot", "is_selected", "read_file", "walk_files"]

#: the file suffixes an import takes by default (formats :func:`dings.tools.sniff_image` knows)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp")
#: the largest file read (msgpack cannot hold more in one value)
MAX_FILE_SIZE = (1 << 32) - 1
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


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


def walk_files(root: Path, select: Callable[[str], bool] = lambda relative: True) -> Iterator[tuple[str, ...]]:
    """Yield the selected files below ``root`` as tuples of names, skipping hidden files and folders.

    Links to files are followed; links to folders are not (no cycles).

    Args:
        root: the folder.
        select: takes the relative POSIX path of a file; false skips it.

    Raises:
        ImportDataError: a selected entry is not a regular file (a FIFO, device, socket, or a link
            to one or to nothing); the message names it.
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
            elif entry.is_dir() or not select("/".join(names)):
                continue
            elif entry.is_file():
                yield names
            else:
                raise ImportDataError(
                    f"{entry.path}: not a regular file ({_kind(entry.path)}); only regular files are imported; "
                    "remove it or skip it with --exclude"
                )


def _kind(path: str | os.PathLike, mode: int | None = None) -> str:
    """What a file that is not a regular file is, in words."""
    if mode is None:
        try:
            mode = os.stat(path).st_mode
        except OSError:
            return "a link to nothing"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a file"


def read_file(path: str | os.PathLike, origin: str | None = None) -> bytes:
    """Read a whole regular file, no more than the size it had when it was opened.

    It is opened without blocking (a FIFO never makes it wait) and checked before reading.

    Raises:
        ImportDataError: the file cannot be opened, is not a regular file (a FIFO, a device such
            as ``/dev/zero``, a socket) or is larger than :data:`MAX_FILE_SIZE`; the message names
            ``origin`` (default: the path).
    """
    where = origin or os.fspath(path)
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise ImportDataError(f"{where}: cannot read the file: {exc.strerror or exc}") from None
    with open(descriptor, "rb") as f:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise ImportDataError(
                f"{where}: not a regular file ({_kind(path, info.st_mode)}); only regular files are imported"
            )
        if info.st_size > MAX_FILE_SIZE:
            raise ImportDataError(f"{where}: {info.st_size} bytes, more than one sample can hold ({MAX_FILE_SIZE})")
        try:
            return f.read(info.st_size)
        except OSError as exc:
            raise ImportDataError(f"{where}: cannot read the file: {exc.strerror or exc}") from None


class FileRoot:
    """Where the file paths in the rows of a list or table lead.

    Relative paths start at ``base``. When ``confined`` (``--root`` was given), every path,
    relative or absolute, must resolve inside ``base`` after ``..`` and symbolic links are
    followed; without it, paths are trusted as written (absolute ones included).

    Args:
        base: the folder relative paths start from.
        confined: refuse paths that lead outside ``base``.
    """

    def __init__(self, base: Path, confined: bool) -> None:
        self.base = base
        self.confined = confined
        self._real = os.path.realpath(base) if confined else ""

    def path(self, value: str, origin: str) -> Path:
        """The file that ``value`` names.

        Raises:
            ImportDataError: ``value`` leads outside a confined root; the message names ``origin``.
        """
        path = self.base / value
        if not self.confined:
            return path
        real = os.path.realpath(path)
        if os.path.commonpath((self._real, real)) != self._real:
            raise ImportDataError(
                f"{origin}: {value} lies outside --root {self.base} (following .. and symbolic links); "
                "only files inside the root are imported"
            )
        return Path(real)
