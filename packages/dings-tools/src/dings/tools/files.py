"""Open compressed source files transparently, load JSON, and derive file names from paths."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import zipfile
from pathlib import Path
from typing import IO, Any, cast

from dings.format import parse_json

__all__ = ["load_json", "open_comp", "path_append", "path_append_suffix"]

_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"BZh", "bz2"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # empty archive
)
_EXTENSIONS = {".gz": "gzip", ".gzip": "gzip", ".xz": "xz", ".lzma": "xz", ".bz2": "bz2", ".zip": "zip"}


def _sniff(path: Path) -> str | None:
    with open(path, "rb") as f:
        head = f.read(6)
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return None


def _split_zip_member(path: Path) -> tuple[Path, str] | None:
    """``a/b.zip/c/d.json`` -> (``a/b.zip``, ``c/d.json``) when ``a/b.zip`` is a file."""
    for parent in path.parents:
        if parent.is_file():
            if zipfile.is_zipfile(parent):
                return parent, path.relative_to(parent).as_posix()
            return None
    return None


def _open_zip(archive: Path, member: str | None, binary: bool, encoding: str | None) -> IO[Any]:
    zf = zipfile.ZipFile(archive)
    try:
        if member is None:
            files = [info for info in zf.infolist() if not info.is_dir()]
            if len(files) != 1:
                raise ValueError(
                    f"{archive}: zip archive holds {len(files)} files, not 1; open one of them as '{archive}/<member>'"
                )
            member = files[0].filename
        try:
            handle: IO[Any] = zf.open(member)
        except KeyError:
            raise FileNotFoundError(f"{archive}: zip archive has no member {member!r}") from None
    finally:
        zf.close()  # the open member keeps the archive file open until it is closed itself
    if binary:
        return handle
    return io.TextIOWrapper(handle, encoding=encoding or "utf-8")


def open_comp(
    path: str | os.PathLike,
    mode: str = "rb",
    level: int | None = None,
    encoding: str | None = None,
) -> IO[Any]:
    """Open a plain, gzip, xz, bz2 or zip-compressed file, decompressing transparently.

    Reading detects the compression from the file's magic bytes (so a misnamed file still
    works); writing chooses it from the extension (``.gz``, ``.xz``/``.lzma``, ``.bz2``, else plain).
    A zip archive is read-only and opens its single file; for an archive with several files name
    the member inside it like a folder: ``archive.zip/dir/file.json``. Text modes use UTF-8 unless
    ``encoding`` says otherwise. Writing is not atomic: write to a temporary name and
    ``os.replace`` it into place when done.

    Args:
        path: the file, or ``archive.zip/member`` for a file in a zip archive.
        mode: ``"rb"``, ``"rt"``/``"r"``, ``"wb"``, ``"wt"``/``"w"``, ``"ab"``, ``"xb"`` … like ``open``.
        level: compression level (gzip/bz2 1-9, xz preset 0-9) when writing; default of the codec.
        encoding: text encoding for text modes.

    Returns:
        A file object; use it in a ``with`` block.

    Raises:
        FileNotFoundError: the file (or zip member) does not exist.
        ValueError: bad mode, writing a zip, or a zip with several files and no member named.
    """
    path = Path(path)
    kind_of_mode = mode.replace("b", "").replace("t", "").replace("+", "")
    if kind_of_mode not in ("r", "w", "a", "x") or ("b" in mode and "t" in mode) or "+" in mode:
        raise ValueError(f"open_comp: unsupported mode {mode!r} for {path}; use r/w/a/x with b or t")
    binary = "b" in mode
    text_encoding = None if binary else (encoding or "utf-8")
    plain_mode = kind_of_mode + ("b" if binary else "t")
    if kind_of_mode == "r":
        if not path.exists():
            inside = _split_zip_member(path)
            if inside is None:
                raise FileNotFoundError(f"{path}: no such file")
            return _open_zip(inside[0], inside[1], binary, encoding)
        kind = _sniff(path)
    else:
        kind = _EXTENSIONS.get(path.suffix.lower())
        if kind == "zip":
            raise ValueError(f"open_comp: cannot write zip archives ({path}); use .gz, .xz or .bz2")
    if kind == "zip":
        return _open_zip(path, None, binary, encoding)
    writing = kind_of_mode != "r"
    if kind == "gzip":
        kwargs: dict[str, Any] = {"compresslevel": level} if writing and level is not None else {}
        return cast(IO[Any], gzip.open(path, plain_mode, encoding=text_encoding, **kwargs))
    if kind == "xz":
        kwargs = {"preset": level} if writing and level is not None else {}
        return lzma.open(path, plain_mode, encoding=text_encoding, **kwargs)
    if kind == "bz2":
        kwargs = {"compresslevel": level} if writing and level is not None else {}
        return bz2.open(path, plain_mode, encoding=text_encoding, **kwargs)
    return open(path, plain_mode, encoding=text_encoding)


def load_json(path: str | os.PathLike) -> Any:
    """Load a JSON file, plain or compressed (anything :func:`open_comp` reads).

    Args:
        path: the file, or ``archive.zip/member``.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not valid JSON or nested too deeply (the message names the file and
            the position).
    """
    with open_comp(path, "rb") as f:
        data = f.read()
    return parse_json(data, os.fspath(path), ValueError)


def path_append(path: str | os.PathLike, string: str, before_suffix: bool = False) -> Path:
    """Append ``string`` to the file name of ``path``.

    As in datadings, the text goes at the very end of the name: ``a/b.msgpack`` + ``"_x"`` gives
    ``a/b.msgpack_x``. With ``before_suffix=True`` it goes before the last suffix instead:
    ``a/b_x.msgpack``.

    Args:
        path: the path to change.
        string: what to append (datadings' name for the argument).
        before_suffix: insert before the last suffix (``.msgpack``) instead of after it.

    Raises:
        ValueError: the path has no file name (``/``, ``.``, ``""``).
    """
    path = Path(path)
    if not path.name:
        raise ValueError(f"path_append: {str(path)!r} has no file name to append {string!r} to")
    if before_suffix and path.suffix:
        return path.with_name(path.stem + string + path.suffix)
    return path.with_name(path.name + string)


def path_append_suffix(path: str | os.PathLike, suffix: str) -> Path:
    """Return ``path`` ending with ``suffix``, appending it only if it is not already there.

    ``some.file`` + ``".txt"`` gives ``some.file.txt``; ``some.file`` + ``".file"`` stays
    ``some.file``. A suffix without a leading dot is appended as is (``some.filetxt``), like
    :func:`path_append`.

    Args:
        path: the path.
        suffix: the ending it must have, e.g. ``".msgpack"``.

    Raises:
        ValueError: the path has no file name.
    """
    path = Path(path)
    if path.name.endswith(suffix) and path.name:
        return path
    return path_append(path, suffix)
