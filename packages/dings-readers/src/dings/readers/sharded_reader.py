"""ShardedReader: several dataset files (shards) presented as one dataset."""

from __future__ import annotations

import bisect
import copy as copy_module
import glob
import os
from collections.abc import Iterator, Sequence
from itertools import accumulate
from typing import Any, cast

import numpy as np

from dings.format import DamagedDataError, check_committed_pattern

from .labels import natural_sort_key
from .msgpack_reader import MsgpackReader
from .reader import Reader, Spans
from .remote_fs import is_url

__all__ = ["ShardedReader"]


def _url_has_magic(url: str) -> bool:
    # in http(s) URLs "?" starts the query, so only "*" and "[" mark a pattern there
    if url.lower().startswith(("http://", "https://")):
        return "*" in url or "[" in url
    return glob.has_magic(url)


def _glob(pattern: str, options: dict[str, Any]) -> list[str]:
    if is_url(pattern):
        from .remote_fs import RemoteFiles, RetryPolicy

        retry = RetryPolicy(options.get("retries", 3), options.get("backoff", 0.5))
        return RemoteFiles(pattern, options.get("storage_options"), retry).glob(pattern)
    return glob.glob(pattern)


def _open_shards(
    shards: str | os.PathLike | Sequence[str | os.PathLike | Reader], options: dict[str, Any]
) -> list[Reader]:
    if isinstance(shards, (str, os.PathLike)):
        pattern = os.fspath(shards)
        if not (_url_has_magic(pattern) if is_url(pattern) else glob.has_magic(pattern)):
            return [MsgpackReader(pattern, **options)]
        if not is_url(pattern):
            check_committed_pattern(pattern)  # an interrupted commit of the set is finished first
        paths = sorted((p for p in _glob(pattern, options) if p.endswith(".msgpack")), key=natural_sort_key)
        if not paths:
            raise FileNotFoundError(f"{pattern}: no .msgpack file matches this pattern")
        return [MsgpackReader(p, **options) for p in paths]
    readers = [s if isinstance(s, Reader) else MsgpackReader(s, **options) for s in shards]
    if not readers:
        raise ValueError("ShardedReader needs at least one shard")
    return readers


