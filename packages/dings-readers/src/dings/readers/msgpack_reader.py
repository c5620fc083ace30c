"""MsgpackReader: random access, key look-up and iteration over a dings/datadings dataset file."""

from __future__ import annotations

import array
import bisect
import hashlib
import itertools
import mmap
import os
import struct
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
from dings.format import CorruptIndexError, VerifyReport, data_path, index_path, unpack_options
from dings.format import index as format_index
from dings.format import verify as verify_dataset
from dings.format.verify import check_md5, check_structure

from .reader import Reader
from .remote_fs import is_url, local_path

__all__ = ["MsgpackReader"]

_read_hash = struct.Struct(">Q").unpack_from
#: a msgpack array32 header: lets one C call decode a run of samples into a list
_array_header = struct.Struct(">BI").pack
#: attributes not pickled: the memory map and the key look-up structures (loaded again when needed)
_REBUILT_AFTER_PICKLING = ("_map", "_view", "_hasher", "_sorted_hashes", "_hash_order", "_filter", "_key_to_index")

#: sequential reads decode blocks of about this many bytes with one streaming unpacker
BLOCK_SIZE = 1 << 22
#: ranges whose samples average at least this many bytes are decoded sample by sample
LARGE_SAMPLE = 1 << 14
#: key look-ups between decisions whether the Bloom filter pays off (a power of two)
TUNE_EVERY = 1024
TUNE_MASK = TUNE_EVERY - 1
#: the filter is used while more than this percentage of recent look-ups were for absent keys
FILTER_WORTH_PERCENT = 35


def _starts_with_map(path: Path) -> bool:
    """Whether the file at ``path`` starts like a dataset: a msgpack map (an empty file counts too)."""
    with open(path, "rb") as f:
        first = f.read(1)
    return not first or 0x80 <= first[0] <= 0x8F or first[0] in (0xDE, 0xDF)


