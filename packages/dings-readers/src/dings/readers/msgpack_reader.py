"""MsgpackReader: random access, key look-up and iteration over a dings/datadings dataset file.

One class owns the index logic, key look-up and decoding; the bytes of the data file and of its
index files come from a byte source underneath it (:mod:`dings.readers.byte_source`), made by the
storage registered for the path's URL scheme (:mod:`dings.readers.storages`): a local memory map
(:mod:`dings.readers.local`), ranged remote reads with a verified local cache
(:mod:`dings.readers.remote`), or a storage of your own.
"""

from __future__ import annotations

import array
import bisect
import hashlib
import itertools
import os
import struct
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar, cast

import msgpack
import numpy as np

from dings.format import (
    CHECKSUMS_SUFFIX,
    CorruptIndexError,
    DamagedDataError,
    IncompleteCommitError,
    UnsafeDataError,
    VerificationReport,
    describe_decode_error,
    offsets_count,
    parse_checksums,
    parse_filter,
    parse_key_hashes,
    parse_keys,
    parse_legacy_index,
    parse_offsets,
    sample_checksum,
    unpack_options,
)

from .byte_source import ByteSource, read_index_file
from .reader import Reader, Spans
from .storages import storage_for

__all__ = ["MsgpackReader"]

_T = TypeVar("_T")

_read_hash = struct.Struct(">Q").unpack_from
_read_pair = struct.Struct(">QQ").unpack_from
#: a msgpack array32 header: lets one C call decode a run of samples into a list
_array_header = struct.Struct(">BI").pack
#: attributes not pickled or copied: buffers and the key look-up structures (loaded again when needed)
_REBUILT = ("_view", "_offsets_map", "_hasher", "_sorted_hashes", "_hash_order", "_filter", "_key_to_index")

#: ranges whose samples average at least this many bytes are decoded sample by sample
LARGE_SAMPLE = 1 << 14
#: samples decoded together by one C call in a sequential pass
CHUNK = 256
#: single reads served from the memory-mapped offsets file before the whole offsets index is loaded
LAZY_READS = 32
#: key look-ups between decisions whether the Bloom filter pays off (a power of two)
TUNE_EVERY = 1024
TUNE_MASK = TUNE_EVERY - 1
#: the filter is used while more than this percentage of recent look-ups were for absent keys
FILTER_WORTH_PERCENT = 35