class ShardedReader(Reader):
    """Several readers (usually shards ``NAME-00000.msgpack``, …) read as one dataset.

    Indices are global: shard 0's samples first, then shard 1's, and so on. Keys are looked up in
    every shard (each shard's Bloom filter makes a miss cheap).

    Args:
        shards: a glob pattern (``"out/train-*.msgpack"``; matches are natural-sorted), one path, or
            a list of paths and/or readers in the order to read them. URLs and URL patterns
            (``"s3://bucket/train-*.msgpack"``, globbed by fsspec) work as well.
        lengths: the number of samples of each shard, known up front (e.g. from a manifest): then
            ``shards`` must be a list, and each shard is opened only when it is first read (opening
            the reader touches no shard); a shard whose length differs raises
            :class:`~dings.format.DamagedDataError` when it is opened.
        lengths_from: where ``lengths`` came from, named in those errors (e.g. the manifest's path).
        options: keyword arguments for each :class:`MsgpackReader` opened from a path or URL
            (e.g. ``allow_unsafe``, or ``cache_dir``/``storage_options`` for URLs; see
            :class:`~dings.readers.RemoteMsgpackReader`).
    """

    def __init__(
        self,
        shards: str | os.PathLike | Sequence[str | os.PathLike | Reader],
        *,
        lengths: Sequence[int] | None = None,
        lengths_from: str = "the lengths given",
        **options: Any,
    ) -> None:
        self._position = 0
        self._options = options
        self._lengths_from = lengths_from
        if lengths is None:
            self._readers: list[Reader | None] = list(_open_shards(shards, options))
            self._paths: list[str | None] = [None] * len(self._readers)
            self._starts: list[int] | None = None
            return
        if isinstance(shards, (str, os.PathLike)):
            raise ValueError("ShardedReader: with lengths, give a list of shards (paths or readers), not a pattern")
        items = list(shards)
        counts = [int(n) for n in lengths]
        if not items:
            raise ValueError("ShardedReader needs at least one shard")
        if len(counts) != len(items) or any(n < 0 for n in counts):
            raise ValueError(
                f"ShardedReader: {len(counts)} lengths for {len(items)} shards; give one count (>= 0) per shard"
            )
        # paths first: a str is never a reader (isinstance of the ABC costs more, for 10,000s of shards)
        self._readers = [None if type(s) is str else s if isinstance(s, Reader) else None for s in items]
        self._paths = [s if type(s) is str else None if isinstance(s, Reader) else os.fspath(s) for s in items]
        self._starts = [0, *accumulate(counts)]

    @property
    def shards(self) -> list[Reader]:
        """The readers of every shard, in order (opens any not opened yet)."""
        return [self._shard(number) for number in range(len(self._readers))]

    @shards.setter
    def shards(self, readers: list[Reader]) -> None:
        self._readers = list(readers)
        self._paths = [None] * len(self._readers)

    @property
    def shard_count(self) -> int:
        """Number of shards (opens none)."""
        return len(self._readers)

    def _shard(self, number: int) -> Reader:
        """Shard ``number``'s reader, opened on first use when lengths were given up front."""
        reader = self._readers[number]
        if reader is None:
            path = cast(str, self._paths[number])
            try:
                reader = MsgpackReader(path, **self._options)
            except FileNotFoundError:
                raise DamagedDataError(
                    f"{path}: shard {number} listed in {self._lengths_from} is missing; "
                    "restore it or write the dataset again",
                    path=path,
                ) from None
            expected = self.starts[number + 1] - self.starts[number]
            if len(reader) != expected:
                found = len(reader)
                reader.close()
                raise DamagedDataError(
                    f"{path}: holds {found} samples, but {self._lengths_from} lists {expected}; "
                    "the set changed after it was described; run `dings verify` on it",
                    path=path,
                )
            self._readers[number] = reader
        return reader

    @property
    def starts(self) -> list[int]:
        """Global index of each shard's first sample, plus the total length."""
        if self._starts is None:
            self._starts = [0, *accumulate(len(cast(Reader, s)) for s in self._readers)]
        return self._starts

    def __len__(self) -> int:
        return self.starts[-1]

    def _locate(self, index: int) -> tuple[int, int]:
        shard = bisect.bisect_right(self.starts, index) - 1
        return shard, index - self.starts[shard]

    def find_index(self, key: str) -> int:
        """Return the global index of the sample with ``key``.

        Raises:
            KeyError: no shard has this key.
        """
        for number, start in enumerate(self.starts[:-1]):
            try:
                return start + self._shard(number).find_index(key)
            except KeyError:
                continue
        raise KeyError(f"{key!r} is not a key of any of the {len(self._readers)} shards")

    def find_key(self, index: int) -> str:
        """Return the key of the sample at global ``index``."""
        shard, local = self._locate(self._normalize(index))
        return self._shard(shard).find_key(local)

    def read_sample(self, index: int, *, raw: bool = False, copy: bool = True) -> Any:
        """Return the sample at global ``index`` (valid, non-negative)."""
        shard, local = self._locate(index)
        return self._shard(shard).read_sample(local, raw=raw, copy=copy)

    def read_range(self, start: int, stop: int, *, raw: bool = False, copy: bool = True) -> Iterator[Any]:
        """Yield samples ``start`` … ``stop - 1`` (global, valid bounds), each shard's part by its own read_range."""
        starts = self.starts
        for number in range(len(self._readers)):
            begin, end = max(start, starts[number]), min(stop, starts[number + 1])
            if begin < end:
                yield from self._shard(number).read_range(
                    begin - starts[number], end - starts[number], raw=raw, copy=copy
                )

    def read_spans(self, indices: Sequence[int] | np.ndarray) -> list[Spans]:
        """Where the packed bytes of the samples at global ``indices`` lie: the spans of each shard
        touched, their ``where`` mapped back to positions in ``indices``."""
        wanted = np.asarray(indices, dtype=np.int64)
        starts = np.asarray(self.starts, dtype=np.int64)
        shard_of = np.searchsorted(starts, wanted, side="right") - 1
        spans: list[Spans] = []
        for shard in np.unique(shard_of).tolist():
            positions = np.flatnonzero(shard_of == shard)
            for part in self._shard(shard).read_spans(wanted[positions] - starts[shard]):
                spans.append(part._replace(where=positions[part.where]))
        return spans

    @property
    def fetches_concurrently(self) -> bool:
        """Whether any shard fetches runs concurrently (a remote shard; a shard not opened yet counts
        as remote when its path is a URL)."""
        return any(
            is_url(path) if reader is None else getattr(reader, "fetches_concurrently", False)
            for reader, path in zip(self._readers, self._paths)
        )

    def read_runs(self, runs: Sequence[tuple[int, int]], raw: bool = False, copy: bool = True) -> list[list]:
        """Return the samples of each run ``(start, stop)`` of global indices, one list per run.

        Runs are split at shard boundaries and each shard reads its parts with one
        :meth:`~dings.readers.Reader.read_runs` call (concurrent requests for a remote shard).
        """
        starts = self.starts
        parts: dict[int, list[tuple[int, int, int]]] = {}  # shard -> (run number, local start, local stop)
        for number, (start, stop) in enumerate(runs):
            position, stop = self._bounds(start, stop)
            while position < stop:
                shard = bisect.bisect_right(starts, position) - 1
                end = min(stop, starts[shard + 1])
                parts.setdefault(shard, []).append((number, position - starts[shard], end - starts[shard]))
                position = end
        samples: list[list] = [[] for _ in runs]
        for shard in sorted(parts):  # ascending, so a run spanning shards is filled in order
            pieces = parts[shard]
            for (number, _, _), found in zip(
                pieces, self._shard(shard).read_runs([(a, b) for _, a, b in pieces], raw, copy)
            ):
                samples[number].extend(found)
        return samples

    def close(self) -> None:
        """Close every shard opened so far."""
        for shard in self._readers:
            if shard is not None:
                shard.close()

    def __copy__(self) -> ShardedReader:
        clone = super().__copy__()
        clone._readers = [None if s is None else copy_module.copy(s) for s in self._readers]
        return clone

    def __repr__(self) -> str:
        return f"ShardedReader({len(self._readers)} shards)"
