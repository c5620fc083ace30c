"""An in-memory storage (``mem://bucket/name.msgpack``): a dict of bytes, written as a user would write one.

It uses only public names of dings.readers: :class:`ByteSource` (the four required methods, and
optionally :meth:`ByteSource.view`), :func:`register_storage` and :func:`data_url`.
``memview://`` serves the same files through a zero-copy view.
"""

from __future__ import annotations

import os
from pathlib import Path

from dings.readers import ByteSource, data_url, register_storage, unregister_storage

#: every file of the storage: URL -> content
FILES: dict[str, bytes] = {}
SCHEMES = ("mem", "memview")


class MemorySource(ByteSource):
    """The data file at ``url`` and its index files, from :data:`FILES`."""

    def __init__(self, url: str, block_size: int | None = None) -> None:
        self.name = data_url(url)
        if self.name not in FILES:
            raise FileNotFoundError(f"{self.name}: data file not found")
        if block_size is not None:
            self.block_size = block_size
        self.fetched: list[tuple[int, int]] = []  # the ranges of the data file read with fetch

    def size(self) -> int:
        return len(FILES[self.name])

    def fetch(self, begin: int, end: int) -> bytes:
        self.fetched.append((begin, end))
        return FILES[self.name][begin:end]

    def index_size(self, suffix: str) -> int | None:
        content = FILES.get(self.name + suffix)
        return None if content is None else len(content)

    def read_index(self, suffix: str, begin: int = 0, end: int | None = None) -> bytes:
        try:
            return FILES[self.name + suffix][begin:end]
        except KeyError:
            raise FileNotFoundError(f"{self.name}{suffix}: not found") from None


class ViewedMemorySource(MemorySource):
    """The same, with the data file as one zero-copy view (like a memory map)."""

    def view(self) -> memoryview:
        return memoryview(FILES[self.name])


def register() -> None:
    """Register ``mem://`` and ``memview://``."""
    register_storage("mem", MemorySource, replace=True)
    register_storage("memview", ViewedMemorySource, replace=True)


def unregister() -> None:
    """Forget both storages and their files."""
    for scheme in SCHEMES:
        unregister_storage(scheme)
    FILES.clear()


def upload(data: str | os.PathLike, bucket: str, scheme: str = "mem") -> str:
    """Copy the local dataset ``data`` (the data file and every file beside it starting with its name)
    into the storage; return the data file's URL."""
    data = Path(data)
    url = f"{scheme}://{bucket}/{data.name}"
    for file in data.parent.iterdir():
        if file.name.startswith(data.name) and file.is_file():
            FILES[url + file.name[len(data.name) :]] = file.read_bytes()
    return url
