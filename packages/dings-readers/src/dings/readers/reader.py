"""Reader: the interface every dings reader and augment shares (datadings 3.4's reader API)."""

from __future__ import annotations

import builtins
import itertools
import operator
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar

import numpy as np

from dings.format import packb

_R = TypeVar("_R", bound="Reader")

__all__ = ["Reader", "Spans"]


class Spans(NamedTuple):
    """Where the packed bytes of some samples lie: the zero-copy batch interface of a reader.

    ``buffer[starts[i]:stops[i]]`` is the packed msgpack sample that answers position ``where[i]``
    of the indices passed to :meth:`Reader.read_spans`. ``buffer`` may be a view of the reader's
    memory map: it is valid until the reader is closed and must not be kept longer.
    """

    #: any object with the buffer protocol (``bytes``, ``memoryview`` of a memory map, …)
    buffer: Any
    #: int64 byte positions where each sample starts in ``buffer``
    starts: np.ndarray
    #: int64 byte positions where each sample ends in ``buffer``
    stops: np.ndarray
    #: intp positions in the requested indices that these samples answer
    where: np.ndarray


class Reader(ABC):
    """Random access and iteration over a sequence of samples (dicts with a unique ``"key"``).

    **The sample-source protocol.** Every reader offers these to the readers that wrap it
    (augments, :class:`~dings.readers.ShardedReader`, dings.torch); a reader for a new storage
    implements the first four and gets everything else:

    - ``__len__()``: number of samples.
    - :meth:`find_index` ``(key)`` and :meth:`find_key` ``(index)``.
    - :meth:`read_sample` ``(index, *, raw=False, copy=True)``: one sample by a valid,
      non-negative index; decoded, or packed msgpack bytes with ``raw``; ``copy=False`` allows
      ``memoryview`` results that share the reader's buffers.
    - :meth:`read_range` ``(start, stop, *, raw=False, copy=True)``: an iterator over samples
      ``start … stop - 1`` (valid bounds); override it with a faster sequential path.
    - :meth:`read_runs` ``(runs, raw=False, copy=True)``: one list of samples per run ``(start, stop)``.
    - :meth:`read_spans` ``(indices)``: where the packed bytes of samples lie (:class:`Spans`),
      for batch decoders.
    - :attr:`fetches_concurrently`: whether :meth:`read_runs` fetches its runs concurrently.

    Everything else — negative indices, slices, ``yield_key``, the read position used by
    :meth:`next` and :meth:`seek` — is built on these once, here. A subclass written to datadings
    3.4's abstract methods (``get`` and ``slice`` instead of ``read_sample``/``read_range``) works
    too: :meth:`read_sample` then calls its ``get``. A subclass that implements neither
    :meth:`read_sample` nor ``get`` cannot be instantiated (``TypeError``).

    Readers are context managers; ``copy.copy(reader)`` gives an independent reader with its own
    read position.
    """

    _position: int = 0
    #: the :class:`~dings.readers.DatasetSpec` a reader opened by :func:`~dings.readers.open_dataset`
    #: was resolved from (its shards, manifest and label names); ``None`` otherwise
    dataset: Any = None

    def __new__(cls, *args: Any, **kwargs: Any) -> Reader:
        if cls.read_sample is Reader.read_sample and cls.get is Reader.get:
            raise TypeError(
                f"Can't instantiate {cls.__name__}: a Reader must implement read_sample() (or datadings' get())"
            )
        return super().__new__(cls)

    # --- what subclasses implement ---

    @abstractmethod
    def __len__(self) -> int:
        """Number of samples."""

    @abstractmethod
    def find_index(self, key: str) -> int:
        """Return the index of the sample with ``key``.

        Raises:
            KeyError: no sample has this key (the message names it).
        """

    @abstractmethod
    def find_key(self, index: int) -> str:
        """Return the key of the sample at ``index`` (negative counts from the end).

        Raises:
            IndexError: ``index`` is out of range (the message names it).
        """

    def read_sample(self, index: int, *, raw: bool = False, copy: bool = True) -> Any:
        """Return sample ``index`` (a valid, non-negative index), decoded or packed (``raw``).

        The default calls ``get`` (readers written for datadings implement that instead).

        Args:
            index: ``0 <= index < len(self)``.
            raw: return the packed msgpack bytes.
            copy: if false, the result may be a ``memoryview`` sharing the reader's buffers.
        """
        return self.get(index, raw=raw, copy=copy)

    def read_range(self, start: int, stop: int, *, raw: bool = False, copy: bool = True) -> Iterator[Any]:
        """Return an iterator over samples ``start`` … ``stop - 1`` (valid bounds).

        The default reads them one by one with :meth:`read_sample`; override it with a faster
        sequential path.
        """
        read = self.read_sample
        return (read(index, raw=raw, copy=copy) for index in range(start, stop))

    # --- shared behaviour ---

    def _normalize(self, index: int) -> int:
        length = len(self)
        try:
            index = operator.index(index)  # ints and numpy integers; refuses floats
        except TypeError:
            raise TypeError(f"sample indices must be integers, not {type(index).__name__} ({index!r})") from None
        position = index + length if index < 0 else index
        if not 0 <= position < length:
            raise IndexError(f"index {index} out of range for {self!r} with {length} samples")
        return int(position)

    @staticmethod
    def _pack(sample: dict, raw: bool) -> Any:
        """Helper for readers that hold decoded samples: pack them when ``raw`` is asked for."""
        return packb(sample) if raw else sample

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        try:
            self.find_index(key)
        except KeyError:
            return False
        return True

    def get(self, index: int, yield_key: bool = False, raw: bool = False, copy: bool = True) -> Any:
        """Return the sample at ``index``.

        Args:
            index: position; negative counts from the end.
            yield_key: return ``(key, sample)``.
            raw: return the packed msgpack bytes instead of the decoded sample.
            copy: if false, a reader may return ``memoryview`` objects that share its buffers.

        Raises:
            IndexError: ``index`` is out of range.
        """
        position = self._normalize(index)
        sample = self.read_sample(position, raw=raw, copy=copy)
        return (self.find_key(position), sample) if yield_key else sample

    def _bounds(self, start: int | None, stop: int | None) -> tuple[int, int]:
        length = len(self)
        start = self._position if start is None else start
        begin, end, _ = slice(start, stop).indices(length)
        return begin, max(begin, end)

    def iter(
        self,
        start: int | None = None,
        stop: int | None = None,
        yield_key: bool = False,
        raw: bool = False,
        copy: bool = True,
        chunk_size: int = 16,
    ) -> Iterator[Any]:
        """Iterate over samples ``start`` … ``stop - 1`` like ``range``.

        When the iteration ends (or the iterator is closed or garbage-collected), the read position
        of :meth:`next` and ``iter(start=None)`` is right after the last sample handed out. As in
        datadings, ``iter()`` and ``for sample in reader`` continue at the read position (so
        ``seek(7)`` then a loop starts at 7), and start over at 0 once the read position is at the
        end, so every loop over a reader that was read to the end reads all of it again.

        Args:
            start: first index (negative counts from the end); ``None`` continues at the read
                position, or starts over at 0 if it is at the end.
            stop: end index, exclusive; ``None`` for the end.
            yield_key: yield ``(key, sample)`` pairs.
            raw: yield packed msgpack bytes.
            copy: if false, samples may be ``memoryview`` objects sharing the reader's buffers.
            chunk_size: accepted for datadings compatibility; readers choose their own block sizes.
        """
        begin, end = self._bounds(self._resume() if start is None else start, stop)
        samples = self.read_range(begin, end, raw=raw, copy=copy)
        if yield_key:
            samples = zip(map(self.find_key, range(begin, end)), samples)
        # count what was consumed at C speed: zip takes a sample first, so the counter advances
        # only for samples actually handed out; the read position is set when iteration ends
        consumed = itertools.count()
        return self._follow(begin, map(itemgetter(0), zip(samples, consumed)), consumed)

    def _follow(self, begin: int, items: Iterator[Any], consumed: Iterator[int]) -> Iterator[Any]:
        try:
            yield from items
        finally:
            self._position = begin + next(consumed)

    def _resume(self) -> int:
        """The read position where ``iter(start=None)`` begins: 0 again once it is at the end."""
        if self._position >= len(self):
            self._position = 0
        return self._position

    def __iter__(self) -> Iterator[Any]:
        return self.iter()

    def __next__(self) -> Any:
        return self.next()

    def slice(
        self, start: int | None, stop: int | None = None, yield_key: bool = False, raw: bool = False, copy: bool = True
    ) -> list:
        """Return samples ``start`` … ``stop - 1`` as a list (bounds as for ``range``/slices)."""
        begin, end = self._bounds(0 if start is None else start, stop)
        samples = list(self.read_range(begin, end, raw=raw, copy=copy))
        if yield_key:
            return [(self.find_key(i), s) for i, s in zip(range(begin, end), samples)]
        return samples

    @property
    def fetches_concurrently(self) -> bool:
        """Whether :meth:`read_runs` fetches runs concurrently (remote readers): callers then do
        best to pass all the runs they need at once."""
        return False

    def read_runs(self, runs: Sequence[tuple[int, int]], raw: bool = False, copy: bool = True) -> list[list]:
        """Return the samples of each run ``(start, stop)`` of consecutive indices, one list per run.

        Remote readers fetch the runs concurrently (see :attr:`fetches_concurrently`); others read
        them one after another.

        Args:
            runs: ``(start, stop)`` bounds, as for :meth:`slice`.
            raw: return packed msgpack bytes.
            copy: if false, samples may be ``memoryview`` objects sharing the reader's buffers.
        """
        return [self.slice(start, stop, raw=raw, copy=copy) for start, stop in runs]

    def read_spans(self, indices: Sequence[int] | np.ndarray) -> list[Spans]:
        """Return where the packed bytes of the samples at ``indices`` lie, for batch decoders.

        Together the returned :class:`Spans` answer every position of ``indices`` exactly once.
        Readers over one memory-mapped file answer with one zero-copy span over the mapping; the
        default packs the samples of :meth:`read_runs` into one buffer: each sample once, in storage
        order, one run per stretch of adjacent indices, whatever the order of ``indices``.

        Args:
            indices: valid, non-negative sample indices, in any order, repeats allowed.
        """
        order = np.asarray(indices, dtype=np.int64)
        unique, position = np.unique(order, return_inverse=True)
        breaks = (np.flatnonzero(np.diff(unique) != 1) + 1).tolist()
        heads, tails = [0, *breaks], [*breaks, len(unique)]
        runs = [(int(unique[a]), int(unique[b - 1]) + 1) for a, b in zip(heads, tails) if a < b]
        pieces = [bytes(piece) for run in self.read_runs(runs, raw=True) for piece in run]
        sizes = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
        stops = np.cumsum(sizes)
        position = position.reshape(-1)
        return [
            Spans(b"".join(pieces), (stops - sizes)[position], stops[position], np.arange(len(order), dtype=np.intp))
        ]

    def __getitem__(self, item: int | builtins.slice) -> Any:
        if isinstance(item, slice):
            if item.step not in (None, 1):
                raise ValueError(f"slices of a reader must have step 1, got {item.step}")
            return self.slice(item.start, item.stop)
        return self.get(item)

    def next(self) -> Any:
        """Return the sample at the read position and advance it.

        Raises:
            StopIteration: at the end of the dataset.
        """
        if self._position >= len(self):
            raise StopIteration
        sample = self.get(self._position)
        self._position += 1
        return sample

    def rawnext(self) -> bytes:
        """Like :meth:`next`, as packed msgpack bytes."""
        if self._position >= len(self):
            raise StopIteration
        sample = self.get(self._position, raw=True)
        self._position += 1
        return sample

    def rawiter(self, yield_key: bool = False) -> Iterator[Any]:
        """Iterate from the read position, yielding packed msgpack bytes."""
        return self.iter(yield_key=yield_key, raw=True)

    def seek(self, index: int) -> None:
        """Move the read position to ``index`` (negative counts from the end; ``len`` is the end).

        Raises:
            IndexError: ``index`` is out of range.
        """
        length = len(self)
        position = index + length if index < 0 else index
        if not 0 <= position <= length:
            raise IndexError(f"cannot seek to index {index} of {self!r} with {length} samples")
        self._position = position

    def seek_index(self, index: int) -> None:
        """Same as :meth:`seek`."""
        self.seek(index)

    def seek_key(self, key: str) -> None:
        """Move the read position to the sample with ``key``.

        Raises:
            KeyError: no sample has this key.
        """
        self._position = self.find_index(key)

    def close(self) -> None:  # noqa: B027 - a default that does nothing: readers without resources keep it
        """Release files and buffers; the default does nothing."""

    def __enter__(self: _R) -> _R:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __copy__(self: _R) -> _R:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
