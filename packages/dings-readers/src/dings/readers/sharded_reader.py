"""ShardedReader: several dataset files (shards) presented as one dataset."""

from __future__ import annotations

import bisect
import copy as copy_module
import glob
import os
from collections.abc import Iterator, Sequence
from itertools import accumulate
from typing import Any

from .labels import natural_sort_key
from .msgpack_reader import MsgpackReader
from .reader import Reader

__all__ = ["ShardedReader"]


def _open_shards(shards: str | os.PathLike | Sequence[str | os.PathLike | Reader]) -> list[Reader]:
    if isinstance(shards, (str, os.PathLike)):
        pattern = os.fspath(shards)
        if not glob.has_magic(pattern):
            return [MsgpackReader(pattern)]
        paths = sorted((p for p in glob.glob(pattern) if p.endswith(".msgpack")), key=natural_sort_key)
        if not paths:
            raise FileNotFoundError(f"{pattern}: no .msgpack file matches this pattern")
        return [MsgpackReader(p) for p in paths]
    readers = [s if isinstance(s, Reader) else MsgpackReader(s) for s in shards]
    if not readers:
        raise ValueError("ShardedReader needs at least one shard")
    return readers


class ShardedReader(Reader):
    """Several readers (usually shards ``NAME-00000.msgpack``, …) read as one dataset.

    Indices are global: shard 0's samples first, then shard 1's, and so on. Keys are looked up in
    every shard (each shard's Bloom filter makes a miss cheap).

    Args:
        shards: a glob pattern (``"out/train-*.msgpack"``; matches are natural-sorted), one path, or
            a list of paths and/or readers in the order to read them.
    """

    def __init__(self, shards: str | os.PathLike | Sequence[str | os.PathLike | Reader]) -> None:
        self.shards = _open_shards(shards)
        self._position = 0
        self._starts: list[int] | None = None

    @property
    def starts(self) -> list[int]:
        """Global index of each shard's first sample, plus the total length."""
        if self._starts is None:
            self._starts = [0, *accumulate(len(s) for s in self.shards)]
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
        for start, shard in zip(self.starts, self.shards):
            try:
                return start + shard.find_index(key)
            except KeyError:
                continue
        raise KeyError(f"{key!r} is not a key of any of the {len(self.shards)} shards")

    def find_key(self, index: int) -> str:
        """Return the key of the sample at global ``index``."""
        shard, local = self._locate(self._normalize(index))
        return self.shards[shard].find_key(local)

    def _read(self, index: int, raw: bool, copy: bool) -> Any:
        shard, local = self._locate(index)
        return self.shards[shard]._read(local, raw, copy)

    def _read_range(self, start: int, stop: int, raw: bool, copy: bool, chunk_size: int) -> Iterator[Any]:
        starts = self.starts
        for number, shard in enumerate(self.shards):
            begin, end = max(start, starts[number]), min(stop, starts[number + 1])
            if begin < end:
                yield from shard._read_range(begin - starts[number], end - starts[number], raw, copy, chunk_size)

    def close(self) -> None:
        """Close every shard."""
        for shard in self.shards:
            shard.close()

    def __copy__(self) -> ShardedReader:
        clone = super().__copy__()
        clone.shards = [copy_module.copy(s) for s in self.shards]  # type: ignore[attr-defined]
        return clone  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"ShardedReader({len(self.shards)} shards)"