class MsgpackReader(Reader):
    """Read samples from ``NAME.msgpack`` using its index files (new-style or legacy ``.index``).

    Opening looks at two file names only; offsets, keys, hashes and the Bloom filter are loaded the
    first time a method needs them. The data file is memory-mapped: random access costs no system
    call, and ``copy=False`` returns zero-copy ``memoryview`` slices. Keys are looked up by binary
    search over the sorted key hashes (no dict of every key). Samples are decoded safely:
    object-dtype arrays (pickle) are refused unless ``allow_unsafe`` is set. A reader copied with
    ``copy.copy`` or inherited by a forked worker needs no shared file position. A closed reader
    opens its file again when it is used again.

    Damaged data raises :class:`dings.format.DamagedDataError` naming the file, the sample and
    its key: iteration yields exactly ``len()`` samples, each decoded from its own byte range, or
    raises. With ``verify=True`` every sample read is checked against the per-sample checksums
    (``NAME.msgpack.crc32``), when the dataset has them.

    The bytes come from the storage registered for the path's URL scheme
    (:func:`~dings.readers.register_storage`): a plain path or ``file://`` URL is memory-mapped; a
    URL (``s3://…``, ``https://…``, any fsspec URL) opens a :class:`RemoteMsgpackReader`, which
    takes further keyword arguments (cache folder and limit, storage options, retries, timeouts)
    and needs the extra ``pip install "dings-readers[remote]"``. ``MsgpackReader(source)`` reads
    any :class:`~dings.readers.ByteSource` you opened yourself.

    Args:
        path: the data file or any of its index files, their URL, or a byte source.
        buffering: accepted for datadings compatibility; the file is memory-mapped.
        allow_unsafe: decode object-dtype arrays with pickle. Only for files you trust.
        verify: check each sample read against its per-sample checksum.
        options: keyword arguments for the storage's factory (none for local files).

    Raises:
        FileNotFoundError: the data file or its index (``.offsets`` or ``.index``) is missing.
        ValueError: no storage reads the path's URL scheme.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> MsgpackReader:
        path = args[0] if args else kwargs.get("path")
        if cls is MsgpackReader and isinstance(path, (str, os.PathLike)):
            cls = storage_for(path).reader or cls
        return cast(MsgpackReader, super().__new__(cls))

    def __init__(
        self,
        path: str | os.PathLike | ByteSource,
        buffering: int = 0,
        *,
        allow_unsafe: bool = False,
        verify: bool = False,
        **options: Any,
    ) -> None:
        if isinstance(path, ByteSource):
            if options:
                raise TypeError(
                    f"{path.name}: options {', '.join(sorted(options))} are for opening a path, not a source"
                )
            source = path
        else:
            source = storage_for(path).open(path, **options)
        self._set_source(source, allow_unsafe, verify)

    def _set_source(self, source: ByteSource, allow_unsafe: bool, verify: bool) -> None:
        """Set every lazily loaded part to "not loaded yet" over ``source``."""
        self._source = source
        self.path = source.path
        source.ensure_index()
        self._legacy = source.index_size(".offsets") is None
        if self._legacy and source.index_size(".index") is None:
            first = bytes(source.fetch(0, 1)) if source.size() else b""
            if first and not (0x80 <= first[0] <= 0x8F or first[0] in (0xDE, 0xDF)):
                raise FileNotFoundError(
                    f"{source.name}: is not a dings dataset (no index files, and it does not start with a msgpack map)"
                )
            name = source.path.name
            raise FileNotFoundError(
                f"{source.name}: no index found ({name}.offsets or legacy {name}.index); "
                "rewrite the dataset or restore its index files"
            )
        self._allow_unsafe = allow_unsafe
        self._unpack_options = unpack_options(allow_unsafe)
        self._object_hook = self._unpack_options["object_hook"]
        self._verify = self._verify_asked = bool(verify)
        self._checksums: np.ndarray | None = None
        self._view: memoryview | None = None
        self._position = 0
        self._length: int | None = None
        self._offsets: array.array | None = None
        self._offsets_map: Any = None  # the source's memory map of the offsets file, while few samples were read
        self._lazy_reads = 0
        self._keys: list[str] | None = None
        self._key_to_index: dict[str, int] | None = None
        self._hasher: Any = None  # hashlib.blake2s with the index salt, once the hashes are loaded
        self._sorted_hashes: array.array | None = None
        self._hash_order: array.array | None = None
        self._filter: Any = None  # simplebloom.BloomFilter, once loaded
        self._use_filter = False
        self._lookups = 0
        self._absent = 0

    @property
    def source(self) -> ByteSource:
        """Where the data file's bytes come from."""
        return self._source

    # --- lazily loaded index parts ---

    def __len__(self) -> int:
        if self._length is None:
            if self._offsets is not None:
                self._length = len(self._offsets) - 1
            elif self._legacy:
                self._length = len(self.offsets) - 1
            else:  # the offsets file's size, not a count written inside a file, which could lie
                self._source.ensure_index()
                self._length = self._checked(self._offsets_len)
        return self._length

    def _offsets_len(self) -> int:
        """The number of samples from the offsets file's size and last offset (8 bytes read)."""
        source = self._source
        where = source.index_name(".offsets")
        size = source.index_size(".offsets")
        if size is None:
            raise FileNotFoundError(f"{where}: index file not found; restore the dataset's index files")
        data_size = source.size()
        offsets_count(where, size, None, data_size)  # the size is checked before anything is read
        return offsets_count(where, size, source.read_index(".offsets", size - 8, size), data_size)

    def _index_file(self, suffix: str, length: int | None = None) -> bytes:
        """The whole index file ``suffix`` read through the source, its size checked first."""
        return read_index_file(self._source, suffix, self._source.size(), length)

    def _checked(self, load: Callable[[], _T]) -> _T:
        """``load()`` an index file; if it does not fit the data, say so only if the dataset was not replaced."""
        try:
            return load()
        except CorruptIndexError:
            self.source.check_generation()  # a replaced dataset is named as such, not as damaged
            raise

    def _index_error(self, source: str, what: str) -> CorruptIndexError:
        """The error for an index that disagrees with the data: damage, or a replace while the reader was open."""
        return CorruptIndexError(f"{source}: {what}; {self._what_next()}", path=source)

    def _what_next(self) -> str:
        """What to do about data and index that disagree: reopen a replaced dataset, else verify it."""
        try:
            self._source.check_generation()
        except IncompleteCommitError:  # the index files just read belong to a newer generation
            return (
                "the dataset was probably replaced while it was open; open it again "
                "(if it was not replaced, run `dings verify` to see what is damaged)"
            )
        return "run `dings verify` to see what is damaged"

    @property
    def offsets(self) -> array.array:
        """Start offsets of all samples plus the data size (N+1 values), checked against the data file.

        An ``array.array`` of int64: compact, and indexing it gives plain ints (fast random access).
        """
        if self._offsets is None:
            self._source.ensure_index()
            size = self._source.size()
            suffix = ".index" if self._legacy else ".offsets"
            source = self._source.index_name(suffix)
            if self._legacy:
                self._keys, offsets = self._checked(lambda: parse_legacy_index(source, self._index_file(suffix), size))
            else:
                offsets = self._checked(lambda: parse_offsets(source, self._index_file(suffix), size))
            self.source.check_generation()  # the index file just read belongs to the open data file
            if offsets[0] != 0 or int(offsets[-1]) != size or np.any(offsets[1:] <= offsets[:-1]):
                raise self._index_error(
                    source, f"offsets do not match the data file {self._source.name} ({size} bytes)"
                )
            self._offsets = array.array("q", offsets.astype(np.int64).tobytes())
            self._length = len(offsets) - 1
            self._close_offsets_map()
        return self._offsets

    def _offsets_array(self) -> np.ndarray:
        """The offsets as an int64 numpy array sharing the ``array.array``'s memory."""
        return np.frombuffer(self.offsets, dtype=np.int64)

    def _bounds_of(self, index: int) -> tuple[int, int]:
        """Byte range of sample ``index`` (valid), from the memory-mapped offsets file while only a
        few samples were read (opening a reader and reading one sample loads no index)."""
        if self._offsets is not None or self._legacy or self._lazy_reads >= LAZY_READS:
            offsets = self.offsets
            return offsets[index], offsets[index + 1]
        self._lazy_reads += 1
        table = self._offsets_map
        size = self._source.size()
        if table is None:
            target = self._source.index_name(".offsets")
            count = len(self)  # checks the file's size and last offset before it is mapped
            table = self._source.map_index(".offsets")
            if table is None:  # a source without memory maps: 16 bytes read per sample
                table = self._source.read_index(".offsets", index * 8, index * 8 + 16)
                begin, end = _read_pair(table, 0) if len(table) == 16 else (0, 0)
                if not begin < end <= size:
                    return self.offsets[index], self.offsets[index + 1]  # loading all offsets names the damage
                return begin, end
            length = len(table)
            if length != 8 * (count + 1):
                table.close()
                self.source.check_generation()
                raise self._index_error(target, f"size {length} changed while the dataset was open")
            first = _read_hash(table, 0)[0]
            last = _read_hash(table, length - 8)[0]
            if first != 0 or last != size:
                table.close()
                raise self._index_error(
                    target, f"offsets do not match the data file {self._source.name} ({size} bytes)"
                )
            self._offsets_map = table
        begin, end = _read_pair(table, index * 8)
        if not begin < end <= size:
            return self.offsets[index], self.offsets[index + 1]  # loading all offsets names the damage
        return begin, end

    def _close_offsets_map(self) -> None:
        if self._offsets_map is not None:
            self._offsets_map.close()
            self._offsets_map = None

    @property
    def keys(self) -> list[str]:
        """All keys in sample order (loads the keys file)."""
        if self._keys is None:
            if self._legacy:
                _ = self.offsets
            else:
                self._source.ensure_index()
                where = self._source.index_name(".keys")
                keys = self._checked(lambda: parse_keys(where, self._index_file(".keys", len(self))))
                self.source.check_generation()  # the index file just read belongs to the open data file
                if len(keys) != len(self.offsets) - 1:
                    raise self._index_error(where, f"{len(keys)} keys but {len(self.offsets) - 1} offsets")
                self._keys = keys
        return cast(list[str], self._keys)  # set above, or by loading a legacy index

    def _load_hashes(self) -> None:
        where = self._source.index_name(".key_hashes")
        salt, hashes = self._checked(
            lambda: parse_key_hashes(where, self._index_file(".key_hashes", len(self)), len(self))
        )
        self.source.check_generation()  # the index file just read belongs to the open data file
        if len(hashes) != len(self):
            raise self._index_error(where, f"{len(hashes)} hashes for {len(self)} samples")
        order = np.argsort(hashes, kind="stable")
        ordered = hashes[order].astype(np.uint64)
        # buckets by the top bits of the hash narrow each binary search to a few entries;
        # about one bucket per key keeps the structure at ~16 bytes per key
        bits = min(max(len(ordered), 1).bit_length(), 24)
        self._bucket_shift = 64 - bits
        bucket_starts = np.searchsorted(
            ordered >> np.uint64(self._bucket_shift), np.arange((1 << bits) + 1, dtype=np.uint64)
        )
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
        self._source.ensure_index()
        if self._legacy or self._source.index_size(".key_hashes") is None:
            if not self._legacy:
                warnings.warn(
                    f"{self._source.index_name('.key_hashes')}: index file missing; key look-up will be slower",
                    stacklevel=3,
                )
            self._key_to_index = {k: i for i, k in enumerate(self.keys)}
            return self._key_to_index.get(key)
        if self._source.index_size(".filter") is not None:
            where = self._source.index_name(".filter")
            self._filter = self._checked(lambda: parse_filter(where, self._index_file(".filter", len(self))))
            self.source.check_generation()  # the index file just read belongs to the open data file
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
        if self._use_filter and key not in self._filter:
            self._absent += 1
            return None
        hasher = self._hasher.copy()
        hasher.update(key.encode("utf-8"))
        (wanted,) = _read_hash(hasher.digest())  # the first 8 digest bytes, big-endian
        bucket = wanted >> self._bucket_shift
        buckets = self._buckets
        start = buckets[bucket]
        end = buckets[bucket + 1]
        hashes, order = self._sorted_hashes, self._hash_order
        if hashes is None or order is None:  # _lookup loads them first
            raise RuntimeError(f"{self.path}: key look-up before the key hashes were loaded")
        if end - start > 1:  # most buckets hold zero or one hash: no search needed
            start = bisect.bisect_left(hashes, wanted, start, end)
        if start < end and hashes[start] == wanted:
            return order[start]
        self._absent += 1
        return None

    # --- key look-up ---

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
            raise KeyError(f"{key!r} is not a key of {self._source.name}")
        return found

    def find_key(self, index: int) -> str:
        """Return the key of the sample at ``index`` (negative counts from the end)."""
        return self.keys[self._normalize(index)]

    # --- damaged data ---

    def _key_or_none(self, index: int) -> str | None:
        try:
            return self.keys[index]
        except Exception:  # the keys file may be damaged too
            return None

    def _damaged(self, index: int, problem: object) -> Exception:
        """The error for sample ``index`` that does not decode: UnsafeDataError stays what it is."""
        key = self._key_or_none(index)
        where = f"{self._source.name}: sample {index}" + (f" (key {key!r})" if key is not None else "")
        if isinstance(problem, UnsafeDataError):
            return UnsafeDataError(f"{where}: {problem}")
        if isinstance(problem, BaseException):
            problem = describe_decode_error(problem)
        return DamagedDataError(
            f"{where} is damaged ({problem}); run `dings verify` on it", path=self._source.name, index=index, key=key
        )

    def _decode(self, index: int, piece: Any) -> Any:
        try:
            sample = msgpack.unpackb(piece, **self._unpack_options)
        except Exception as exc:  # msgpack and msgpack-numpy raise many types for broken input
            raise self._damaged(index, exc) from None
        if type(sample) is not dict:
            raise self._damaged(index, f"a {type(sample).__name__}, not a map")
        return sample

    def _check(self, first: int, buffer: Any, starts: Sequence[int], base: int = 0) -> None:
        """Check samples ``first``, ``first + 1``, … (bytes ``starts[i] - base`` … ``starts[i + 1] - base``
        of ``buffer``) against their per-sample checksums."""
        checksums = self._checksums
        if checksums is None:
            if self._source.index_size(CHECKSUMS_SUFFIX) is None:  # the dataset has none: nothing to check
                self._verify = False
                return
            where = self._source.index_name(CHECKSUMS_SUFFIX)
            checksums = self._checksums = self._checked(
                lambda: parse_checksums(where, self._index_file(CHECKSUMS_SUFFIX, len(self)), len(self))
            )
            self.source.check_generation()  # the index file just read belongs to the open data file
        expected = checksums[first : first + len(starts) - 1].tolist()
        view = memoryview(buffer)
        if base:
            starts = (np.asarray(starts, dtype=np.int64) - base).tolist()
        crc = sample_checksum
        found = [crc(view[begin:end]) for begin, end in zip(starts[:-1], starts[1:])]
        if found != expected:
            number = next(i for i, (a, b) in enumerate(zip(found, expected)) if a != b)
            raise self._damaged(first + number, "its bytes do not match its checksum in the .crc32 file")

    # --- the sample-source protocol ---

    def _buffer(self) -> memoryview | None:
        """The memory-mapped data file (opened again after close), or None when bytes are fetched."""
        view = self._view = self._source.view()
        if view is not None and self._verify_asked and not self._verify:
            self._verify, self._checksums = True, None  # a cached copy may have checksums the remote had not
        return view

    def read_sample(self, index: int, *, raw: bool = False, copy: bool = True) -> Any:
        """Return sample ``index`` (a valid, non-negative index); see :meth:`Reader.read_sample`."""
        offsets = self._offsets
        view = self._view
        if offsets is None or view is None or self._verify:
            return self._read_checked(index, raw, copy)
        piece = view[offsets[index] : offsets[index + 1]]
        if raw:
            return bytes(piece) if copy else piece
        try:
            sample = msgpack.unpackb(piece, object_hook=self._object_hook, raw=False, strict_map_key=False)
        except Exception as exc:
            raise self._damaged(index, exc) from None
        if type(sample) is not dict:
            raise self._damaged(index, f"a {type(sample).__name__}, not a map")
        return sample

    def _read_checked(self, index: int, raw: bool, copy: bool) -> Any:
        """:meth:`read_sample` before the index is loaded, for fetched bytes, or with ``verify``."""
        begin, end = self._bounds_of(index)
        view = self._view if self._view is not None else self._buffer()
        piece = view[begin:end] if view is not None else self._source.fetch(begin, end)
        if self._verify:
            self._check(index, piece, (begin, end), begin)
        if raw:
            return bytes(piece) if copy else piece
        return self._decode(index, piece)

    def get(self, index: int, yield_key: bool = False, raw: bool = False, copy: bool = True) -> Any:
        """Return the sample at ``index`` (negative counts from the end); see :meth:`Reader.get`."""
        offsets = self._offsets
        view = self._view
        if offsets is None or view is None or self._verify:  # not loaded yet, fetched, or checked
            sample = self.read_sample(self._normalize(index), raw=raw, copy=copy)
            return (self.find_key(index), sample) if yield_key else sample
        length = len(offsets) - 1
        position = index + length if type(index) is int and index < 0 else index
        if type(position) is not int or not 0 <= position < length:
            position = self._normalize(index)  # raises the right error (or accepts numpy ints)
        piece = view[offsets[position] : offsets[position + 1]]
        if raw:
            sample = bytes(piece) if copy else piece
        else:  # explicit keywords: measurably faster than ** on this hot path
            try:
                sample = msgpack.unpackb(piece, object_hook=self._object_hook, raw=False, strict_map_key=False)
            except Exception as exc:
                raise self._damaged(position, exc) from None
            if type(sample) is not dict:
                raise self._damaged(position, f"a {type(sample).__name__}, not a map")
        return (self.keys[position], sample) if yield_key else sample

    def read_range(self, start: int, stop: int, *, raw: bool = False, copy: bool = True) -> Iterator[Any]:
        """Yield samples ``start`` … ``stop - 1`` (valid bounds), a chunk of whole samples at a time.

        Small samples are decoded by one C call per chunk, then checked: exactly the samples the
        offsets promise, ending where the chunk ends, or :class:`~dings.format.DamagedDataError`.
        """
        if start >= stop:
            return iter(())
        offsets = self.offsets
        view = self._view if self._view is not None else self._buffer()
        if raw and not copy and view is not None and not self._verify:
            return self._view_range(view, offsets[start : stop + 1])
        decode = self._decoder(start, stop, raw, copy)
        if decode == self._large_chunk:
            return self._large_samples(start, stop)
        return itertools.chain.from_iterable(self._chunks(start, stop, decode, copy))

    @staticmethod
    def _view_range(view: memoryview, bounds: array.array) -> Iterator[memoryview]:
        # zero-copy slices of the memory map, one at a time (a plain loop beats building lists here)
        begin = bounds[0]
        for end in bounds[1:]:
            yield view[begin:end]
            begin = end

    def _large_samples(self, start: int, stop: int) -> Iterator[Any]:
        # one at a time: a decoded large sample is dropped before the next is made, so its memory
        # is reused while still in the cache
        offsets = self.offsets
        for first, end in self._blocks(start, stop, self._source.block_size):
            buffer, base = self._block(first, end, copy=False)
            if self._verify:
                self._check(first, buffer, offsets[first : end + 1], base)
            view = memoryview(buffer)
            for i in range(first, end):
                yield self._decode(i, view[offsets[i] - base : offsets[i + 1] - base])

    def _decoder(self, start: int, stop: int, raw: bool, copy: bool) -> Any:
        """How to turn a chunk of samples ``start`` … ``stop - 1`` into a list."""
        if raw:
            return self._raw_chunk if copy else self._view_chunk
        offsets = self.offsets
        if (offsets[stop] - offsets[start]) >= LARGE_SAMPLE * (stop - start):
            return self._large_chunk
        return self._decode_chunk

    def _chunks(self, start: int, stop: int, decode: Any, copy: bool) -> Iterator[list]:
        """Samples ``start`` … ``stop - 1`` as lists of at most :data:`CHUNK` samples: each block of
        the source (one fetch when remote) is decoded a chunk at a time, so few decoded samples are
        alive at once (the garbage collector then has little to scan)."""
        for first, end in self._blocks(start, stop, self._source.block_size):
            buffer, base = self._block(first, end, copy)
            for head in range(first, end, CHUNK):
                yield decode(head, min(end, head + CHUNK), buffer, base)

    def _block(self, first: int, end: int, copy: bool = True) -> tuple[Any, int]:
        """The bytes of samples ``first`` … ``end - 1``: ``(buffer, base)`` with sample ``i`` at
        ``offsets[i] - base`` — the memory map (base 0) or one fetched range."""
        offsets = self.offsets
        view = self._view if self._view is not None else self._buffer()
        if view is None:
            begin = offsets[first]
            return self._source.fetch(begin, offsets[end]), begin
        if copy:
            whole = self._source.bytes_view()
            if whole is not None:
                return whole, 0  # slicing the memory map itself gives bytes in one step
        return view, 0

    def _view_chunk(self, first: int, end: int, buffer: Any, base: int) -> list:
        starts = self.offsets[first : end + 1]
        if self._verify:
            self._check(first, buffer, starts, base)
        view = memoryview(buffer)
        return [view[a - base : b - base] for a, b in zip(starts[:-1], starts[1:])]

    def _raw_chunk(self, first: int, end: int, buffer: Any, base: int) -> list:
        starts = self.offsets[first : end + 1]
        if self._verify:
            self._check(first, buffer, starts, base)
        if base == 0 and type(buffer) is not memoryview:  # the mmap: slices are bytes
            return [buffer[a:b] for a, b in zip(starts[:-1], starts[1:])]
        view = memoryview(buffer)
        return [bytes(view[a - base : b - base]) for a, b in zip(starts[:-1], starts[1:])]

    def _large_chunk(self, first: int, end: int, buffer: Any, base: int) -> list:
        # large samples: decode each straight from the buffer (no copy into an unpacker)
        offsets = self.offsets
        if self._verify:
            self._check(first, buffer, offsets[first : end + 1], base)
        view = memoryview(buffer)
        return [self._decode(i, view[offsets[i] - base : offsets[i + 1] - base]) for i in range(first, end)]

    def _decode_chunk(self, first: int, end: int, buffer: Any, base: int) -> list:
        offsets = self.offsets
        if self._verify:
            self._check(first, buffer, offsets[first : end + 1], base)
        block = memoryview(buffer)[offsets[first] - base : offsets[end] - base]
        unpacker = msgpack.Unpacker(max_buffer_size=len(block) + 5, **self._unpack_options)
        unpacker.feed(_array_header(0xDD, end - first))
        unpacker.feed(block)  # a copy: samples never refer to the memory map
        try:
            samples = unpacker.unpack()
            whole = unpacker.tell() == len(block) + 5
        except Exception:
            samples, whole = None, False
        if not whole or samples is None or set(map(type, samples)) != {dict}:
            return self._decode_each(first, end, buffer, base)
        return samples

    def _decode_each(self, first: int, end: int, buffer: Any, base: int) -> list:
        """Decode samples ``first`` … ``end - 1`` one by one: the damaged one raises, naming it.

        The block is decoded as one array, one level deeper than its samples: a sample nested as
        deep as msgpack allows (:data:`dings.format.MAX_NESTING`) decodes only alone."""
        offsets = self.offsets
        view = memoryview(buffer)
        return [self._decode(i, view[offsets[i] - base : offsets[i + 1] - base]) for i in range(first, end)]

    def _blocks(self, start: int, stop: int, size: int) -> Iterator[tuple[int, int]]:
        """Split samples ``start`` … ``stop - 1`` into runs of whole samples of at most ``size`` bytes
        (a larger sample is a run of its own)."""
        offsets = self.offsets
        position = start
        while position < stop:
            end = bisect.bisect_right(offsets, offsets[position] + size, position + 1, stop + 1) - 1
            end = max(end, position + 1)
            yield position, end
            position = end

    @property
    def fetches_concurrently(self) -> bool:
        """True while samples are fetched remotely (see :meth:`read_runs`)."""
        return self._source.fetches_concurrently

    def read_runs(self, runs: Sequence[tuple[int, int]], raw: bool = False, copy: bool = True) -> list[list]:
        """Return the samples of each run ``(start, stop)``, one list per run.

        From a remote source the runs (split into requests of at most its block size) are fetched
        with several requests in flight, so a batch of scattered samples costs about one round trip.
        """
        if not self._source.fetches_concurrently or len(runs) < 2:
            return super().read_runs(runs, raw, copy)
        offsets = self.offsets
        pieces: list[tuple[int, int, int]] = []  # (run number, first sample, end sample)
        for number, (start, stop) in enumerate(runs):
            pieces.extend(
                (number, first, end) for first, end in self._blocks(*self._bounds(start, stop), self._source.block_size)
            )
        blocks = self._source.fetch_many([(offsets[first], offsets[end]) for _, first, end in pieces])
        samples: list[list] = [[] for _ in runs]
        for (number, first, end), buffer in zip(pieces, blocks):
            decode = self._decoder(first, end, raw, copy)
            for head in range(first, end, CHUNK):
                samples[number].extend(decode(head, min(end, head + CHUNK), buffer, offsets[first]))
        return samples

    def read_spans(self, indices: Sequence[int] | np.ndarray) -> list[Spans]:
        """Return where the packed bytes of the samples at ``indices`` lie: one zero-copy span over
        the memory map (or, remotely, over one buffer filled by concurrent ranged fetches).

        Remotely, the samples are fetched in storage order whatever the order of ``indices``: each
        run of adjacent samples among them (a ``quasi`` chunk, shuffled within its batch) is one
        ranged request. The spans still answer ``indices`` in the order given.
        """
        wanted = np.asarray(indices, dtype=np.int64)
        offsets = self._offsets_array()
        starts, stops = offsets[wanted], offsets[wanted + 1]
        where = np.arange(len(wanted), dtype=np.intp)
        view = self._view if self._view is not None else self._buffer()
        if view is None:
            if not len(wanted):
                return [Spans(b"", starts, stops, where)]
            view, shift = self._fetch_spans(starts, stops)
            starts, stops = starts - shift, stops - shift
        if self._verify:
            for index, begin, end in zip(wanted.tolist(), starts.tolist(), stops.tolist()):
                self._check(index, view, (begin, end), 0)
        return [Spans(view, starts, stops, where)]

    def _fetch_spans(self, starts: np.ndarray, stops: np.ndarray) -> tuple[memoryview, np.ndarray]:
        """Fetch the byte ranges ``starts[i] … stops[i]`` (any order, repeats allowed) with one
        request per run of adjacent ranges; return the buffer and how far each range moved in it."""
        first, last = np.unique(starts), np.unique(stops)  # sorted; samples never overlap
        breaks = np.flatnonzero(first[1:] != last[:-1]) + 1  # runs of adjacent byte ranges
        heads, tails = first[np.concatenate(([0], breaks))], last[np.concatenate((breaks, [len(last)])) - 1]
        buffer = b"".join(self._source.fetch_many(list(zip(heads.tolist(), tails.tolist()))))
        sizes = tails - heads
        moved = heads - (np.cumsum(sizes) - sizes)  # file position minus buffer position, per run
        return memoryview(buffer), moved[np.searchsorted(heads, starts, side="right") - 1]

    # --- integrity ---

    def verify_data(self, read_size: int = 512 * 1024, progress: bool | None = False) -> bool:
        """Check the data file against the md5 file.

        Args:
            read_size: datadings' read-ahead size; accepted, hashing uses dings.format's block size.
            progress: show a progress line while hashing.

        Returns:
            True when the data file matches its checksum.
        """
        return self._source.verify_data(progress)

    def verify_index(self, read_size: int = 512 * 1024, progress: bool | None = False) -> bool:
        """Check the index files against the md5 file and against the data.

        Args:
            read_size: datadings' read-ahead size; accepted, hashing uses dings.format's block size.
            progress: show a progress line while hashing.

        Returns:
            True when every index file matches its checksum and agrees with the data.
        """
        return not self._index_problems(progress)

    def _index_problems(self, progress: bool | None) -> list[str]:
        problems = self._source.index_problems(progress)
        try:
            _ = self.offsets
            if not self._legacy:
                _ = self.keys
        except (CorruptIndexError, OSError) as exc:
            problems.append(str(exc))
        return problems

    def verify(self) -> VerificationReport:
        """Run every check of :func:`dings.format.verify` on this dataset."""
        return self._source.verify(lambda: self._index_problems(False), self.__len__)

    # --- lifecycle ---

    def close(self) -> None:
        """Release the memory maps; the reader opens them again when it is used again."""
        self._view = None
        self._close_offsets_map()
        self._source.close()

    def __copy__(self) -> MsgpackReader:
        clone = super().__copy__()
        for name in _REBUILT:
            setattr(clone, name, None)
        clone._use_filter = False
        clone._source = self._source.copy()
        return clone

    def __getstate__(self) -> dict[str, Any]:
        # pickling (spawned DataLoader workers) sends the path and what is loaded, but not the memory
        # maps or the key look-up structures: they are rebuilt lazily on the other side
        state = self.__dict__.copy()
        for name in _REBUILT:
            state[name] = None
        state["_use_filter"] = False
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"MsgpackReader({self._source.name!r})"
