"""RemoteMsgpackReader: a dataset read from object storage or HTTP through fsspec, with a local cache.

``MsgpackReader(url)`` returns one for any URL whose scheme is not ``file``. Needs the extra
``pip install "dings-readers[remote]"`` (fsspec) plus the protocol's package (``s3fs``, ``gcsfs``,
``aiohttp`` for http(s), …).
"""

from __future__ import annotations

import bisect
import hashlib
import os
import threading
import warnings
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import msgpack
from dings.format import CorruptIndexError, VerifyReport, load_md5
from dings.format.paths import INDEX_SUFFIXES, LEGACY_INDEX_SUFFIX, MD5_SUFFIX
from dings.format.verify import check_md5
from dings.format import verify as verify_dataset

from .msgpack_reader import LARGE_SAMPLE, MsgpackReader
from .remote_cache import DatasetCache, cache_root, evict, folder_size, write_atomic
from .remote_cache import cache_limit as resolve_cache_limit
from .remote_fs import RemoteFiles, RetryPolicy, data_url, is_url, join_url, url_name

__all__ = ["RemoteMsgpackReader", "DEFAULT_BLOCK_SIZE", "CACHE_MODES"]

#: bytes fetched by one ranged request of a sequential or chunked pass (at least one sample)
DEFAULT_BLOCK_SIZE = 8 << 20
#: ``cache`` arguments: index files only; index + data files read completely; index + data at once
CACHE_MODES = ("index", "auto", "full")
_INDEX_NAMES = {".offsets": "offsets index", ".keys": "keys index", ".key_hashes": "key hashes",
                ".filter": "Bloom filter", MD5_SUFFIX: "md5 file", LEGACY_INDEX_SUFFIX: "legacy index", "": "data file"}


class _Fill:
    """A sparse temporary copy of the data file, filled with every range fetched, moved into the cache when complete."""

    def __init__(self, tmp: Path, size: int) -> None:
        self.tmp = tmp
        self.size = size
        self.pid = os.getpid()
        self.fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        # an unfinished copy is removed when the reader is dropped or the interpreter exits
        self._finalizer = weakref.finalize(self, _discard, self.fd, tmp, self.pid)
        self.starts: list[int] = []  # disjoint, merged [start, end) ranges, sorted
        self.ends: list[int] = []
        self.lock = threading.Lock()

    def add(self, start: int, data: bytes) -> bool:
        """Write ``data`` at ``start``; return True once the whole file is covered."""
        end = start + len(data)
        with self.lock:
            os.pwrite(self.fd, data, start)
            i = bisect.bisect_left(self.ends, start)  # first range that ends at or after start
            j = bisect.bisect_right(self.starts, end)  # ranges before j start at or before end
            if i < j:
                start, end = min(start, self.starts[i]), max(end, self.ends[j - 1])
            self.starts[i:j] = [start]
            self.ends[i:j] = [end]
            return self.starts == [0] and self.ends == [self.size]

    def close(self, remove: bool = True) -> None:
        """Close the file; remove it unless it is about to become the cached data file."""
        self._finalizer.detach()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if remove:
            self.tmp.unlink(missing_ok=True)


def _discard(fd: int, tmp: Path, pid: int) -> None:
    if os.getpid() != pid:  # a forked child dropping its inherited copy: the file is the parent's
        return
    try:
        os.close(fd)
    except OSError:
        pass
    tmp.unlink(missing_ok=True)


