"""The remote storage: a dataset in object storage or on HTTP, read through fsspec, with a local cache.

:class:`RemoteSource` is the byte source and :class:`RemoteMsgpackReader` the reader that
``MsgpackReader(url)`` returns for ``http(s)://``, ``s3://``, ``gs://``, ``az://`` and every other
URL scheme without a storage of its own (registered with :func:`~dings.readers.register_storage`).
Needs the extra ``pip install "dings-readers[remote]"`` (fsspec) plus the protocol's package
(``s3fs``, ``gcsfs``, ``aiohttp`` for http(s), …).
"""

from __future__ import annotations

import bisect
import hashlib
import os
import threading
import warnings
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from dings.format import (
    CHECKSUMS_SUFFIX,
    INDEX_SUFFIXES,
    LEGACY_INDEX_SUFFIX,
    MD5_SUFFIX,
    CorruptIndexError,
    DamagedDataError,
    VerificationReport,
    check_md5,
    index_size_limit,
    legacy_load_index,
    load_md5,
    load_offsets,
    md5_file,
    pack_checksums,
    sample_checksum,
)

from .local import FileSource, LocalIndexSource
from .msgpack_reader import MsgpackReader
from .remote_cache import DatasetCache, cache_root, evict, folder_size, write_atomic
from .remote_cache import cache_limit as resolve_cache_limit
from .remote_fs import (
    RangeIgnoredError,
    RemoteFiles,
    RemoteGeneration,
    RetryPolicy,
    data_url,
    is_url,
    join_url,
    replaced_error,
    url_name,
)
from .storages import ANY_SCHEME, register_storage

__all__ = ["RemoteSource", "RemoteMsgpackReader", "DEFAULT_BLOCK_SIZE", "CACHE_MODES", "REMOTE_SCHEMES"]

#: bytes fetched by one ranged request of a sequential or chunked pass (at least one sample)
DEFAULT_BLOCK_SIZE = 8 << 20
#: URL schemes registered for this storage by name (any other scheme comes here too, through fsspec)
REMOTE_SCHEMES = ("http", "https", "s3", "s3a", "gs", "gcs", "az", "abfs", "abfss")
#: ``cache`` arguments: index files only; index + data files read completely; index + data at once
CACHE_MODES = ("index", "auto", "full")
_INDEX_NAMES = {
    ".offsets": "offsets index",
    ".keys": "keys index",
    ".key_hashes": "key hashes",
    ".filter": "Bloom filter",
    MD5_SUFFIX: "md5 file",
    LEGACY_INDEX_SUFFIX: "legacy index",
    "": "data file",
    CHECKSUMS_SUFFIX: "per-sample checksums",
}


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