class MsgpackReader(Reader):
    """Read samples from ``NAME.msgpack`` using its index files (new-style or legacy ``.index``).

    Opening reads only file headers; offsets, keys, hashes and the Bloom filter are loaded the
    first time a method needs them. The data file is memory-mapped: random access costs no system
    call, and ``copy=False`` returns zero-copy ``memoryview`` slices. Keys are looked up by binary
    search over the sorted key hashes (no dict of every key). Samples are decoded safely:
    object-dtype arrays (pickle) are refused unless ``allow_unsafe`` is set. A reader copied with
    ``copy.copy`` or inherited by a forked worker needs no shared file position.

    A URL (``s3://…``, ``https://…``, any fsspec URL but ``file://``) opens a
    :class:`~dings.readers.remote.RemoteMsgpackReader` instead, which takes further keyword
    arguments (cache folder and limit, storage options, retries); it needs the extra
    ``pip install "dings-readers[remote]"``. ``file://`` URLs are read as local paths.

    Args:
        path: the data file or any of its index files.
        buffering: accepted for datadings compatibility; the file is memory-mapped.
        allow_unsafe: decode object-dtype arrays with pickle. Only for files you trust.

    Raises:
        FileNotFoundError: the data file or its index (``.offsets`` or ``.index``) is missing.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> MsgpackReader:
        if cls is MsgpackReader and is_url(args[0] if args else kwargs.get("path")):
            from .remote import RemoteMsgpackReader  # fsspec is imported only when a URL is read

            return super().__new__(RemoteMsgpackReader)
        return super().__new__(cls)

    def __init__(self, path: str | os.PathLike, buffering: int = 0, *, allow_unsafe: bool = False) -> None:
        self.path = data_path(local_path(path))
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: data file not found" if not self.path.exists() else f"{self.path}: is not a file")
        self._legacy = not index_path(self.path, ".offsets").exists()
        if self._legacy and not index_path(self.path, ".index").exists():
            if not _starts_with_map(self.path):
                raise FileNotFoundError(f"{self.path}: is not a dings dataset (no index files, and it does not start with a msgpack map)")
            raise FileNotFoundError(
                f"{self.path}: no index found ({self.path.name}.offsets or legacy {self.path.name}.index); "
                "rewrite the dataset or restore its index files"
            )
        if not self._legacy:
            for suffix in (".keys", ".key_hashes", ".filter"):
                if not index_path(self.path, suffix).exists():
                    warnings.warn(f"{index_path(self.path, suffix)}: index file missing; key look-up will be slower", stacklevel=2)
        self._init_state(allow_unsafe)
        self._open()

    def _init_state(self, allow_unsafe: bool) -> None:
        """Set every lazily loaded part to "not loaded yet" (shared with the remote reader)."""
        self._allow_unsafe = allow_unsafe
        self._unpack_options = unpack_options(allow_unsafe)
        self._object_hook = self._unpack_options["object_hook"]
        self._map: mmap.mmap | None = None
        self._view: memoryview | None = None
        self._position = 0
        self._length: int | None = None
        self._offsets: array.array | None = None
        self._keys: list[str] | None = None
        self._key_to_index: dict[str, int] | None = None
        self._hasher = None
        self._sorted_hashes: array.array | None = None
        self._hash_order: array.array | None = None
        self._filter = None
        self._use_filter = False
        self._lookups = 0
        self._absent = 0

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
    def offsets(self) -> array.array:
        """Start offsets of all samples plus the data size (N+1 values), checked against the data file.

        An ``array.array`` of int64: compact, and indexing it gives plain ints (fast random access).
        """
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
            self._offsets = array.array("q", offsets.astype(np.int64).tobytes())
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
        ordered = hashes[order].astype(np.uint64)
        # buckets by the top bits of the hash narrow each binary search to a few entries;
        # about one bucket per key keeps the structure at ~16 bytes per key
        bits = min(max(len(ordered), 1).bit_length(), 24)
        self._bucket_shift = 64 - bits
        bucket_starts = np.searchsorted(ordered >> np.uint64(self._bucket_shift), np.arange((1 << bits) + 1, dtype=np.uint64))
        # array.array: compact, and indexing gives plain ints, so no numpy call per look-up
        self._buckets = array.array("I", bucket_starts.astype(np.uint32).tobytes())
        self._sorted_hashes = array.array("Q", ordered.tobytes())
        self._hash_order = array.array("I", order.astype(np.uint32).tobytes())  # < 2**32 samples per file
        self._hasher = hashlib.blake2s(salt=salt)

    def _lookup(self, key: str) -> int | None:
        if self._sorted_hashes is not None:  # fast paths once the look-up structure is loaded
            return self._find_hash(key)
        if self._key_to_index is not None:
            return self._key_to_index.get(key)
        if self._legacy or not index_path(self.path, ".key_hashes").exists():
            self._key_to_index = {k: i for i, k in enumerate(self.keys)}
            return self._key_to_index.get(key)
        if index_path(self.path, ".filter").exists():
            self._filter = format_index.load_filter(self.path)
            self._use_filter = True
        self._load_hashes()
        return self._find_hash(key)

    def _find_hash(self, key: str) -> int | None:
        # The Bloom filter rejects absent keys a little faster than hashing, but for present keys it
        # is pure extra work (the hash search answers exactly either way). Every TUNE_EVERY look-ups
        # the filter is switched on only if enough of them were for absent keys.
        self._lookups += 1
        if not self._lookups & TUNE_MASK:
            self._use_filter = self._filter is not None and self._absent * 100 > TUNE_EVERY * FILTER_WORTH_PERCENT
            self._absent = 0
        if self._use_filter and key not in self._filter:  # type: ignore[operator]
            self._absent += 1
            return None
        hasher = self._hasher.copy()  # type: ignore[union-attr]
        hasher.update(key.encode("utf-8"))
        (wanted,) = _read_hash(hasher.digest())  # the first 8 digest bytes, big-endian
        bucket = wanted >> self._bucket_shift
        buckets = self._buckets
        start = buckets[bucket]
        end = buckets[bucket + 1]
        hashes = self._sorted_hashes
        if end - start > 1:  # most buckets hold zero or one hash: no search needed
            start = bisect.bisect_left(hashes, wanted, start, end)  # type: ignore[arg-type]
        if start < end and hashes[start] == wanted:  # type: ignore[index]
            return self._hash_order[start]  # type: ignore[index]
        self._absent += 1
        return None

    # --- Reader interface ---

    def __contains__(self, key: object) -> bool:
        if self._sorted_hashes is not None and type(key) is str:
            return self._find_hash(key) is not None
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

    def _read(self, index: int, raw: bool, copy: bool) -> Any:
        offsets = self._offsets if self._offsets is not None else self.offsets
        piece = self._view[offsets[index] : offsets[index + 1]]  # type: ignore[index]
        if raw:
            return bytes(piece) if copy else piece
        return msgpack.unpackb(piece, **self._unpack_options)

    def get(self, index: int, yield_key: bool = False, raw: bool = False, copy: bool = True) -> Any:
        """Return the sample at ``index`` (negative counts from the end); see :meth:`Reader.get`."""
        offsets = self._offsets if self._offsets is not None else self.offsets
        length = len(offsets) - 1
        position = index + length if type(index) is int and index < 0 else index
        if type(position) is not int or not 0 <= position < length:
            position = self._normalize(index)  # raises the right error (or accepts numpy ints)
        piece = self._view[offsets[position] : offsets[position + 1]]  # type: ignore[index]
        if raw:
            sample = bytes(piece) if copy else piece
        else:  # explicit keywords: measurably faster than ** on this hot path
            sample = msgpack.unpackb(piece, object_hook=self._object_hook, raw=False, strict_map_key=False)
        return (self.keys[position], sample) if yield_key else sample

    def _read_range(self, start: int, stop: int, raw: bool, copy: bool, chunk_size: int) -> Iterator[Any]:
        if start >= stop:
            return iter(())
        offsets = self.offsets
        if raw:
            return self._raw_range(start, stop, copy)
        if (offsets[stop] - offsets[start]) >= LARGE_SAMPLE * (stop - start):
            return self._large_range(start, stop)
        # small samples: blocks of ~BLOCK_SIZE bytes, each decoded by one streaming unpacker that
        # finds the sample boundaries itself; chained at C speed, so no Python frame per sample
        return itertools.chain.from_iterable(map(self._decode_block, self._blocks(start, stop)))

    def slice(self, start: int | None, stop: int | None = None, yield_key: bool = False, raw: bool = False, copy: bool = True) -> list:
        """Return samples ``start`` … ``stop - 1`` as a list (bounds as for ``range``/slices).

        Runs of small samples are decoded by one C call per block (an array of the run's samples).

        Raises:
            CorruptIndexError: the offsets do not match the samples in the data file.
        """
        begin, end = self._bounds(0 if start is None else start, stop)
        if raw or yield_key or self._view is None or end - begin < 2:
            return super().slice(start, stop, yield_key, raw, copy)
        offsets = self.offsets
        if (offsets[end] - offsets[begin]) >= LARGE_SAMPLE * (end - begin):
            return super().slice(start, stop, yield_key, raw, copy)
        blocks = self._blocks(begin, end)
        first = self._decode_list(*next(blocks))
        for bounds in blocks:
            first.extend(self._decode_list(*bounds))
        return first

    def _decode_list(self, start: int, stop: int) -> list:
        offsets = self._offsets
        block = self._view[offsets[start] : offsets[stop]]  # type: ignore[index]
        unpacker = msgpack.Unpacker(max_buffer_size=len(block) + 5, **self._unpack_options)
        unpacker.feed(_array_header(0xDD, stop - start))
        unpacker.feed(block)  # a copy: samples never refer to the memory map
        try:
            samples = unpacker.unpack()
        except msgpack.OutOfData:
            samples = None
        if samples is None or unpacker.tell() != len(block) + 5:
            raise CorruptIndexError(
                f"{self.path}: samples {start}–{stop - 1} do not match the offsets index; "
                "run `dings verify` on it and rewrite the index or the dataset"
            )
        return samples

    def _raw_range(self, start: int, stop: int, copy: bool) -> Iterator[Any]:
        # a plain loop slicing with two ints beats map(slice, ...), which calls slice() per sample
        offsets = self._offsets
        begin = offsets[start]  # type: ignore[index]
        data = self._map if copy else self._view  # slicing the mmap itself gives bytes in one step
        for end in offsets[start + 1 : stop + 1]:  # type: ignore[index]
            yield data[begin:end]  # type: ignore[index]
            begin = end

    def _large_range(self, start: int, stop: int) -> Iterator[Any]:
        # large samples: decode each straight from the memory map (no copy into an unpacker)
        offsets, view, options = self._offsets, self._view, self._unpack_options
        for i in range(start, stop):
            yield msgpack.unpackb(view[offsets[i] : offsets[i + 1]], **options)  # type: ignore[index]

    def _blocks(self, start: int, stop: int, size: int | None = None) -> Iterator[tuple[int, int]]:
        """Split samples ``start`` … ``stop - 1`` into runs of whole samples of at most ``size`` bytes
        (default :data:`BLOCK_SIZE`; a larger sample is a run of its own)."""
        offsets = self._offsets
        limit = BLOCK_SIZE if size is None else size
        position = start
        while position < stop:
            end = bisect.bisect_right(offsets, offsets[position] + limit, position + 1, stop + 1) - 1  # type: ignore
            end = max(end, position + 1)
            yield position, end
            position = end

    def _decode_block(self, bounds: tuple[int, int]) -> msgpack.Unpacker:
        offsets = self._offsets
        block = self._view[offsets[bounds[0]] : offsets[bounds[1]]]  # type: ignore[index]
        unpacker = msgpack.Unpacker(max_buffer_size=max(len(block), 1), **self._unpack_options)
        unpacker.feed(block)  # a copy: samples never refer to the memory map
        return unpacker

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

    def __getstate__(self) -> dict[str, Any]:
        # pickling (spawned DataLoader workers) sends the path and what is loaded, but not the memory
        # map or the key look-up structures: they are rebuilt lazily on the other side
        state = self.__dict__.copy()
        for name in _REBUILT_AFTER_PICKLING:
            state[name] = None
        state["_use_filter"] = False
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._open()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"MsgpackReader({str(self.path)!r})"
