"""Storages: which byte source reads a path or URL, chosen by its scheme.

``MsgpackReader(path_or_url, **options)`` looks the scheme up here and opens the byte source the
registered factory returns. Built in: plain paths and ``file://`` (local files, memory-mapped),
``http(s)://`` and fsspec schemes (``s3://``, ``gs://``, ``az://``, …; any other scheme is handed
to fsspec too). Add your own with :func:`register_storage`.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .byte_source import ByteSource

__all__ = ["Storage", "ANY_SCHEME", "register_storage", "unregister_storage", "storage_for", "url_scheme"]

#: the scheme a storage is registered under to read URLs whose scheme has no storage of its own
ANY_SCHEME = "*"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)(?:://|::)")
_SCHEME_NAME = re.compile(r"^[a-z][a-z0-9+.\-]*$")


@dataclass(frozen=True)
class Storage:
    """A registered storage.

    Attributes:
        scheme: the URL scheme it reads (``""`` for plain paths, ``"*"`` for any other).
        factory: ``factory(url, **options)`` returns the :class:`~dings.readers.ByteSource` of the
            data file at ``url`` (or of the data file of the index file at ``url``).
        reader: the :class:`~dings.readers.MsgpackReader` subclass ``MsgpackReader(url)`` returns,
            or None for ``MsgpackReader`` itself.
    """

    scheme: str
    factory: Callable[..., ByteSource]
    reader: type | None = None

    def open(self, url: str | os.PathLike, **options: Any) -> ByteSource:
        """The byte source of the dataset at ``url``; ``options`` go to the factory."""
        return self.factory(url, **options)


_storages: dict[str, Storage] = {}
_lock = threading.Lock()


def url_scheme(path: str | os.PathLike) -> str:
    """The scheme of ``path`` in lower case: ``"s3"`` for ``s3://…``, ``""`` for a plain path."""
    match = _SCHEME.match(path) if isinstance(path, str) else None
    return match.group(1).lower() if match else ""


def register_storage(
    scheme: str, factory: Callable[..., ByteSource], *, reader: type | None = None, replace: bool = False
) -> None:
    """Read URLs ``scheme://…`` through byte sources made by ``factory``.

    Args:
        scheme: the URL scheme (case-insensitive), ``""`` for plain paths, or ``"*"`` for URLs whose
            scheme has no storage of its own.
        factory: ``factory(url, **options)`` returns a :class:`~dings.readers.ByteSource`; it gets
            the URL as given and the keyword arguments given to ``MsgpackReader`` besides
            ``allow_unsafe`` and ``verify``.
        reader: the :class:`~dings.readers.MsgpackReader` subclass that ``MsgpackReader(url)``
            returns (default: ``MsgpackReader`` itself).
        replace: replace a storage registered for ``scheme`` (otherwise that is an error).

    Raises:
        ValueError: ``scheme`` is not a scheme name, or already has a storage and ``replace`` is not set.
        TypeError: ``factory`` is not callable.
    """
    name = scheme.lower()
    if name not in ("", ANY_SCHEME) and not _SCHEME_NAME.match(name):
        raise ValueError(f"{scheme!r} is not a URL scheme (letters, digits, '+', '-', '.'; starting with a letter)")
    if not callable(factory):
        raise TypeError(f"storage {scheme!r}: the factory must be callable, got {type(factory).__name__}")
    with _lock:
        if name in _storages and not replace:
            raise ValueError(
                f"storage {scheme!r} is already registered ({_storages[name].factory!r}); pass replace=True to replace it"
            )
        _storages[name] = Storage(name, factory, reader)


def unregister_storage(scheme: str) -> None:
    """Forget the storage registered for ``scheme`` (nothing happens when there is none)."""
    with _lock:
        _storages.pop(scheme.lower(), None)


def storage_for(path: str | os.PathLike) -> Storage:
    """The storage that reads ``path``: by its URL scheme, else the one for any scheme.

    Raises:
        ValueError: no storage reads this scheme (register one with :func:`register_storage`).
    """
    scheme = url_scheme(path)
    found = _storages.get(scheme)
    if found is None and scheme:
        found = _storages.get(ANY_SCHEME)
    if found is None:
        what = f"{scheme}:// URLs" if scheme else "local paths"
        raise ValueError(
            f"{os.fspath(path)}: no storage reads {what}; register one with dings.readers.register_storage"
        )
    return found
