"""Byte sources: where the bytes of a dataset come from, under one :class:`~dings.readers.MsgpackReader`.

A :class:`~dings.readers.MsgpackReader` owns the index logic, key look-up and decoding; a byte
source only hands out bytes: ranges of the data file and of its index files (``NAME.msgpack``
plus ``.offsets``, ``.keys``, …). The reader checks everything it reads, so every storage
behaves the same. Storages (local files, fsspec URLs, HTTP, your own) are registered by URL
scheme with :func:`~dings.readers.register_storage`; see the package README, "Adding a storage".
"""

from __future__ import annotations

import copy as copy_module
import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from dings.format import (
    MD5_SUFFIX,
    CorruptIndexError,
    VerificationReport,
    check_index_size,
    index_size_limit,
    parse_md5,
)

__all__ = ["ByteSource", "BLOCK_SIZE", "INDEX_FILES", "read_index_file"]

#: sequential reads of a local file decode blocks of about this many bytes at a time
BLOCK_SIZE = 1 << 22
#: suffixes of the index files :meth:`ByteSource.index_problems` checks against the md5 file
INDEX_FILES = (".offsets", ".keys", ".key_hashes", ".filter")


class ByteSource:
    """The bytes of one data file and of its index files: what a storage implements.

    Implement :meth:`size`, :meth:`fetch`, :meth:`index_size` and :meth:`read_index` (and set
    :attr:`name`); everything else has a working default. A source that holds the whole data file
    in memory (or memory-maps it) returns it from :meth:`view`, which makes reading zero-copy.
    Nothing read from a source is trusted: the reader checks sizes before reading index files and
    checks every index against the data.

    Attributes:
        name: the data file's path or URL, for messages.
        block_size: bytes a sequential pass reads at once.
    """

    name: str
    block_size: int = BLOCK_SIZE

    @property
    def path(self) -> Path:
        """A path for the data file (``MsgpackReader.path``): the file itself when it is local, else its name."""
        return Path(self.name)

    @property
    def fetches_concurrently(self) -> bool:
        """Whether :meth:`fetch_many` sends its requests concurrently."""
        return False

    # --- the data file ---

    def size(self) -> int:
        """The data file's size in bytes."""
        raise NotImplementedError(f"{type(self).__name__}.size: a byte source must implement it")

    def view(self) -> memoryview | None:
        """A zero-copy view of the whole data file (opened again after :meth:`close`), or None when
        the bytes must be fetched with :meth:`fetch`."""
        return None

    def bytes_view(self) -> Any:
        """The whole data file as an object whose slices are ``bytes`` (a memory map), or None (the
        default): a sequential pass that copies slices it in one step instead of the :meth:`view`."""
        return None

    def fetch(self, begin: int, end: int) -> bytes | memoryview:
        """Bytes ``begin`` … ``end - 1`` of the data file."""
        view = self.view()
        if view is None:
            raise NotImplementedError(f"{type(self).__name__}.fetch: a byte source without view() must implement it")
        return view[begin:end]

    def fetch_many(self, ranges: Sequence[tuple[int, int]]) -> list[bytes | memoryview]:
        """The bytes of every ``(begin, end)`` in ``ranges``, in that order."""
        return [self.fetch(begin, end) for begin, end in ranges]

    # --- index files ---

    def index_name(self, suffix: str) -> str:
        """The index file ``suffix`` (``".offsets"``, …) as messages name it."""
        return self.name + suffix

    def index_size(self, suffix: str) -> int | None:
        """The size of the index file ``NAME.msgpack`` + ``suffix`` in bytes, or None when there is none.

        Raises:
            dings.format.CorruptIndexError: it exists but is not a regular file.
        """
        raise NotImplementedError(f"{type(self).__name__}.index_size: a byte source must implement it")

    def read_index(self, suffix: str, begin: int = 0, end: int | None = None) -> bytes:
        """Bytes ``begin`` … ``end - 1`` of the index file ``suffix`` (to its end when ``end`` is None).

        Raises:
            FileNotFoundError: there is no such index file.
        """
        raise NotImplementedError(f"{type(self).__name__}.read_index: a byte source must implement it")

    def map_index(self, suffix: str) -> Any:
        """A read-only memory map of the index file ``suffix`` that the caller closes, or None
        (the default) when the source reads index files with :meth:`read_index` only."""
        return None

    def ensure_index(self) -> None:
        """Make sure the index files can be read (a remote cache fetches evicted ones again)."""

    def check_generation(self) -> None:
        """Raise :class:`~dings.format.IncompleteCommitError` if the dataset was replaced since the
        source was opened (called after an index file was read)."""

    # --- integrity ---

    def checksums(self) -> dict[str, str]:
        """The md5 file: file name → hex digest (empty when the dataset has none)."""
        size = self.index_size(MD5_SUFFIX)
        if size is None:
            return {}
        where = self.index_name(MD5_SUFFIX)
        check_index_size(where, size, index_size_limit(MD5_SUFFIX, 0))
        return parse_md5(self.read_index(MD5_SUFFIX, 0, size), where)

    def _md5_of_data(self) -> str:
        md5 = hashlib.md5()
        size = self.size()
        for begin in range(0, size, self.block_size):
            md5.update(self.fetch(begin, min(size, begin + self.block_size)))
        return md5.hexdigest()

    def verify_data(self, progress: bool | None = False) -> bool:
        """Whether the data file matches its md5 file (False when there is none)."""
        digest = self.checksums().get(self.path.name)
        return digest is not None and self._md5_of_data() == digest

    def index_problems(self, progress: bool | None = False) -> list[str]:
        """What is wrong with the index files against the md5 file; empty when nothing."""
        digests = self.checksums()
        if not digests:
            return [f"{self.index_name(MD5_SUFFIX)}: md5 file is missing; integrity cannot be checked"]
        problems = []
        for suffix in INDEX_FILES:
            digest = digests.get(self.path.name + suffix)
            if digest is None:
                continue
            if self.index_size(suffix) is None:
                problems.append(f"{self.index_name(suffix)}: listed in the md5 file but missing")
            elif hashlib.md5(self.read_index(suffix)).hexdigest() != digest:
                problems.append(f"{self.index_name(suffix)}: md5 mismatch")
        return problems

    def verify(self, index_problems: Callable[[], list[str]], length: Callable[[], int]) -> VerificationReport:
        """Check index files and data: the reader's checks plus the md5 file.

        Args:
            index_problems: the reader's check of its index files (md5 and agreement with the data).
            length: the reader's ``len``.
        """
        report = VerificationReport(self.path)
        report.problems.extend(index_problems())
        report.checked.append("index")
        if self.checksums() and not self.verify_data():
            report.problems.append(f"{self.name}: md5 mismatch (the data file changed or is damaged)")
        report.checked.append("md5")
        if not report.problems:
            report.length = length()
        return report

    # --- lifecycle ---

    def close(self) -> None:
        """Release files and buffers; reading again opens them again."""

    def copy(self) -> ByteSource:
        """An independent source over the same file (its own buffers); by default a shallow copy."""
        return copy_module.copy(self)


def read_index_file(source: ByteSource, suffix: str, data_size: int, length: int | None = None) -> bytes:
    """The whole index file ``suffix`` of ``source``, its size checked before a byte is read.

    The size must fit a data file of ``data_size`` bytes (and ``length`` samples, when known; see
    :func:`dings.format.index_size_limit`), so a huge or endless index file is refused, not read.

    Raises:
        FileNotFoundError: there is no such index file.
        dings.format.CorruptIndexError: it is larger than the data allows, or it changed while read.
    """
    where = source.index_name(suffix)
    size = source.index_size(suffix)
    if size is None:
        raise FileNotFoundError(f"{where}: index file not found; restore the dataset's index files")
    samples = "" if length is None else f" and {length} samples"
    limit = index_size_limit(suffix, data_size, length)
    check_index_size(where, size, limit, f"for a data file of {data_size} bytes{samples}")
    content = source.read_index(suffix, 0, size)
    if len(content) != size:
        raise CorruptIndexError(f"{where}: the file changed while it was read; read it again", path=where)
    return bytes(content)
