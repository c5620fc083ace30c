"""Per-sample checksums: the ``NAME.msgpack.crc32`` sidecar that datadings ignores.

One CRC-32 (``zlib.crc32``, IEEE polynomial) per sample, over the sample's packed msgpack bytes,
stored as big-endian uint32 values in sample order: ``4 * N`` bytes, no header. A dataset without
the file simply has no per-sample checksums.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Sequence

import numpy as np

from .errors import CorruptIndexError
from .paths import CHECKSUMS_SUFFIX, index_path

__all__ = ["CHECKSUMS_SUFFIX", "sample_checksum", "pack_checksums", "load_checksums"]


def sample_checksum(data: bytes | memoryview) -> int:
    """Return the checksum of one packed sample (``zlib.crc32``; releases the GIL on large buffers)."""
    return zlib.crc32(data)


def pack_checksums(checksums: Sequence[int] | np.ndarray) -> bytes:
    """Return the content of a ``.crc32`` file: big-endian uint32 values in sample order."""
    return np.asarray(checksums, dtype=np.uint32).astype(">u4").tobytes()


def load_checksums(path: str | os.PathLike, length: int) -> np.ndarray | None:
    """Load the per-sample checksums of a dataset with ``length`` samples, or None without the file.

    Raises:
        CorruptIndexError: the file does not hold exactly ``length`` checksums.
    """
    target = index_path(path, CHECKSUMS_SUFFIX)
    try:
        content = target.read_bytes()
    except FileNotFoundError:
        return None
    if len(content) != 4 * length:
        raise CorruptIndexError(f"{target}: {len(content)} bytes, expected {4 * length} for {length} samples; rebuild it with `dings convert-index`", path=target)
    return np.frombuffer(content, dtype=">u4").astype(np.uint32)
