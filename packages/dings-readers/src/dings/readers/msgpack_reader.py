"""MsgpackReader: random access, key look-up and iteration over a dings/datadings dataset file."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
from dings.format import CorruptIndexError, data_path, index_path, unpackb
from dings.format import index as format_index

__all__ = ["MsgpackReader"]

#: sequential iteration reads this many bytes (at least one sample) per system call
READ_AHEAD = 1 << 22


class MsgpackReader:
    """Read samples from ``NAME.msgpack`` using its index files (new-style or legacy ``.index``).

    Opening reads only file headers; offsets, keys, hashes and the Bloom filter are loaded the
    first time a method needs them. Samples are decoded safely: object-dtype arrays (pickle) are
    refused unless ``allow_unsafe`` is set.

    Args:
        path: the data file or any of its index files.
        buffering: accepted for datadings compatibility; reads use ``os.pread`` directly.
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
        self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        self._size = os.fstat(self._fd).st_size
        self._length: int | None = None
        self._offsets: np.ndarray | None = None
        self._keys: list[str] | None = None
        self._key_to_index: dict[str, int] | None = None
        self._salt: bytes | None = None
        self._hash_to_index: dict[int, int] | None = None
        self._filter = None

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
            self._offsets = offsets
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
        self._salt = salt
        self._hash_to_index = {int(h): i for i, h in enumerate(hashes.tolist())}

    def _lookup(self, key: str) -> int | None:
        if self._legacy or not index_path(self.path, ".key_hashes").exists():
            if self._key_to_index is None:
                self._key_to_index = {k: i for i, k in enumerate(self.keys)}
            return self._key_to_index.get(key)
        if self._filter is None and index_path(self.path, ".filter").exists():
            self._filter = format_index.load_filter(self.path)
        if self._filter is not None and key not in self._filter:
            return None
        if self._hash_to_index is None:
            self._load_hashes()
        return self._hash_to_index.get(format_index.hash_string(key, self._salt))  # type: ignore[union-attr]

    # --- public API ---

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._lookup(key) is not None

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

    def _normalize(self, index: int) -> int:
        length = len(self)
        position = index + length if index < 0 else index
        if not 0 <= position < length:
            raise IndexError(f"index {index} out of range for {self.path} with {length} samples")
        return position

    def _decode(self, raw: bytes) -> Any:
        return unpackb(raw, allow_unsafe=self._allow_unsafe)

    def get(self, index: int, yield_key: bool = False, raw: bool = False) -> Any:
        """Return the sample at ``index``.

        Args:
            index: sample position; negative counts from the end.
            yield_key: return ``(key, sample)`` instead of the sample.
            raw: return the packed bytes instead of the decoded sample.
        """
        position = self._normalize(index)
        offsets = self.offsets
        start, stop = int(offsets[position]), int(offsets[position + 1])
        data = os.pread(self._fd, stop - start, start)
        sample = data if raw else self._decode(data)
        if yield_key:
            return self.find_key(position), sample
        return sample

    def __getitem__(self, index: int) -> Any:
        return self.get(index)

    def iter(self, start: int = 0, stop: int | None = None, yield_key: bool = False, raw: bool = False) -> Iterator[Any]:
        """Yield samples ``start`` … ``stop - 1`` in order, reading several MB per system call.

        Args:
            start: first index.
            stop: end index (exclusive); ``None`` for the end of the dataset.
            yield_key: yield ``(key, sample)`` pairs.
            raw: yield packed bytes instead of decoded samples.
        """
        length = len(self)
        stop = length if stop is None else min(stop, length)
        if start >= stop:
            return
        offsets = self.offsets
        keys = self.keys if yield_key else None
        position = start
        while position < stop:
            base = int(offsets[position])
            end = int(np.searchsorted(offsets, base + READ_AHEAD, side="right")) - 1
            end = min(max(end, position + 1), stop)
            bounds = offsets[position : end + 1].tolist()
            block = memoryview(os.pread(self._fd, bounds[-1] - base, base))
            for i in range(end - position):
                piece = block[bounds[i] - base : bounds[i + 1] - base]
                sample = bytes(piece) if raw else self._decode(piece)
                yield (keys[position + i], sample) if keys is not None else sample
            position = end

    def __iter__(self) -> Iterator[Any]:
        return self.iter()

    def close(self) -> None:
        """Close the data file."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> MsgpackReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"MsgpackReader({str(self.path)!r})"
