"""The local storage: a dataset in a local folder (a plain path or a ``file://`` URL), memory-mapped.

:class:`FileSource` is the byte source; :class:`LocalIndexSource` is what it shares with sources
that keep a dataset's index files in a local folder (the remote cache). Registered for plain paths
and ``file://`` URLs, the same way every storage is (:func:`~dings.readers.register_storage`).
"""

from __future__ import annotations

import mmap
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dings.format import (
    Generation,
    IncompleteCommitError,
    VerificationReport,
    check_committed,
    check_generation,
    check_md5,
    check_structure,
    data_path,
    open_index_file,
    pin_generation,
)
from dings.format import verify as verify_dataset

from .byte_source import INDEX_FILES, ByteSource
from .remote_fs import local_path
from .storages import register_storage

__all__ = ["FileSource", "LocalIndexSource", "open_local"]


class LocalIndexSource(ByteSource):
    """A byte source whose index files lie in a local folder, next to :attr:`index_base`.

    Attributes:
        index_base: a local path ``NAME.msgpack`` next to which the index files lie (the data file
            itself need not exist there).
    """

    index_base: Path

    @property
    def path(self) -> Path:
        return self.index_base

    def index_name(self, suffix: str) -> str:
        return f"{self.index_base}{suffix}"  # what index_path gives, without parsing paths again

    def index_size(self, suffix: str) -> int | None:
        target = self.index_name(suffix)
        try:
            info = os.stat(target)
        except FileNotFoundError:
            return None
        if not stat.S_ISREG(info.st_mode):
            open_index_file(target).close()  # raises, naming what the file is instead
        return info.st_size

    def read_index(self, suffix: str, begin: int = 0, end: int | None = None) -> bytes:
        with open_index_file(self.index_name(suffix)) as f:
            if end is None:
                end = os.fstat(f.fileno()).st_size
            return os.pread(f.fileno(), max(0, end - begin), begin)

    def map_index(self, suffix: str) -> mmap.mmap | None:
        with open_index_file(self.index_name(suffix)) as f:
            if not os.fstat(f.fileno()).st_size:
                return None
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)

    def verify_data(self, progress: bool | None = False) -> bool:
        report = VerificationReport(self.index_base)
        check_md5(report, self.index_base, only=[self.index_base.name], progress=progress)
        return report.ok

    def index_problems(self, progress: bool | None = False) -> list[str]:
        report = VerificationReport(self.index_base)
        check_md5(report, self.index_base, only=[self.index_base.name + s for s in INDEX_FILES], progress=progress)
        check_structure(report, self.index_base)
        return report.problems

    def verify(self, index_problems: Callable[[], list[str]], length: Callable[[], int]) -> VerificationReport:
        """Every check of :func:`dings.format.verify` on the local files."""
        return verify_dataset(self.index_base)


class FileSource(LocalIndexSource):
    """A local data file, memory-mapped when first read.

    Args:
        path: the data file or any of its index files.

    Raises:
        FileNotFoundError: the data file is missing or not a file.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.index_base = data_path(path)
        self.name = str(self.index_base)
        # one stat of the data file; the reader then looks for the offsets index
        try:
            info = os.stat(self.index_base)
        except FileNotFoundError:
            raise FileNotFoundError(f"{self.index_base}: data file not found") from None
        if not stat.S_ISREG(info.st_mode):
            raise FileNotFoundError(f"{self.index_base}: is not a file")
        self._size = info.st_size
        self._generation = Generation(info.st_dev, info.st_ino)
        self._map: mmap.mmap | None = None
        self._view: memoryview | None = None

    def size(self) -> int:
        return self._size

    def view(self) -> memoryview:
        if self._view is None:
            with open(self.index_base, "rb") as f:
                if pin_generation(f.fileno()) != self._generation:
                    raise IncompleteCommitError(
                        f"{self.index_base}: the dataset was replaced while it was open; open it again",
                        path=self.index_base,
                    )
                size = os.fstat(f.fileno()).st_size
                self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else None
            self._size = size
            self._view = memoryview(self._map) if self._map is not None else memoryview(b"")
        return self._view

    def fetch(self, begin: int, end: int) -> memoryview:
        return self.view()[begin:end]

    def check_generation(self) -> None:
        check_generation(self.index_base, self._generation)

    def bytes_view(self) -> Any:
        """The memory map itself (slicing it gives ``bytes`` in one step), or ``b""`` for an empty file."""
        self.view()
        return self._map if self._map is not None else b""

    def close(self) -> None:
        if self._view is not None:
            self._view.release()
            self._view = None
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:  # a zero-copy sample still references the map; it closes with it
                pass
            self._map = None

    def copy(self) -> FileSource:
        clone = object.__new__(FileSource)
        clone.__dict__.update(self.__dict__)
        clone._map = clone._view = None
        return clone

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_map"] = state["_view"] = None
        return state


def open_local(path: str | os.PathLike, **options: Any) -> FileSource:
    """The local storage's factory: a :class:`FileSource` for a path or ``file://`` URL.

    A half-committed dataset is finished (or refused) first, never read.

    Raises:
        TypeError: an option was given (local files take none).
        FileNotFoundError: the data file is missing.
    """
    if options:
        raise TypeError(
            f"{path}: a local dataset takes no storage options, got {', '.join(sorted(options))}; "
            "they are for URLs (see dings.readers.RemoteMsgpackReader)"
        )
    local = local_path(path)
    check_committed(local)
    return FileSource(local)


register_storage("", open_local)
register_storage("file", open_local)