class RemoteSource(LocalIndexSource):
    """The bytes of a dataset at a URL (``s3://``, ``gs://``, ``https://``, any fsspec URL), with a local cache.

    **Index files** (``.offsets``, ``.keys``, ``.key_hashes``, ``.filter``, ``.crc32``, or a legacy
    ``.index``) are fetched once into a cache folder, checked against the dataset's ``.md5`` file,
    and then used like a local dataset's. On every open the ``.md5`` file is fetched again (one
    small request) and each cached index file hashed: a dataset that changed remotely, or a
    damaged cached file, is fetched anew. No index file (nor the md5 file) may be larger than the
    pinned data file allows (:func:`~dings.format.index_size_limit`): a larger one is refused by
    the size its answer declares, or after that many bytes were read, never downloaded whole.

    **Samples** are fetched with ranged reads. A sequential or chunked pass fetches neighbouring
    samples together, in blocks of up to ``block_size`` bytes, so it makes one request per chunk
    (or per block of a long pass), not one per sample; a single sample costs one request unless it
    is in the block fetched last. :attr:`requests` counts the ranged requests.

    **Data cache** (``cache="auto"``): every range fetched is also written into a sparse temporary
    file in the cache folder; once the whole data file has been fetched (in any order, e.g. after
    one epoch in one process) it is checked against the md5 file and kept, and from then on (also
    in later runs) the dataset is read locally through a memory map. ``cache="full"`` or
    :meth:`cache_data` downloads the data file at once. ``cache="index"`` never stores data. The
    cache stays below ``cache_limit`` bytes by evicting the least recently used datasets (data
    files first, then their index files); a data file that does not fit alone is never cached. A
    cached data file is trusted while its size and modification time are those it had when its md5
    last matched; otherwise it is hashed again, and dropped if it differs. When a data file is
    cached, its per-sample checksums are kept beside it (computed from the verified copy if the
    dataset has no ``.crc32``), so a reader with ``verify=True`` notices a copy that rots on disk
    later. Datasets without an ``.md5`` file are read but nothing of them is trusted from the cache.

    **Generation**: on open the data file's generation is pinned (its ETag, else its Last-Modified,
    and its size) before any index file is fetched (writers replace the data file first). Every
    ranged read checks it (``If-Match`` on the ETag, and the ETag or Last-Modified and size of each
    answer, over http(s) and s3), and the cache folder is keyed by it: a dataset replaced on the
    server while open raises :class:`~dings.format.IncompleteCommitError` ("replaced … open it
    again"), never returns a sample of the new generation. Other protocols are pinned on open only.

    **A server that ignores Range** (``python -m http.server``) is found out by the first ranged
    read, which stops without reading the whole file; the data file is then downloaded once into
    the cache and read from there, or, where nothing may be cached (``cache="index"``, no md5
    file, too big for ``cache_limit``), reading raises :class:`~dings.readers.RemoteError`.

    **Errors**: connection errors, time-outs, HTTP 5xx/429/408 and short reads are retried with
    exponential back-off; not found, access denied and other permanent errors raise at once, naming
    the URL and what was read. A server that accepts a connection but stalls is given up on after
    ``connect_timeout``/``read_timeout`` seconds per attempt (http(s) and s3).

    **Processes**: the fsspec filesystem is created anew in each process, so a reader may be
    opened before DataLoader workers fork (or be pickled to spawned workers). Workers read a
    cached data file, but only the process that opened the reader stores one (each worker sees
    only part of the data): call :meth:`cache_data` before starting workers to train from the cache.

    Args:
        path: URL of the data file (or of any of its index files).
        cache_dir: the cache root (default ``$DINGS_CACHE`` or ``~/.cache/dings``); each dataset
            gets a subfolder named by the hash of its URL.
        cache_limit: cache size limit in bytes (default ``$DINGS_CACHE_LIMIT`` or 20 GiB).
        cache: ``"auto"``, ``"full"`` or ``"index"`` (see above).
        storage_options: keyword arguments for the fsspec filesystem (``endpoint_url``, ``anon``, …).
        retries: further attempts after a transient error.
        backoff: seconds before the first retry, doubled for each further one.
        block_size: bytes per ranged request of a sequential pass.
        connect_timeout: seconds to wait for a connection, per attempt.
        read_timeout: seconds to wait for data on an open connection, per attempt.
        concurrency: ranged requests :meth:`fetch_many` keeps in flight at once.

    Raises:
        ValueError: an option is invalid.
        ImportError: fsspec or the protocol's package is not installed (the message says what to install).
        FileNotFoundError: the data file or its index is missing remotely.
        PermissionError: access is denied.
        dings.readers.RemoteError: another permanent error, or transient errors past the retries.
        dings.format.CorruptIndexError: a fetched index file does not match the md5 file, or is
            larger than the data file allows.
        dings.format.IncompleteCommitError: (on reading) the dataset was replaced on the server.
    """

    def __init__(
        self,
        path: str,
        *,
        cache_dir: str | os.PathLike | None = None,
        cache_limit: int | None = None,
        cache: str = "auto",
        storage_options: dict[str, Any] | None = None,
        retries: int = 3,
        backoff: float = 0.5,
        block_size: int = DEFAULT_BLOCK_SIZE,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        concurrency: int = 16,
    ) -> None:
        if not is_url(path):
            raise ValueError(f"{path!r} is not a URL; open local files with MsgpackReader")
        if cache not in CACHE_MODES:
            raise ValueError(f"cache must be one of {', '.join(map(repr, CACHE_MODES))}, got {cache!r}")
        if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 1:
            raise ValueError(f"block_size must be a positive number of bytes, got {block_size!r}")
        path = data_url(path)
        name = url_name(path)
        self.url = self.name = path
        self.remote = RemoteFiles(
            path, storage_options, RetryPolicy(retries, backoff), timeouts=(connect_timeout, read_timeout)
        )
        self.cache_mode = cache
        self.cache_limit = resolve_cache_limit(cache_limit)
        self.block_size = block_size
        self.concurrency = concurrency
        self.requests = 0
        self._cache = DatasetCache(cache_root(cache_dir), path, name)
        self.index_base = self._cache.file()
        self._local = False
        self._file: FileSource | None = None  # the verified cached data file, once there is one
        self._last: tuple[int, bytes] | None = None  # (start, block) fetched last
        self._fill: _Fill | None = None
        self._fill_failed = False
        self._owner = os.getpid()  # only the process that opened the reader fills the data cache
        self._digests: dict[str, str] = {}
        self._index_pins: dict[str, RemoteGeneration | None] = {}  # index files fetched: their generation
        self._no_ranges = False  # the server ignores Range
        # pinned before any index file is fetched: writers replace the data file first, so index
        # files fetched later belong to this generation or reading them with its data fails
        self._generation: RemoteGeneration = self.remote.pin(self.url, "the data file")
        self._size: int | None = self._generation.size
        self._cache.use_generation(self._generation.tag)
        self._fetch_index()
        if self._digests.get(name) and self._cache.trusted(self._digests[name]):
            self._size = self.index_base.stat().st_size
            self._use_cached()

    # --- index files ---

    def _what(self, suffix: str) -> str:
        return f"the {_INDEX_NAMES.get(suffix, suffix)} of {self.url}"

    def _fetch_index(self) -> None:
        """Fetch the md5 file, then every index file that is not cached and intact (see the class doc)."""
        md5_path = self._cache.file(MD5_SUFFIX)
        try:
            content = self.remote.cat(
                join_url(self.url, self._cache.name + MD5_SUFFIX), self._what(MD5_SUFFIX), self._limit(MD5_SUFFIX)
            )
        except FileNotFoundError:
            content = None
        if content is None:
            warnings.warn(
                f"{self.url}: no md5 file; index files are fetched unverified and data is never cached", stacklevel=5
            )
            self._cache.clear()
            self._digests = {}
            if not self._get_index(".offsets", required=False):
                self.legacy = True
                self._get_index(LEGACY_INDEX_SUFFIX, required=True)
                return
            self.legacy = False
            for suffix in (".keys", ".key_hashes", ".filter", CHECKSUMS_SUFFIX):
                self._get_index(suffix, required=False)
            return
        if not md5_path.is_file() or md5_path.read_bytes() != content:
            self._cache.clear()  # new or changed dataset: nothing cached for it can be trusted
            write_atomic(md5_path, content)
        self._digests = load_md5(md5_path)
        if self._cache.name not in self._digests:
            raise CorruptIndexError(
                f"{self.url}{MD5_SUFFIX}: has no checksum for the data file {self._cache.name}",
                path=self.url + MD5_SUFFIX,
            )
        listed = [s for s in (*INDEX_SUFFIXES, CHECKSUMS_SUFFIX) if self._cache.name + s in self._digests]
        self.legacy = ".offsets" not in listed
        if self.legacy:
            self._get_index(LEGACY_INDEX_SUFFIX, required=True)
        for suffix in listed:
            self._get_index(suffix, required=True)
        if CHECKSUMS_SUFFIX not in listed and not self._cache.file(CHECKSUMS_SUFFIX).is_file():
            self._get_index(CHECKSUMS_SUFFIX, required=False)  # written by writers that do not list it
        self._evict()

    def _limit(self, suffix: str) -> int:
        """The most bytes the index file ``suffix`` can have next to the pinned data file."""
        return index_size_limit(suffix, self._generation.size)  # type: ignore[arg-type]  # pin() always tells it

    def _get_index(self, suffix: str, required: bool, again: bool = False) -> bool:
        """Make sure the index file ``suffix`` is in the cache folder and matches its md5 (if listed).

        ``again``: fetched after open (evicted meanwhile); it must be the generation fetched at open.
        """
        target = self._cache.file(suffix)
        digest = self._digests.get(self._cache.name + suffix)
        if digest is not None and target.is_file() and md5_file(target) == digest:
            return True
        url = join_url(self.url, self._cache.name + suffix)
        try:
            pin = self._index_pins.get(suffix) if again else None
            content, answer = self.remote.get(url, self._what(suffix), pin, max_size=self._limit(suffix))
        except FileNotFoundError:
            if required:
                raise
            return False
        if digest is not None and hashlib.md5(content).hexdigest() != digest:
            if again:
                raise replaced_error(self.url)
            raise CorruptIndexError(
                f"{url}: md5 mismatch with {self._cache.name}{MD5_SUFFIX} (the remote dataset is damaged or being rewritten); "
                "verify the source dataset",
                path=url,
            )
        if again and self._cache.generation() not in (None, self._generation.tag):
            raise replaced_error(self.url)  # the cache folder holds another generation now
        self._index_pins[suffix] = answer
        write_atomic(target, content)
        return True

    def ensure_index(self) -> None:
        """Fetch index files again if eviction (by another process) removed them (the same generation)."""
        if self.legacy:
            suffixes = [LEGACY_INDEX_SUFFIX]
        elif self._digests:
            suffixes = [s for s in INDEX_SUFFIXES if self._cache.name + s in self._digests]
        else:
            suffixes = [s for s in INDEX_SUFFIXES if s in self._index_pins]
        missing = [s for s in suffixes if not self._cache.file(s).is_file()]
        if missing:
            self._cache.folder.mkdir(parents=True, exist_ok=True)
            if self._cache.generation() is None:  # the whole folder was evicted
                self._cache.use_generation(self._generation.tag)
        for suffix in missing:
            self._get_index(suffix, required=True, again=True)

    def check_generation(self) -> None:
        """Raise if the cache folder was taken over by another generation of the dataset (it was replaced).

        The folder's generation is written before any file of a new generation, so an index file
        loaded before this check finds this reader's generation is this reader's.
        """
        if self._cache.generation() not in (None, self._generation.tag):
            raise replaced_error(self.url)

    # --- data ---

    def size(self) -> int:
        return self._size  # type: ignore[return-value]

    @property
    def cached(self) -> bool:
        """Whether samples are read from the verified local copy of the data file."""
        return self._local

    @property
    def fetches_concurrently(self) -> bool:
        """True until the data is served from the local cache."""
        return not self._local

    def _use_cached(self) -> None:
        self._file = (
            FileSource(self.index_base) if not self.legacy or self._cache.file(LEGACY_INDEX_SUFFIX).is_file() else None
        )
        self._local = self._file is not None

    def view(self) -> memoryview | None:
        if not self._local:
            return None
        return self._file.view()  # type: ignore[union-attr]

    def _evict(self) -> None:
        evict(self._cache.root, self.cache_limit, keep=self._cache.folder)

    def _fits(self) -> bool:
        return folder_size(self._cache.folder) + self._size <= self.cache_limit  # type: ignore[operator]

    def cache_data(self) -> Path:
        """Download the data file into the cache (verified by md5) and read it locally from now on.

        Returns:
            The cached data file.

        Raises:
            ValueError: the dataset has no md5 file, or the data file does not fit in ``cache_limit``.
            OSError: the downloaded data does not match the md5 file.
            dings.format.IncompleteCommitError: the dataset was replaced on the server since it was opened.
        """
        if self._local:
            self._cache.touch()
            return self.index_base
        digest = self._digests.get(self._cache.name)
        if digest is None:
            raise ValueError(
                f"{self.url}: no md5 file, so a cached copy could not be verified; stage it with dings.tools.stage instead"
            )
        with self._cache.locked():  # readers of the dataset (DataLoader workers …) download it once
            if self._cache.generation() == self._generation.tag and self._cache.trusted(digest):
                self._adopt()  # another process cached it meanwhile
                return self.index_base
            if not self._fits():
                raise ValueError(
                    f"{self.url}: the data file ({self._size} bytes) does not fit in cache_limit={self.cache_limit} bytes; "
                    "raise cache_limit or stage the dataset with dings.tools.stage"
                )
            tmp = self._cache.temp()
            try:
                self._download(tmp)
                if self._cache.generation() not in (None, self._generation.tag):
                    raise replaced_error(self.url)  # a newer generation was opened meanwhile
                if not self._store(tmp, digest):
                    raise OSError(
                        f"{self.url}: downloaded data does not match its md5 file; the remote dataset is damaged or changed (verify it)"
                    )
            finally:
                tmp.unlink(missing_ok=True)
        self._adopt()
        return self.index_base

    def _download(self, tmp: Path) -> None:
        """Download the data file (the pinned generation) into ``tmp``: by ranges, or in one stream
        from a server that ignores them."""
        if not self._no_ranges:
            try:
                with open(tmp, "wb") as out:
                    for block in self.remote.iter_blocks(
                        self.url,
                        self._size,  # type: ignore[arg-type]
                        self.block_size,
                        self._what(""),
                        pin=self._generation,
                    ):
                        self.requests += 1
                        out.write(block)
                return
            except RangeIgnoredError:
                self._no_ranges = True
        with open(tmp, "wb") as out:
            if not self.remote.download(self.url, out, self._what(""), self._generation):
                raise RangeIgnoredError(f"{self.url}: the server ignores HTTP Range requests")
        self.requests += 1

    def _without_ranges(self) -> None:
        """The server ignores Range: read from one download into the cache, or raise a clear error."""
        self._no_ranges = True
        if self.cache_mode == "index":
            problem = 'cache="index" stores no data (open it with cache="auto")'
        elif self._digests.get(self._cache.name) is None:
            problem = "the dataset has no md5 file to verify a downloaded copy"
        else:
            try:
                self.cache_data()
                return
            except DamagedDataError:
                raise
            except ValueError:  # the one left: too big for the cache
                problem = f"the data file ({self._size} bytes) does not fit in cache_limit={self.cache_limit} bytes"
        raise RangeIgnoredError(
            f"{self.url}: the server ignores HTTP Range requests, so every read would download the whole file, "
            f"and {problem}; use a server that honours Range, or stage the dataset with dings.tools.stage"
        )

    def _store(self, tmp: Path, digest: str) -> bool:
        """Move the verified data file into the cache, with per-sample checksums beside it."""
        if not self._cache.store(tmp, digest):
            return False
        target = self._cache.file(CHECKSUMS_SUFFIX)
        if not target.is_file():
            try:
                write_atomic(target, pack_checksums(_checksums_of(self.index_base, self.legacy, self._size)))  # type: ignore[arg-type]
            except (OSError, ValueError):
                pass  # reading goes on; verify then finds no checksums for this copy
        return True

    def _adopt(self) -> None:
        """Switch to the verified cached data file."""
        self._drop_fill()
        self._last = None
        self._use_cached()
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
                fill = self._fill = _Fill(self._cache.temp(), self._size)  # type: ignore[arg-type]
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
            if self._cache.generation() not in (None, self._generation.tag):
                fill.tmp.unlink(missing_ok=True)  # a newer generation owns the cache folder now
                self._fill_failed = True
            elif self._store(fill.tmp, digest):
                self._adopt()
            else:
                self._fill_failed = True
                warnings.warn(
                    f"{self.url}: the data fetched does not match its md5 file; it is not cached (verify the remote dataset)",
                    stacklevel=2,
                )

    def fetch(self, begin: int, end: int) -> bytes | memoryview:
        """Bytes ``begin`` … ``end - 1`` of the data file: from the cache, from the last block if it
        holds them, else one request."""
        if self._local:
            return self._file.view()[begin:end]  # type: ignore[union-attr]
        last = self._last
        if last is not None and last[0] <= begin and end <= last[0] + len(last[1]):
            return last[1][begin - last[0] : end - last[0]]
        try:
            if self._no_ranges:
                raise RangeIgnoredError(self.url)
            data = self.remote.cat_range(self.url, begin, end, self._what(""), self._size, self._generation)
        except RangeIgnoredError:
            self._without_ranges()
            return self._file.view()[begin:end]  # type: ignore[union-attr]
        self.requests += 1
        self._last = (begin, data)
        self._record(begin, data)
        return data

    def fetch_many(self, ranges: Sequence[tuple[int, int]]) -> list[bytes | memoryview]:
        """The bytes of every ``(begin, end)``, with up to ``concurrency`` requests in flight."""
        if self._local or self._no_ranges or len(ranges) < 2:
            return [self.fetch(begin, end) for begin, end in ranges]
        try:
            blocks = self.remote.cat_ranges(
                self.url, ranges, self._what(""), self._size, self.concurrency, self._generation
            )
        except RangeIgnoredError:
            self._no_ranges = True
            return [self.fetch(begin, end) for begin, end in ranges]  # fetch deals with it
        self.requests += len(ranges)
        for (begin, _), block in zip(ranges, blocks):
            if not self._local:
                self._record(begin, block)
        return blocks  # type: ignore[return-value]

    # --- integrity ---

    def verify_data(self, progress: bool | None = False) -> bool:
        """Check the data file (the cached copy, else the remote file, streamed) against the md5 file.

        Returns:
            True when the data matches its checksum (False when there is no md5 file).
        """
        digest = self._digests.get(self._cache.name)
        if digest is None:
            return False
        if self._local:
            return super().verify_data(progress)
        if not self._no_ranges:
            md5 = hashlib.md5()
            try:
                for block in self.remote.iter_blocks(
                    self.url,
                    self._size,  # type: ignore[arg-type]
                    self.block_size,
                    self._what(""),
                    pin=self._generation,
                ):
                    md5.update(block)
                return md5.hexdigest() == digest
            except RangeIgnoredError:
                self._no_ranges = True
        tmp = self._cache.temp()
        try:
            self._download(tmp)
            return md5_file(tmp) == digest
        finally:
            tmp.unlink(missing_ok=True)

    def index_problems(self, progress: bool | None = False) -> list[str]:
        """The cached index files checked against the md5 file."""
        if not self._digests:
            return [f"{self.url}{MD5_SUFFIX}: md5 file is missing; integrity cannot be checked"]
        report = VerificationReport(self.index_base)
        check_md5(report, self.index_base, only=[self._cache.name + s for s in INDEX_SUFFIXES], progress=progress)
        return report.problems

    def verify(self, index_problems: Callable[[], list[str]], length: Callable[[], int]) -> VerificationReport:
        """Check index files and data against the md5 file (the data streamed unless cached)."""
        if self._local:
            return super().verify(index_problems, length)
        report = VerificationReport(self.index_base)
        report.problems.extend(index_problems())
        report.checked.append("index")
        if self._digests and not self.verify_data():
            report.problems.append(f"{self.url}: md5 mismatch (the remote data file changed or is damaged)")
        report.checked.append("md5")
        if not report.problems:
            report.length = length()
        return report

    # --- lifecycle ---

    def close(self) -> None:
        """Release the memory map (if cached) and any unfinished temporary copy."""
        self._drop_fill()
        self._last = None
        if self._file is not None:
            self._file.close()

    def copy(self) -> RemoteSource:
        clone = object.__new__(RemoteSource)
        clone.__dict__.update(self.__dict__)
        clone._fill = None
        clone._last = None
        clone._file = self._file.copy() if self._file is not None else None
        return clone

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.update(_fill=None, _last=None)
        return state