class RemoteMsgpackReader(MsgpackReader):
    """A :class:`MsgpackReader` over a dataset at a URL (``s3://``, ``gs://``, ``https://``, any fsspec URL).

    **Index files** (``.offsets``, ``.keys``, ``.key_hashes``, ``.filter``, or a legacy ``.index``)
    are fetched once into a cache folder, checked against the dataset's ``.md5`` file, and then
    used like a local dataset's. On every open the ``.md5`` file is fetched again (one small
    request) and each cached index file hashed: a dataset that changed remotely, or a damaged
    cached file, is fetched anew.

    **Samples** are fetched with ranged reads. A sequential or chunked pass (``iter``, slices,
    :class:`~dings.readers.QuasiShuffler`, dings.torch chunks) fetches neighbouring samples
    together, in blocks of up to ``block_size`` bytes, so it makes one request per chunk (or per
    block of a long pass), not one per sample; ``get`` makes one request per sample unless the
    sample is in the block fetched last. :attr:`requests` counts the ranged requests.

    **Data cache** (``cache="auto"``): every range fetched is also written into a sparse temporary
    file in the cache folder; once the whole data file has been fetched (in any order, e.g. after
    one epoch in one process) it is checked against the md5 file and kept, and from then on (also
    in later runs) the dataset is read locally through a memory map, like a local file.
    ``cache="full"`` or :meth:`cache_data` downloads the data file at once. ``cache="index"``
    never stores data. The cache stays below ``cache_limit`` bytes by evicting the least recently
    used datasets (data files first, then their index files); a data file that does not fit alone
    is never cached. A cached data file is trusted while its size and modification time are those
    it had when its md5 last matched; otherwise it is hashed again, and dropped if it differs.
    Datasets without an ``.md5`` file are read but nothing of them is trusted from the cache.

    **Errors**: connection errors, timeouts, HTTP 5xx/429/408 and short reads are retried with
    exponential back-off; not found, access denied and other permanent errors raise at once, naming
    the URL and what was read.

    **Processes**: the fsspec filesystem is created anew in each process, so a reader may be
    opened before DataLoader workers fork (or be pickled to spawned workers). Workers read a
    cached data file, but only the process that opened the reader stores one (each worker sees
    only part of the data): call :meth:`cache_data` before starting workers to train from the cache.

    Args:
        path: URL of the data file (or of any of its index files).
        buffering: accepted for datadings compatibility; unused.
        allow_unsafe: decode object-dtype arrays with pickle. Only for files you trust.
        cache_dir: the cache root (default ``$DINGS_CACHE`` or ``~/.cache/dings``); each dataset
            gets a subfolder named by the hash of its URL.
        cache_limit: cache size limit in bytes (default ``$DINGS_CACHE_LIMIT`` or 20 GiB).
        cache: ``"auto"``, ``"full"`` or ``"index"`` (see above).
        storage_options: keyword arguments for the fsspec filesystem (``endpoint_url``, ``anon``, …).
        retries: further attempts after a transient error.
        backoff: seconds before the first retry, doubled for each further one.
        block_size: bytes per ranged request of a sequential pass.

    Raises:
        ImportError: fsspec or the protocol's package is not installed (the message says what to install).
        FileNotFoundError: the data file or its index is missing remotely.
        PermissionError: access is denied.
        dings.readers.RemoteError: another permanent error, or transient errors past the retries.
        dings.format.CorruptIndexError: a fetched index file does not match the md5 file.
    """

    #: requests :meth:`read_runs` keeps in flight at once
    concurrent_requests = 16

    def __init__(
        self,
        path: str,
        buffering: int = 0,
        *,
        allow_unsafe: bool = False,
        cache_dir: str | os.PathLike | None = None,
        cache_limit: int | None = None,
        cache: str = "auto",
        storage_options: dict[str, Any] | None = None,
        retries: int = 5,
        backoff: float = 0.5,
        block_size: int = DEFAULT_BLOCK_SIZE,
    ) -> None:
        if not is_url(path):
            raise ValueError(f"{path!r} is not a URL; open local files with MsgpackReader")
        if cache not in CACHE_MODES:
            raise ValueError(f"cache must be one of {', '.join(map(repr, CACHE_MODES))}, got {cache!r}")
        if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 1:
            raise ValueError(f"block_size must be a positive number of bytes, got {block_size!r}")
        path = data_url(path)
        name = url_name(path)
        self.url = path
        self.remote = RemoteFiles(path, storage_options, RetryPolicy(retries, backoff))
        self.cache_mode = cache
        self.cache_limit = resolve_cache_limit(cache_limit)
        self.block_size = block_size
        self.requests = 0
        self._cache = DatasetCache(cache_root(cache_dir), path, name)
        self.path = self._cache.file()
        self._init_state(allow_unsafe)
        self._local = False
        self._last: tuple[int, bytes] | None = None  # (start, block) fetched last
        self._fill: _Fill | None = None
        self._fill_failed = False
        self._owner = os.getpid()  # only the process that opened the reader fills the data cache
        self._digests: dict[str, str] = {}
        self._size: int | None = None
        self._fetch_index()
        if self._digests.get(name) and self._cache.trusted(self._digests[name]):
            self._size = self.path.stat().st_size
        elif self._size is None:
            self._size = self.remote.size(self.url, "the data file")
        self._open()
        if cache == "full":
            self.cache_data()

    # --- index files ---

    def _what(self, suffix: str) -> str:
        return f"the {_INDEX_NAMES.get(suffix, suffix)} of {self.url}"

    def _fetch_index(self) -> None:
        """Fetch the md5 file, then every index file that is not cached and intact (see the class doc)."""
        md5_path = self._cache.file(MD5_SUFFIX)
        try:
            content = self.remote.cat(join_url(self.url, self._cache.name + MD5_SUFFIX), self._what(MD5_SUFFIX))
        except FileNotFoundError:
            content = None
        if content is None:
            self._size = self.remote.size(self.url, "the data file")  # a missing dataset is named by its data file
            warnings.warn(f"{self.url}: no md5 file; index files are fetched unverified and data is never cached", stacklevel=4)
            self._cache.clear()
            self._digests = {}
            if not self._get_index(".offsets", required=False):
                self._legacy = True
                self._get_index(LEGACY_INDEX_SUFFIX, required=True)
                return
            self._legacy = False
            for suffix in (".keys", ".key_hashes", ".filter"):
                self._get_index(suffix, required=False)
            return
        if not md5_path.is_file() or md5_path.read_bytes() != content:
            self._cache.clear()  # new or changed dataset: nothing cached for it can be trusted
            write_atomic(md5_path, content)
        self._digests = load_md5(md5_path)
        if self._cache.name not in self._digests:
            raise CorruptIndexError(f"{self.url}{MD5_SUFFIX}: has no checksum for the data file {self._cache.name}")
        listed = [s for s in INDEX_SUFFIXES if self._cache.name + s in self._digests]
        self._legacy = ".offsets" not in listed
        if self._legacy:
            self._get_index(LEGACY_INDEX_SUFFIX, required=True)
        for suffix in listed:
            self._get_index(suffix, required=True)
        self._evict()

    def _get_index(self, suffix: str, required: bool) -> bool:
        """Make sure the index file ``suffix`` is in the cache folder and matches its md5 (if listed)."""
        target = self._cache.file(suffix)
        digest = self._digests.get(self._cache.name + suffix)
        if digest is not None and target.is_file() and hashlib.md5(target.read_bytes()).hexdigest() == digest:
            return True
        url = join_url(self.url, self._cache.name + suffix)
        try:
            content = self.remote.cat(url, self._what(suffix))
        except FileNotFoundError:
            if required:
                raise
            return False
        if digest is not None and hashlib.md5(content).hexdigest() != digest:
            raise CorruptIndexError(
                f"{url}: md5 mismatch with {self._cache.name}{MD5_SUFFIX} (the remote dataset is damaged or being rewritten); "
                "verify the source dataset"
            )
        write_atomic(target, content)
        return True

    def _ensure_index(self) -> None:
        """Fetch index files again if eviction (by another process) removed them."""
        suffixes = [LEGACY_INDEX_SUFFIX] if self._legacy else [s for s in INDEX_SUFFIXES if self._cache.name + s in self._digests]
        for suffix in suffixes:
            if not self._cache.file(suffix).is_file():
                self._get_index(suffix, required=True)

    def __len__(self) -> int:
        if self._length is None:
            self._ensure_index()
        return super().__len__()

    @property
    def offsets(self):  # type: ignore[override]
        """Start offsets of all samples plus the data size (N+1 values), checked against the data file."""
        if self._offsets is None:
            self._ensure_index()
            if self._legacy:
                self._offsets = self._legacy_offsets()
                self._length = len(self._offsets) - 1
        return MsgpackReader.offsets.fget(self)  # type: ignore[attr-defined]

    def _legacy_offsets(self):
        """Offsets from a legacy ``.index`` (map key → offset); the data file's size is the remote one."""
        import array

        target = self._cache.file(LEGACY_INDEX_SUFFIX)
        try:
            mapping = msgpack.unpackb(target.read_bytes(), raw=False, strict_map_key=False)
        except Exception as exc:
            raise CorruptIndexError(f"{self.url}{LEGACY_INDEX_SUFFIX}: not a valid msgpack map: {exc}") from None
        if not isinstance(mapping, dict) or not all(isinstance(k, str) for k in mapping):
            raise CorruptIndexError(f"{self.url}{LEGACY_INDEX_SUFFIX}: expected a map of str keys to offsets")
        values = list(mapping.values())
        if not all(type(v) is int for v in values) or any(b <= a for a, b in zip([*values, self._size], [*values[1:], self._size])) \
                or (values and values[0] != 0):
            raise CorruptIndexError(
                f"{self.url}{LEGACY_INDEX_SUFFIX}: offsets must start at 0, increase strictly and stay below the data size {self._size}"
            )
        self._keys = list(mapping)
        return array.array("q", [*values, self._size])

    @property
    def keys(self) -> list[str]:  # type: ignore[override]
        """All keys in sample order (loads the keys file)."""
        if self._keys is None:
            self._ensure_index()
        return MsgpackReader.keys.fget(self)  # type: ignore[attr-defined]

    def _lookup(self, key: str) -> int | None:
        if self._sorted_hashes is None and self._key_to_index is None:
            self._ensure_index()
        return super()._lookup(key)

    def find_index(self, key: str) -> int:
        """Return the index of the sample with ``key``.

        Raises:
            KeyError: no sample has this key.
        """
        found = self._lookup(key) if isinstance(key, str) else None
        if found is None:
            raise KeyError(f"{key!r} is not a key of {self.url}")
        return found

    # --- data ---

    @property
    def cached(self) -> bool:
        """Whether samples are read from the verified local copy of the data file."""
        return self._local

    def _open(self) -> None:
        digest = self._digests.get(self._cache.name)
        if digest is not None and self.path.is_file() and self._cache.trusted(digest):
            MsgpackReader._open(self)
            self._local = True
        else:
            self._map, self._view, self._local = None, None, False

    def _evict(self) -> None:
        evict(self._cache.root, self.cache_limit, keep=self._cache.folder)

    def _fits(self) -> bool:
        return folder_size(self._cache.folder) + self._size <= self.cache_limit

    def cache_data(self, progress: bool = False) -> Path:
        """Download the data file into the cache (verified by md5) and read it locally from now on.

        Args:
            progress: accepted for symmetry with other long operations; nothing is shown.

        Returns:
            The cached data file.

        Raises:
            ValueError: the dataset has no md5 file, or the data file does not fit in ``cache_limit``.
            OSError: the downloaded data does not match the md5 file.
        """
        if self._local:
            self._cache.touch()
            return self.path
        digest = self._digests.get(self._cache.name)
        if digest is None:
            raise ValueError(f"{self.url}: no md5 file, so a cached copy could not be verified; stage it with dings.tools.stage instead")
        if not self._fits():
            raise ValueError(
                f"{self.url}: the data file ({self._size} bytes) does not fit in cache_limit={self.cache_limit} bytes; "
                "raise cache_limit or stage the dataset with dings.tools.stage"
            )
        tmp = self._cache.temp()
        try:
            with open(tmp, "wb") as out:
                for block in self.remote.iter_blocks(self.url, self._size, self.block_size, self._what("")):
                    self.requests += 1
                    out.write(block)
            if not self._cache.store(tmp, digest):
                raise OSError(f"{self.url}: downloaded data does not match its md5 file; the remote dataset is damaged or changed (verify it)")
        finally:
            tmp.unlink(missing_ok=True)
        self._adopt()
        return self.path

    def _adopt(self) -> None:
        """Switch to the verified cached data file."""
        self._drop_fill()
        self._last = None
        self._open()
        self._cache.touch()
        self._evict()

    def _drop_fill(self) -> None:
        fill = self._fill
        self._fill = None
        if fill is not None and fill.pid == os.getpid():
            fill.close(remove=True)

    def _record(self, start: int, data: bytes) -> None:
        """Write a fetched range into the sparse copy; adopt the cached file once every byte was fetched."""
        if self.cache_mode != "auto" or self._fill_failed or os.getpid() != self._owner:
            return  # forked or spawned workers each see only part of the data: the opening process caches
        digest = self._digests.get(self._cache.name)
        if digest is None:
            return
        fill = self._fill
        if fill is None:
            if not self._fits():
                self._fill_failed = True
                return
            try:
                fill = self._fill = _Fill(self._cache.temp(), self._size)
            except OSError:
                self._fill_failed = True
                return
        try:
            complete = fill.add(start, data)
        except OSError:  # disk full or the like: caching is an optimisation, reading goes on
            self._fill_failed = True
            self._drop_fill()
            return
        if complete:
            fill.close(remove=False)
            self._fill = None
            if self._cache.store(fill.tmp, digest):
                self._adopt()
            else:
                self._fill_failed = True
                warnings.warn(f"{self.url}: the data fetched does not match its md5 file; it is not cached (verify the remote dataset)", stacklevel=2)

    def _fetch(self, begin: int, end: int) -> bytes:
        """Bytes ``begin`` … ``end - 1`` of the data file: from the last block if it holds them, else one request."""
        last = self._last
        if last is not None and last[0] <= begin and end <= last[0] + len(last[1]):
            return last[1][begin - last[0] : end - last[0]]
        data = self.remote.cat_range(self.url, begin, end, self._what(""), self._size)
        self.requests += 1
        self._last = (begin, data)
        self._record(begin, data)
        return data

    def _read(self, index: int, raw: bool, copy: bool) -> Any:
        if self._local:
            return super()._read(index, raw, copy)
        offsets = self.offsets
        piece = self._fetch(offsets[index], offsets[index + 1])
        if raw:
            return piece
        return msgpack.unpackb(piece, **self._unpack_options)

    def get(self, index: int, yield_key: bool = False, raw: bool = False, copy: bool = True) -> Any:
        """Return the sample at ``index`` (negative counts from the end); see :meth:`Reader.get`."""
        if self._local:
            return super().get(index, yield_key, raw, copy)
        position = self._normalize(index)
        sample = self._read(position, raw, copy)
        return (self.keys[position], sample) if yield_key else sample

    def _read_range(self, start: int, stop: int, raw: bool, copy: bool, chunk_size: int) -> Iterator[Any]:
        if self._local:
            yield from super()._read_range(start, stop, raw, copy, chunk_size)
            return
        offsets = self.offsets
        # one request for as many whole samples as fit in block_size (at least one)
        for position, end in self._blocks(start, stop, self.block_size):
            if self._local:  # the pass completed the cached copy: go on locally
                yield from super()._read_range(position, stop, raw, copy, chunk_size)
                return
            block = self._fetch(offsets[position], offsets[end])
            yield from self._decode_fetched(position, end, block, raw, copy)

    def _decode_fetched(self, start: int, stop: int, block: bytes, raw: bool, copy: bool) -> Iterator[Any]:
        """Samples ``start`` … ``stop - 1`` from ``block``, their fetched bytes."""
        offsets = self._offsets
        base = offsets[start]  # type: ignore[index]
        view = memoryview(block)
        if raw:
            for i in range(start, stop):
                piece = view[offsets[i] - base : offsets[i + 1] - base]  # type: ignore[index]
                yield bytes(piece) if copy else piece
        elif len(block) >= LARGE_SAMPLE * (stop - start):
            options = self._unpack_options
            for i in range(start, stop):
                yield msgpack.unpackb(view[offsets[i] - base : offsets[i + 1] - base], **options)  # type: ignore[index]
        else:
            unpacker = msgpack.Unpacker(max_buffer_size=max(len(block), 1), **self._unpack_options)
            unpacker.feed(block)
            yield from unpacker

    @property
    def fetches_concurrently(self) -> bool:  # type: ignore[override]
        """True until the data is served from the local cache."""
        return not self._local

    def read_runs(self, runs: Sequence[tuple[int, int]], raw: bool = False, copy: bool = True) -> list[list]:
        """Return the samples of each run ``(start, stop)``, one list per run.

        The runs (split into requests of at most :attr:`block_size` bytes) are fetched with up to
        :attr:`concurrent_requests` requests in flight, so a batch of scattered samples costs about
        one round trip instead of one per run.
        """
        if self._local or len(runs) < 2:
            return super().read_runs(runs, raw, copy)
        offsets = self.offsets
        pieces = []  # (run number, first sample, end sample), whole samples of at most block_size bytes
        for number, (start, stop) in enumerate(runs):
            pieces.extend((number, first, end) for first, end in self._blocks(*self._bounds(start, stop), self.block_size))
        ranges = [(offsets[first], offsets[end]) for _, first, end in pieces]
        blocks = self.remote.cat_ranges(self.url, ranges, self._what(""), self._size, self.concurrent_requests)
        self.requests += len(pieces)
        samples: list[list] = [[] for _ in runs]
        for (number, first, end), block in zip(pieces, blocks):
            if not self._local:
                self._record(offsets[first], block)
            samples[number].extend(self._decode_fetched(first, end, block, raw, copy))
        return samples

    # --- integrity ---

    def verify_data(self, read_size: int = 512 * 1024, progress: bool = False) -> bool:
        """Check the data file (the cached copy, else the remote file, streamed) against the md5 file.

        Args:
            read_size: datadings' read-ahead size; accepted, hashing uses dings.format's block size.
            progress: accepted for symmetry; nothing is shown.

        Returns:
            True when the data matches its checksum (False when there is no md5 file).
        """
        digest = self._digests.get(self._cache.name)
        if digest is None:
            return False
        if self._local:
            return super().verify_data(progress=progress)
        md5 = hashlib.md5()
        for block in self.remote.iter_blocks(self.url, self._size, self.block_size, self._what("")):
            md5.update(block)
        return md5.hexdigest() == digest

    def verify_index(self, read_size: int = 512 * 1024, progress: bool = False) -> bool:
        """Check the cached index files against the md5 file and against the data size.

        Returns:
            True when every index file matches its checksum and agrees with the data.
        """
        return not self._index_problems(progress)

    def _index_problems(self, progress: bool) -> list[str]:
        if not self._digests:
            return [f"{self.url}{MD5_SUFFIX}: md5 file is missing; integrity cannot be checked"]
        report = VerifyReport(self.path)
        names = [self._cache.name + s for s in INDEX_SUFFIXES]
        check_md5(report, self.path, only=names, progress=progress)
        try:
            _ = self.offsets
            if not self._legacy and self._cache.name + ".keys" in self._digests:
                _ = self.keys
        except (CorruptIndexError, OSError) as exc:
            report.problems.append(str(exc))
        return report.problems

    def verify(self) -> VerifyReport:
        """Check index files and data against the md5 file (the data streamed unless cached)."""
        if self._local:
            return verify_dataset(self.path)
        report = VerifyReport(self.path)
        report.problems.extend(self._index_problems(False))
        report.checked.append("index")
        if self._digests and not self.verify_data():
            report.problems.append(f"{self.url}: md5 mismatch (the remote data file changed or is damaged)")
        report.checked.append("md5")
        if not report.problems:
            report.length = len(self)
        return report

    # --- lifecycle ---

    def close(self) -> None:
        """Release the memory map (if cached) and any unfinished temporary copy."""
        self._drop_fill()
        self._last = None
        super().close()

    def __copy__(self) -> RemoteMsgpackReader:
        clone = MsgpackReader.__copy__(self)
        clone._fill = None  # type: ignore[attr-defined]
        return clone  # type: ignore[return-value]

    def __getstate__(self) -> dict[str, Any]:
        state = MsgpackReader.__getstate__(self)
        state.update(_fill=None, _last=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self._local:
            MsgpackReader._open(self)

    def __repr__(self) -> str:
        return f"MsgpackReader({self.url!r})"
