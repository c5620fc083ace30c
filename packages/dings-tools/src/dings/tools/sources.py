"""Source files of a dataset: find them, download what is missing, check their md5.

A converter describes its source files as a mapping of names to specs::

    FILES = {
        "train": {"path": "train.zip", "url": "https://example.org/train.zip", "md5": "56ad5c…"},
        "test": {"path": "test.zip", "url": None, "md5": "903ec6…",
                 "instructions": "register at https://example.org/register and download test.zip"},
    }

``path`` is relative to the input folder (``indir``); ``url`` may be missing or ``None`` for files that
need a manual download, in which case ``instructions`` tells the user how to obtain them; ``md5`` may
be missing or ``None`` for files that have no published checksum (they are then not verified).
A manual source without ``md5`` may also be a folder (e.g. an archive the user unpacked by hand); it
counts as present when that folder exists.
:func:`prepare_indir` downloads, verifies and returns the specs with absolute ``path`` values.

Errors: :class:`SourceFileError` is the base; a missing file raises :class:`MissingSourceFileError`
(also a ``FileNotFoundError``), a wrong md5 :class:`ChecksumMismatchError` and a malformed md5 file
:class:`Md5FileError` (both also ``ValueError``). Failed downloads raise
:class:`dings.tools.download.DownloadError` (an ``OSError``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dings.format import progress_bar

from .download import download

__all__ = [
    "ChecksumMismatchError",
    "Md5FileError",
    "MissingSourceFileError",
    "SourceFileError",
    "download_files_if_not_found",
    "download_if_not_found",
    "hash_md5hex",
    "load_md5file",
    "locate_files",
    "prepare_indir",
    "verify_file",
    "verify_files",
]

PathLike = str | os.PathLike
FileSpecs = Mapping[str, Mapping[str, Any]]

_HEX32 = re.compile(r"[0-9a-fA-F]{32}")
#: GNU md5sum: ``<hex> <space or *><name>``, optionally starting with ``\`` when the name is escaped;
#: a single space (written by some tools) is accepted too
_GNU_LINE = re.compile(r"(\\?)([0-9a-fA-F]{32}) [ *]?(.+)")
#: BSD md5 (``md5 -r`` prints the GNU form): ``MD5 (<name>) = <hex>``
_BSD_LINE = re.compile(r"MD5 \((.+)\) = ([0-9a-fA-F]{32})")


class SourceFileError(Exception):
    """Base class of the errors about a dataset's source files."""


class MissingSourceFileError(SourceFileError, FileNotFoundError):
    """A source file is not in the input folder and cannot be downloaded automatically."""


class ChecksumMismatchError(SourceFileError, ValueError):
    """A source file's md5 differs from the expected one.

    Attributes:
        name: the file's name in the specs.
        path: the file.
        expected: the md5 the specs give.
        actual: the md5 of the file.
    """

    def __init__(self, message: str, name: str = "", path: PathLike = "", expected: str = "", actual: str = ""):
        super().__init__(message)
        self.name = name
        self.path = Path(path)
        self.expected = expected
        self.actual = actual


class Md5FileError(SourceFileError, ValueError):
    """An md5sum-style checksum file has a malformed or contradictory line."""


def hash_md5hex(path: PathLike, read_size: int = 1 << 22, progress: bool | None = False) -> str:
    """Return the md5 of a file as 32 lowercase hex digits, reading it in large blocks.

    The arguments are in datadings' order.

    Args:
        path: the file.
        read_size: bytes read at a time.
        progress: show a progress bar with bytes and rate.

    Raises:
        TypeError: ``read_size`` is not an int (a bool there is an old-order ``progress``).
        ValueError: ``read_size`` is below 1.
    """
    if isinstance(read_size, bool) or not isinstance(read_size, int):
        raise TypeError(
            f"hash_md5hex: read_size must be an int (bytes), got {read_size!r}; pass progress= as a keyword"
        )
    if read_size < 1:
        raise ValueError(f"hash_md5hex: read_size must be at least 1 byte, got {read_size}")
    path = Path(path)
    md5 = hashlib.md5()
    buffer = bytearray(read_size)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as f:
        size = os.fstat(f.fileno()).st_size
        with progress_bar(total=size, desc=f"md5 {path.name}", unit="B", enabled=progress) as bar:
            while n := f.readinto(buffer):
                md5.update(view[:n])
                bar.update(n)
    return md5.hexdigest()