def _checksums_of(data: Path, legacy: bool, size: int) -> list[int]:
    """Per-sample checksums of a verified local data file (its offsets from the index beside it)."""
    offsets = legacy_load_index(data, size)[1] if legacy else load_offsets(data)
    bounds = np.asarray(offsets, dtype=np.int64).tolist()
    source = FileSource(data)
    try:
        view = source.view()
        return [sample_checksum(view[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    finally:
        source.close()


class RemoteMsgpackReader(MsgpackReader):
    """A :class:`MsgpackReader` over a dataset at a URL (``s3://``, ``gs://``, ``https://``, any fsspec URL).

    ``MsgpackReader(url)`` opens one. Everything about fetching, caching and retrying is done by
    its byte source, :class:`~dings.readers.remote.RemoteSource` (see there); samples are checked
    against the per-sample checksums by default (``verify=True``), so a cached copy that rots on
    disk is never served wrong.

    Args:
        path: URL of the data file (or of any of its index files).
        buffering: accepted for datadings compatibility; unused.
        allow_unsafe: decode object-dtype arrays with pickle. Only for files you trust.
        verify: check each sample read against its per-sample checksum (the dataset's ``.crc32``,
            or the one computed when its data file was cached).
        options: keyword arguments of :class:`~dings.readers.remote.RemoteSource` (``cache_dir``,
            ``cache_limit``, ``cache``, ``storage_options``, ``retries``, ``backoff``,
            ``block_size``, ``connect_timeout``, ``read_timeout``).

    Raises:
        ValueError: ``path`` is not a URL, or an option is invalid.
        ImportError: fsspec or the protocol's package is not installed.
        FileNotFoundError: the data file or its index is missing remotely.
        dings.readers.RemoteError: a permanent error, or transient errors or time-outs past the retries.
    """

    #: requests :meth:`read_runs` keeps in flight at once
    concurrent_requests = 16

    def __init__(
        self, path: str, buffering: int = 0, *, allow_unsafe: bool = False, verify: bool = True, **options: Any
    ) -> None:
        if not is_url(path):
            raise ValueError(f"{path!r} is not a URL; open local files with MsgpackReader")
        options.setdefault("concurrency", self.concurrent_requests)
        source = RemoteSource(path, **options)
        super().__init__(source, buffering, allow_unsafe=allow_unsafe, verify=verify)
        if source.cache_mode == "full":
            self.cache_data()

    @property
    def source(self) -> RemoteSource:
        """Where the data file's bytes come from: ranged reads and the local cache."""
        return cast(RemoteSource, super().source)

    @property
    def url(self) -> str:
        """The data file's URL."""
        return self.source.url

    @property
    def remote(self) -> Any:
        """The :class:`~dings.readers.remote_fs.RemoteFiles` the data is fetched through."""
        return self.source.remote

    @property
    def requests(self) -> int:
        """Ranged requests for data made so far."""
        return self.source.requests

    @requests.setter
    def requests(self, value: int) -> None:
        self.source.requests = value

    @property
    def block_size(self) -> int:
        """Bytes per ranged request of a sequential pass."""
        return self.source.block_size

    @property
    def cached(self) -> bool:
        """Whether samples are read from the verified local copy of the data file."""
        return self.source.cached

    def cache_data(self, progress: bool | None = False) -> Path:
        """Download the data file into the cache (verified by md5) and read it locally from now on.

        Args:
            progress: accepted for symmetry with other long operations; nothing is shown.

        Returns:
            The cached data file.

        Raises:
            ValueError: the dataset has no md5 file, or the data file does not fit in ``cache_limit``.
            OSError: the downloaded data does not match the md5 file.
        """
        return self.source.cache_data()

    def __repr__(self) -> str:
        return f"MsgpackReader({self.source.url!r})"


for _scheme in (*REMOTE_SCHEMES, ANY_SCHEME):
    register_storage(_scheme, RemoteSource, reader=RemoteMsgpackReader)
