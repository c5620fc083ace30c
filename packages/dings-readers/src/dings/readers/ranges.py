"""A contiguous part of a reader: :class:`Range`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .reader import Reader
from .wrapping import Augment, as_int

__all__ = ["Range"]


class Range(Augment):
    """A contiguous part of a reader: indices ``start … stop - 1``, renumbered from 0.

    ``start`` and ``stop`` work like the arguments of ``range``, and negative values count from
    the end. As in datadings, ``start`` must be an index of the reader (or ``len(reader)``, an
    empty range at the end), while ``stop`` is clipped like a slice bound: a ``stop`` past the end
    means the end, and a ``stop`` before ``start`` gives an empty range. Keys outside the range are
    not found (``in`` is false, :meth:`find_index` raises ``KeyError``). A Range reads through
    random access and never starts a new pass of the reader it wraps. A Range over a
    :class:`Shuffler` is therefore a fixed random subset.

    Unlike datadings (where every augment's ``len`` is the wrapped reader's), ``len`` of a Range
    is the number of samples in it.

    Args:
        reader: the reader to take samples from.
        start: first index.
        stop: end index, exclusive; ``None`` for the end.

    Raises:
        TypeError: ``reader`` is not a Reader, or ``start``/``stop`` is not an int.
        IndexError: ``start`` is out of range.
    """

    def __init__(self, reader: Reader, start: int = 0, stop: int | None = None) -> None:
        super().__init__(reader)
        length = len(reader)
        begin = as_int(start, "start")
        end = None if stop is None else as_int(stop, "stop")
        begin += length if begin < 0 else 0
        if not 0 <= begin <= length:
            raise IndexError(f"start {start} is out of range for {reader!r} with {length} samples")
        begin, end, _ = slice(begin, end).indices(length)
        end = max(begin, end)
        self._start = begin
        self._stop = end

    @property
    def start(self) -> int:
        """First index of the range in the wrapped reader."""
        return self._start

    @property
    def stop(self) -> int:
        """End of the range in the wrapped reader (exclusive)."""
        return self._stop

    def __len__(self) -> int:
        return self._stop - self._start

    def __contains__(self, key: object) -> bool:
        # only keys inside the range (any key type the wrapped reader has, e.g. ListReader's ints)
        return key in self._reader and self._start <= self._reader.find_index(key) < self._stop  # type: ignore[arg-type]

    def find_index(self, key: str) -> int:
        """Return the index of ``key`` relative to the start of the range.

        Raises:
            KeyError: no sample in the range has this key.
        """
        index = self._reader.find_index(key)
        if not self._start <= index < self._stop:
            raise KeyError(f"{key!r} is not in {self!r} (its index in the wrapped reader is {index})")
        return index - self._start

    def find_key(self, index: int) -> str:
        """Return the key at ``index`` of the range (negative counts from the end).

        Raises:
            IndexError: ``index`` is out of range.
        """
        return self._reader.find_key(self._start + self._normalize(index))

    def read_sample(self, index: int, *, raw: bool = False, copy: bool = True) -> Any:
        """Return sample ``index`` (valid, non-negative) of the range."""
        return self._reader.read_sample(self._start + index, raw=raw, copy=copy)

    def read_range(self, start: int, stop: int, *, raw: bool = False, copy: bool = True) -> Iterator[Any]:
        """Return an iterator over samples ``start`` … ``stop - 1`` of the range."""
        return self._reader.read_range(self._start + start, self._start + stop, raw=raw, copy=copy)

    def _map_indices(self, indices: np.ndarray) -> np.ndarray:
        return indices + self._start

    def read_runs(self, runs: Sequence[tuple[int, int]], raw: bool = False, copy: bool = True) -> list[list]:
        """Return the samples of each run ``(start, stop)`` of the range: the wrapped reader's runs,
        shifted (fetched concurrently when it is remote)."""
        bounds = [self._bounds(start, stop) for start, stop in runs]
        return self._reader.read_runs([(self._start + a, self._start + b) for a, b in bounds], raw, copy)

    def _repr_args(self) -> str:
        return f", start={self._start}, stop={self._stop}"
