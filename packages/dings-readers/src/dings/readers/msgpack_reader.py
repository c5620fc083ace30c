"""MsgpackReader: random access, key look-up and iteration over a dings/datadings dataset file."""

from __future__ import annotations

import mmap
import os
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
from dings.format import CorruptIndexError, VerifyReport, data_path, index_path, unpackb
from dings.format import index as format_index
from dings.format import verify as verify_dataset
from dings.format.verify import check_md5, check_structure

from .reader import Reader

__all__ = ["MsgpackReader"]


class MsgpackReader(Reader):
    """Read samples from ``NAME.msgpack`` using its index files (new-style or legacy ``.index``).

    Opening reads only file headers; offsets, keys, hashes and the Bloom filter are loaded the
    first time a method needs them. The data file is memory-mapped: random access costs no system
    call, and ``copy=False`` returns zero-copy ``memoryview`` slices. Keys are looked up by binary
    search over the sorted key hashes (no dict of every key). Samples are decoded safely:
    object-dtype arrays (pickle) are refused unless ``allow_unsafe`` is set. A reader copied with
    ``copy.copy`` or inherited by a forked worker needs no shared file position.

    Args:
        path: the data file or any of its index files.
        buffering: accepted for datadings compatibility; the file is memory-mapped.
        allow_unsafe: decode object-dtype arrays with pickle. Only for files you trust.

    Raises:
        FileNotFoundError: the data file or its index (``.offsets`` or ``.index``) is missing.
    """

    def __init__(self, path: str | os.PathLike, buffering: int = 0, *, allow_unsafe: bool = False) -> None:
        self.path = data_path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: data file not found" if not self.path.exists() else f"{self.path}: is not a file")
        self._legacy = not index_path(self.path, ".offsets").exists()
        if self._legacy and not index_path(self.path, ".index").exists():
            raise FileNotFoundError(
                f"{self.path}: no index found ({self.path.name}.offsets or legacy {self.path.name}.index); "
                "rewrite the dataset or restore its index files"
            )
        if not self._legacy:
            for suffix in (".keys", ".key_hashes", ".filter"):
                if not index_path(self.path, suffix).exists():
                    warnings.warn(f"{index_path(self.path, suffix)}: index file missing; key look-up will be slower", stacklevel=2)
        self._allow_unsafe = allow_unsafe
        self._map: mmap.mmap | None = None
        self._view: memoryview | None = None
        self._position = 0
        self._length: int | None = None
        self._offsets: np.ndarray | None = None
        self._keys: list[str] | None = None
        self._key_to_index: dict[str, int] | None = None
        self._salt: bytes | None = None
        self._sorted_hashes: np.ndarray | None = None
        self._hash_order: np.ndarray | None = None
        self._filter = None
        self._open()

    def _open(self) -> None:
        with open(self.path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            # an empty file cannot be mapped; it holds no sample to read anyway
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        self._size = size
        self._view = memoryview(self._map) if self._map is not None else memoryview(b"")

    # --- lazily loaded index parts ---

    def __len__(self) -> int:
        if self._length is None:
            if self._offsets is not None:
                self._length = len(self._offsets) - 1
            elif self._legacy:
                self._length = format_index.legacy_index_len(self.path)
            elif index_path(self.path, ".keys").exists():
                self._length = format_index.keys_len(self.path)
            else:
                self._length = index_path(self.path, ".offsets").stat().st_size // 8 - 1
        return self._length

    @property
    def offsets(self) -> np.ndarray:
        """Start offsets of all samples plus the data size (N+1 values), checked against the data file."""
        if self._offsets is None:
            if self._legacy:
                self._keys, offsets = format_index.legacy_load_index(self.path)
            else:
                offsets = format_index.load_offsets(self.path)
            source = index_path(self.path, ".index" if self._legacy else ".offsets")
            if offsets[0] != 0 or int(offsets[-1]) != self._size or np.any(offsets[1:] <= offsets[:-1]):
                raise CorruptIndexError(
                    f"{source}: offsets do not match the data file ({self._size} bytes); "
                    "run dings.format.verify() to see what is damaged"
                )
            if self._length is not None and self._length != len(offsets) - 1:
                raise CorruptIndexError(f"{source}: {len(offsets) - 1} offsets but the index header says {self._length} samples")
            self._offsets = offsets.astype(np.int64)
            self._length = len(offsets) - 1
        return self._offsets

    @property
    def keys(self) -> list[str]:
        """All keys in sample order (loads the keys file)."""
        if self._keys is None:
            if self._legacy:
                _ = self.offsets
            else:
                keys = format_index.load_keys(self.path)
                if len(keys) != len(self.offsets) - 1:
                    raise CorruptIndexError(
                        f"{index_path(self.path, '.keys')}: {len(keys)} keys but {len(self.offsets) - 1} offsets"
                    )
                self._keys = keys
        return self._keys  # type: ignore[return-value]

    def _load_hashes(self) -> None:
        salt, hashes = format_index.load_key_hashes(self.path)
        if len(hashes) != len(self):
            raise CorruptIndexError(f"{index_path(self.path, '.key_hashes')}: {len(hashes)} hashes for {len(self)} samples")
        order = np.argsort(hashes, kind="stable")
        self._sorted_hashes = hashes[order].astype(np.uint64)
        self._hash_order = order
        self._salt = salt

    def _lookup(self, key: str) -> int | None:
        if self._legacy or not index_path(self.path, ".key_hashes").exists():
            if self._key_to_index is None:
                self._key_to_index = {k: i for i, k in enumerate(self.keys)}
            return self._key_to_index.get(key)
        if self._filter is None and index_path(self.path, ".filter").exists():
            self._filter = format_index.load_filter(self.path)
        if self._filter is not None and key not in self._filter:
            return None
        if self._sorted_hashes is None:
            self._load_hashes()
        wanted = format_index.hash_string(key, self._salt)  # type: ignore[arg-type]
        hashes = self._sorted_hashes
        position = int(hashes.searchsorted(np.uint64(wanted)))
        if position < len(hashes) and int(hashes[position]) == wanted:
            return int(self._hash_order[position])  # type: ignore[index]
        return None

    # --- Reader interface ---

    def find_index(self, key: str) -> int:
        """Return the index of the sample with ``key``.

        Raises:
            KeyError: no sample has this key.
        """
        found = self._lookup(key) if isinstance(key, str) else None
        if found is None:
            raise KeyError(f"{key!r} is not a key of {self.path}")
        return found

    def find_key(self, index: int) -> str:
        """Return the key of the sample at ``index`` (negative counts from the end)."""
        return self.keys[self._normalize(index)]

    def _decode(self, data: memoryview | bytes) -> Any:
        return unpackb(data, allow_unsafe=self._allow_unsafe)

    def _read(self, index: int, raw: bool, copy: bool) -> Any:
        offsets = self.offsets
        piece = self._view[offsets[index] : offsets[index + 1]]  # type: ignore[index]
        if raw:
            return bytes(piece) if copy else piece
        return self._decode(piece)

    def _read_range(self, start: int, stop: int, raw: bool, copy: bool, chunk_size: int) -> Iterator[Any]:
        if start >= stop:
            return
        bounds = self.offsets[start : stop + 1].tolist()
        view = self._view
        allow_unsafe = self._allow_unsafe
        for i in range(stop - start):
            piece = view[bounds[i] : bounds[i + 1]]  # type: ignore[index]
            if raw:
                yield bytes(piece) if copy else piece
            else:
                yield unpackb(piece, allow_unsafe=allow_unsafe)

    # --- integrity ---

    def verify_data(self, progress: bool = False) -> bool:
        """Check the data file against the md5 file.

        Args:
            progress: show a progress line while hashing.

        Returns:
            True when the data file matches its checksum.
        """
        report = VerifyReport(self.path)
        check_md5(report, self.path, only=[self.path.name], progress=progress)
        return report.ok

    def verify_index(self, progress: bool = False) -> bool:
        """Check the index files against the md5 file and against the data.

        Args:
            progress: show a progress line while hashing.

        Returns:
            True when every index file matches its checksum and agrees with the data.
        """
        report = VerifyReport(self.path)
        names = [self.path.name + s for s in (".offsets", ".keys", ".key_hashes", ".filter")]
        check_md5(report, self.path, only=names, progress=progress)
        check_structure(report, self.path)
        return report.ok

    def verify(self) -> VerifyReport:
        """Run every check of :func:`dings.format.verify` on this dataset."""
        return verify_dataset(self.path)

    # --- lifecycle ---

    def close(self) -> None:
        """Release the memory map."""
        if self._view is not None:
            self._view.release()
            self._view = None
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:  # a zero-copy sample still references the map; it closes with it
                pass
            self._map = None

    def __copy__(self) -> MsgpackReader:
        clone = super().__copy__()
        clone._open()
        return clone  # type: ignore[return-value]

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"MsgpackReader({str(self.path)!r})"
