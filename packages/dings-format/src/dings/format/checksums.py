"""Per-sample checksums: the ``NAME.msgpack.crc32`` sidecar that datadings ignores.

One CRC-32 (``zlib.crc32``, IEEE polynomial) per sample, over the sample's packed msgpack bytes,
stored as big-endian uint32 values in sample order: ``4 * N`` bytes, no header. A dataset without
the file simply has no per-sample checksums.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import zlib
from collections.abc import Sequence

import numpy as np

from .errors import CorruptIndexError
from .index import open_index_file
from .paths import CHECKSUMS_SUFFIX, index_path

__all__ = [
    "CHECKSUMS_SUFFIX",
    "sample_checksum",
    "pack_checksums",
    "load_checksums",
    "parse_checksums",
    "compute_checksums",
]


def sample_checksum(data: bytes | memoryview) -> int:
    """Return the checksum of one packed sample (``zlib.crc32``; releases the GIL on large buffers)."""
    return zlib.crc32(data)


def pack_checksums(checksums: Sequence[int] | np.ndarray) -> bytes:
    """Return the content of a ``.crc32`` file: big-endian uint32 values in sample order."""
    return np.asarray(checksums, dtype=np.uint32).astype(">u4").tobytes()


def load_checksums(path: str | os.PathLike, length: int) -> np.ndarray | None:
    """Load the per-sample checksums of a dataset with ``length`` samples, or None without the file.

    Raises:
        CorruptIndexError: the file is not a regular file, or does not hold exactly ``length``
            checksums (its size is checked before it is read).
    """
    target = index_path(path, CHECKSUMS_SUFFIX)
    try:
        f = open_index_file(target)
    except FileNotFoundError:
        return None
    with f:
        size = os.fstat(f.fileno()).st_size
        content = f.read(4 * length) if size == 4 * length else b""
    if size != 4 * length or len(content) != size:
        raise _wrong_size(target, size, length)
    return parse_checksums(target, content, length)


def _wrong_size(where: str | os.PathLike, size: int, length: int) -> CorruptIndexError:
    return CorruptIndexError(
        f"{where}: {size} bytes, expected {4 * length} for {length} samples; rebuild it with `dings convert-index`",
        path=where,
    )


def parse_checksums(where: str | os.PathLike, content: bytes, length: int) -> np.ndarray:
    """The per-sample checksums in the content of a ``.crc32`` file of a dataset with ``length`` samples.

    Args:
        where: the file's path or URL, for messages.
        content: its bytes.
        length: the number of samples.

    Raises:
        CorruptIndexError: the content does not hold exactly ``length`` checksums.
    """
    if len(content) != 4 * length:
        raise _wrong_size(where, len(content), length)
    return np.frombuffer(content, dtype=">u4").astype(np.uint32)


def compute_checksums(path: str | os.PathLike, offsets: Sequence[int] | np.ndarray) -> tuple[np.ndarray, str]:
    """Compute the checksum of every sample of a data file, and the file's md5, in one read.

    Args:
        path: the data file.
        offsets: the N+1 sample offsets (checked: they start at 0, never decrease and end at
            the file's size).

    Returns:
        The checksums (uint32, in sample order) and the data file's md5 hex digest.

    Raises:
        CorruptIndexError: the offsets do not fit the data file.
    """
    bounds = np.asarray(offsets, dtype=np.uint64).tolist()
    size = os.path.getsize(path)
    if not bounds or bounds[0] != 0 or bounds[-1] != size or any(b < a for a, b in zip(bounds, bounds[1:])):
        raise CorruptIndexError(
            f"{path}: the offsets do not fit the data file ({size} bytes); checksums cannot be computed", path=path
        )
    result = np.empty(len(bounds) - 1, dtype=np.uint32)
    md5 = hashlib.md5()
    if size == 0:
        return result, md5.hexdigest()
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        view = memoryview(mapped)
        try:
            md5.update(view)
            crc32 = zlib.crc32
            result[:] = [crc32(view[bounds[i] : bounds[i + 1]]) for i in range(len(bounds) - 1)]
        finally:
            view.release()
    return result, md5.hexdigest()
