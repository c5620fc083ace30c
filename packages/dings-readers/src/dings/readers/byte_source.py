"""Byte sources: where the bytes of a data file come from, under one :class:`MsgpackReader`.

A :class:`~dings.readers.MsgpackReader` owns the index logic, key look-up and decoding; a byte
source only hands out bytes of the data file and says where its index files lie. :class:`FileSource`
memory-maps a local file; :class:`~dings.readers.remote.RemoteSource` fetches byte ranges of a URL
and keeps a verified local cache.
"""

from __future__ import annotations

import mmap
import os
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from dings.format import (
    Generation,
    IncompleteCommitError,
    VerificationReport,
    check_generation,
    check_md5,
    check_structure,
    data_path,
    index_path,
    pin_generation,
)
from dings.format import verify as verify_dataset

__all__ = ["ByteSource", "FileSource", "BLOCK_SIZE"]

#: sequential reads of a local file decode blocks of about this many bytes at a time
BLOCK_SIZE = 1 << 22


def _starts_with_map(path: str | os.PathLike) -> bool:
    """Whether the file at ``path`` starts like a dataset: a msgpack map (an empty file counts too)."""
    with open(path, "rb") as f:
        first = f.read(1)
    return not first or 0x80 <= first[0] <= 0x8F or first[0] in (0xDE, 0xDF)


class ByteSource:
    """The bytes of one data file, and the local folder where its index files lie.

    Attributes:
        name: the file's path or URL, for messages.
        index_base: a local path ``NAME.msgpack`` next to which the index files lie (the data file
            itself need not exist there).
        block_size: bytes a sequential pass reads at once.
    """

    name: str
    index_base: Path
    block_size: int = BLOCK_SIZE
    #: whether the dataset has only a legacy ``.index`` (no ``.offsets``)
    legacy: bool = False

    @property
    def fetches_concurrently(self) -> bool:
        """Whether :meth:`fetch_many` sends its requests concurrently."""
        return False

    def size(self) -> int:
        """The data file's size in bytes."""
        raise NotImplementedError

    def view(self) -> memoryview | None:
        """A zero-copy view of the whole file (opened again after :meth:`close`), or None when the
        bytes must be fetched with :meth:`fetch`."""
        return None

    def fetch(self, begin: int, end: int) -> bytes | memoryview:
        """Bytes ``begin`` … ``end - 1``."""
        view = self.view()
        assert view is not None
        return view[begin:end]

    def fetch_many(self, ranges: Sequence[tuple[int, int]]) -> list[bytes | memoryview]:
        """The bytes of every ``(begin, end)`` in ``ranges``, in that order."""
        return [self.fetch(begin, end) for begin, end in ranges]

    def ensure_index(self) -> None:
        """Make sure the index files are present under :attr:`index_base` (remote: fetched again if evicted)."""

    def check_generation(self) -> None:
        """Raise if the dataset was replaced since the source was opened (call after loading an index file)."""

    def verify_data(self, progress: bool | None = False) -> bool:
        """Whether the data file matches its md5 file."""
        report = VerificationReport(self.index_base)
        check_md5(report, self.index_base, only=[self.index_base.name], progress=progress)
        return report.ok

    def index_problems(self, progress: bool | None = False) -> list[str]:
        """What is wrong with the index files (md5 and agreement with the data); empty when nothing."""
        report = VerificationReport(self.index_base)
        names = [self.index_base.name + s for s in (".offsets", ".keys", ".key_hashes", ".filter")]
        check_md5(report, self.index_base, only=names, progress=progress)
        check_structure(report, self.index_base)
        return report.problems

    def verify(self, index_problems: Callable[[], list[str]], length: Callable[[], int]) -> VerificationReport:
        """Every check of :func:`dings.format.verify`.

        Args:
            index_problems: the reader's check of its index files (for sources that cannot run
                :func:`dings.format.verify` on local files).
            length: the reader's ``len``.
        """
        return verify_dataset(self.index_base)

    def close(self) -> None:
        """Release files and buffers; reading again opens them again."""

    def copy(self) -> ByteSource:
        """An independent source over the same file (its own buffers)."""
        raise NotImplementedError


class FileSource(ByteSource):
    """A local data file, memory-mapped when first read.

    Args:
        path: the data file or any of its index files.

    Raises:
        FileNotFoundError: the data file or its index (``.offsets`` or legacy ``.index``) is missing.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.index_base = data_path(path)
        self.name = str(self.index_base)
        # one stat of the data file and one of the offsets index; everything else is read lazily
        try:
            info = os.stat(self.index_base)
        except FileNotFoundError:
            raise FileNotFoundError(f"{self.index_base}: data file not found") from None
        if not stat.S_ISREG(info.st_mode):
            raise FileNotFoundError(f"{self.index_base}: is not a file")
        self._size = info.st_size
        self._generation = Generation(info.st_dev, info.st_ino)
        self.legacy = not os.path.exists(index_path(self.index_base, ".offsets"))
        if self.legacy and not os.path.exists(index_path(self.index_base, ".index")):
            if not _starts_with_map(self.index_base):
                raise FileNotFoundError(
                    f"{self.index_base}: is not a dings dataset (no index files, and it does not start with a msgpack map)"
                )
            raise FileNotFoundError(
                f"{self.index_base}: no index found ({self.index_base.name}.offsets or legacy {self.index_base.name}.index); "
                "rewrite the dataset or restore its index files"
            )
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