def load_md5file(path: PathLike) -> dict[str, str]:
    """Load an md5sum-style checksum file as file name → lowercase md5 hex digest.

    Accepts the lines ``md5sum`` writes (``<hex>  <name>``, ``<hex> *<name>`` for binary mode, and
    ``\\<hex>  <name>`` with ``\\\\`` and ``\\n`` escaped in the name), ``<hex> <name>`` with one
    space, and BSD's ``MD5 (<name>) = <hex>``.
    Empty lines and lines starting with ``#`` are skipped.

    Args:
        path: the checksum file.

    Raises:
        Md5FileError: a line has neither form, or a name is listed twice with different digests;
            the message names the file and line number.
        FileNotFoundError: the file does not exist.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise Md5FileError(f"{path}: not a text file of md5 checksums ({exc.reason} at byte {exc.start})") from None
    result: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, digest = _parse_md5_line(line)
        if name is None:
            raise Md5FileError(
                f"{path}:{number}: expected '<32 hex digits>  <file name>' (md5sum format), got {line[:80]!r}"
            )
        digest = digest.lower()
        if result.get(name, digest) != digest:
            raise Md5FileError(f"{path}:{number}: {name!r} is listed again with a different md5 ({digest})")
        result[name] = digest
    return result


def _parse_md5_line(line: str) -> tuple[str | None, str]:
    line = line.rstrip("\r")
    if match := _GNU_LINE.fullmatch(line):
        escaped, digest, name = match.groups()
        if escaped:
            name = re.sub(r"\\(.)", lambda m: {"\\": "\\", "n": "\n", "r": "\r"}.get(m.group(1), m.group(0)), name)
        return name, digest
    if match := _BSD_LINE.fullmatch(line):
        return match.group(1), match.group(2)
    return None, ""


def locate_files(files: FileSpecs, indir: PathLike) -> dict[str, dict[str, Any]]:
    """Return a copy of ``files`` whose ``path`` values are absolute :class:`~pathlib.Path` objects in ``indir``.

    Args:
        files: name → spec with at least ``path`` (relative to ``indir``; see the module docstring).
        indir: the input folder.

    Raises:
        ValueError: a spec is not a mapping, has no ``path``, or has an ``md5`` that is not 32 hex digits.
    """
    base = Path(os.path.abspath(indir))
    located = {}
    for name, spec in files.items():
        if not isinstance(spec, Mapping):
            raise ValueError(f"files[{name!r}]: expected a mapping with 'path', 'url' and 'md5', got {spec!r}")
        if not spec.get("path"):
            raise ValueError(f"files[{name!r}]: has no 'path'; give the file's path relative to the input folder")
        md5 = spec.get("md5")
        if md5 is not None and not (isinstance(md5, str) and _HEX32.fullmatch(md5)):
            raise ValueError(f"files[{name!r}]: 'md5' must be 32 hex digits or None, got {md5!r}")
        located[name] = {**spec, "path": base / spec["path"]}
    return located


def verify_files(files: FileSpecs, indir: PathLike, progress: bool | None = True) -> dict[str, dict[str, Any]]:
    """Check the md5 of every file in ``files`` that has one; return the specs with absolute paths.

    Args:
        files: name → spec (see :func:`locate_files`); specs without ``md5`` are not checked.
        indir: the input folder.
        progress: show a progress bar while hashing.

    Raises:
        MissingSourceFileError: a file with an ``md5`` does not exist.
        ChecksumMismatchError: a file's md5 differs; the first such file is reported.
    """
    located = locate_files(files, indir)
    for name, spec in located.items():
        _verify_one(name, spec, progress, downloaded=False)
    return located


def verify_file(meta: Mapping[str, Any], indir: PathLike, progress: bool | None = True) -> None:
    """Check the md5 of one source file (datadings' ``verify_file``), showing a progress bar.

    Unlike datadings, which prints a message and exits, a mismatch raises an exception.

    Args:
        meta: the file's spec, with ``path`` (relative to ``indir``) and ``md5`` (or ``None``: not checked).
        indir: the input folder.
        progress: show a progress bar while hashing.

    Raises:
        MissingSourceFileError: the file does not exist.
        ChecksumMismatchError: its md5 differs.
    """
    name = os.path.basename(os.fspath(meta.get("path", "")))
    spec = locate_files({name: meta}, indir)[name]
    _verify_one(name, spec, progress, downloaded=False)


def download_if_not_found(url: str, path: PathLike, progress: bool | None = True, **download_options: Any) -> Path:
    """Download ``url`` to ``path`` unless ``path`` exists (datadings' ``download_if_not_found``).

    Missing parent folders are created; the download resumes and never leaves a partial file at
    ``path`` (see :func:`dings.tools.download.download`). Unlike datadings, which exits the
    program, a failed download raises.

    Args:
        url: where to download from.
        path: the file.
        progress: show a progress bar.
        download_options: passed on to :func:`dings.tools.download.download`.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        dings.tools.download.DownloadError: the download failed.
    """
    path = Path(path)
    if not path.exists():
        download(url, path, progress=progress, **download_options)
    return path


def download_files_if_not_found(
    files: FileSpecs, indir: PathLike, progress: bool | None = True, **download_options: Any
) -> None:
    """Run :func:`download_if_not_found` for every spec in ``files`` that has a ``url``.

    Args:
        files: name → spec with ``path`` (relative to ``indir``) and ``url``.
        indir: the input folder.
        progress: show progress bars.
        download_options: passed on to :func:`dings.tools.download.download`.

    Raises:
        dings.tools.download.DownloadError: a download failed.
    """
    for spec in locate_files(files, indir).values():
        if spec.get("url"):
            download_if_not_found(spec["url"], spec["path"], progress, **download_options)


def _verify_one(name: str, spec: Mapping[str, Any], progress: bool | None, downloaded: bool) -> None:
    expected = spec.get("md5")
    if expected is None:
        return
    path: Path = spec["path"]
    if not path.is_file():
        raise MissingSourceFileError(f"{path}: source file {name!r} is missing; run prepare_indir to obtain it")
    expected = expected.lower()
    actual = hash_md5hex(path, progress=progress)
    if actual == expected:
        return
    if downloaded:
        advice = (
            f"the server at {spec.get('url')} sent different content; delete the file and run again to "
            "re-download it, and if that fails the file on the server has changed"
        )
    elif spec.get("url"):
        advice = "the file is damaged, incomplete or another version; delete it and run again to re-download it"
    else:
        advice = f"the file is damaged or another version; replace it ({_how_to_obtain(spec)})"
    raise ChecksumMismatchError(
        f"{path}: md5 mismatch for source file {name!r}: expected {expected}, got {actual}; {advice}",
        name,
        path,
        expected,
        actual,
    )


def _present(spec: Mapping[str, Any]) -> bool:
    """A source is there as a file, or as a folder when it is manual and has no md5 (unpacked by hand)."""
    path: Path = spec["path"]
    return path.is_file() or (path.is_dir() and not spec.get("url") and spec.get("md5") is None)


def _how_to_obtain(spec: Mapping[str, Any]) -> str:
    instructions = spec.get("instructions")
    return str(instructions).strip().rstrip(".") if instructions else "see the dataset's homepage"


def prepare_indir(
    files: FileSpecs,
    indir: PathLike | argparse.Namespace,
    skip_verification: bool = False,
    progress: bool | None = True,
    **download_options: Any,
) -> dict[str, dict[str, Any]]:
    """Make sure every source file is in ``indir``: download what is missing, then check md5s.

    Files needing a manual download are checked first, so a missing one is reported before any long
    download starts. Files that exist are not downloaded again.

    Args:
        files: name → spec with ``path`` (relative to ``indir``), ``url`` (or ``None`` for a manual
            download), ``md5`` (or ``None``: not verified) and optionally ``instructions`` (how to
            obtain a manual download, e.g. where to register).
        indir: the input folder; created when a download needs it. As in datadings, it may also be
            the parsed arguments of a converter: their ``indir``, and their ``skip_verification``
            if it is set, are used.
        skip_verification: do not compute md5s (files are still downloaded).
        progress: show progress bars for downloads and hashing.
        download_options: passed on to :func:`dings.tools.download.download` (``retries``,
            ``timeout``, ``chunk_size``, ``backoff``, …).

    Returns:
        A copy of ``files`` whose ``path`` values are absolute :class:`~pathlib.Path` objects.

    Raises:
        MissingSourceFileError: a file without ``url`` is missing; the message says how to obtain it
            and where to put it.
        ChecksumMismatchError: a file's md5 differs (names the file, both digests and what to do).
        dings.tools.download.DownloadError: a download failed.
    """
    if isinstance(indir, argparse.Namespace):  # datadings' prepare_indir(files, args)
        if getattr(indir, "indir", None) is None:
            raise ValueError("prepare_indir: the parsed arguments have no 'indir'; pass the input folder")
        skip_verification = skip_verification or bool(getattr(indir, "skip_verification", False))
        indir = indir.indir
    located = locate_files(files, indir)
    for name, spec in located.items():
        if not _present(spec) and not spec.get("url"):
            raise MissingSourceFileError(
                f"{spec['path']}: source file {name!r} must be downloaded by hand: {_how_to_obtain(spec)}; "
                f"then put it at {spec['path']} and run again"
            )
    downloaded = set()
    for name, spec in located.items():
        if not _present(spec):
            download(spec["url"], spec["path"], progress=progress, **download_options)
            downloaded.add(name)
    if not skip_verification:
        for name, spec in located.items():
            _verify_one(name, spec, progress, downloaded=name in downloaded)
    return located
