"""Readers that read another reader pass after pass: :class:`Cycler` (forever) and :class:`Repeater`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .reader import Reader
from .wrapping import Augment, as_int

__all__ = ["Cycler", "Repeater"]


class _Passes(Augment):
    """Shared by :class:`Cycler` and :class:`Repeater`: augments that read the wrapped reader pass after pass."""

    def seek(self, index: int) -> None:
        """Move the read position to ``index % len(reader)`` (any int, as datadings)."""
        length = len(self._reader)
        self._position = as_int(index, "index") % length if length else 0

    def next(self) -> Any:
        """Return the sample at the read position and advance it (read as :meth:`iter` reads it).

        Raises:
            StopIteration: at the end (a :class:`Cycler` ends only if the reader is empty).
        """
        return self._next_in_pass(raw=False)

    def rawnext(self) -> bytes:
        """Like :meth:`next`, as packed msgpack bytes."""
        return self._next_in_pass(raw=True)

    def _next_in_pass(self, raw: bool) -> Any:
        """The sample at the read position, read by one long iteration kept between calls.

        So ``next()`` reads exactly what ``iter()`` would (a shuffler inside starts a new order
        for each repetition), at the cost of one iteration instead of one per call.

        Raises:
            StopIteration: at the end.
        """
        live = self.__dict__.pop("_live", None)
        if live is None or live[0] != (self._position, raw):
            items = self._iter(self._position, None, False, raw, True, 16)
        else:
            items = live[1]
        sample = next(items)  # advances the read position
        self._live = ((self._position, raw), items)
        return sample

    def _stored_position(self, position: int) -> int:
        """The read position kept after stream position ``position`` was handed out."""
        return position

    def _follow_passes(
        self, begin: int, end: int | None, yield_key: bool, raw: bool, copy: bool, chunk_size: int
    ) -> Iterator[Any]:
        """Yield stream positions ``begin … end - 1`` (``end=None``: forever), a wrapped pass at a time.

        Stream position ``p`` is the wrapped reader's index ``p % len(reader)``; each pass is read
        through the wrapped reader's ``iter``, so a shuffler inside starts a new epoch each time.
        """
        length = len(self._reader)
        if length == 0:
            return
        position = begin
        while end is None or position < end:
            offset = position % length
            before = position
            stop = None if end is None else min(length, offset + end - position)
            for item in self._reader.iter(
                start=offset, stop=stop, yield_key=yield_key, raw=raw, copy=copy, chunk_size=chunk_size
            ):
                position += 1
                self._position = self._stored_position(position)
                yield item
            if position == before:  # the wrapped reader yielded nothing: do not spin
                return


class Cycler(_Passes):
    """Cycle through a reader forever.

    ``len`` and random access are those of the wrapped reader. Iterating without ``stop`` never
    ends: after the last sample it starts over at index 0, through the wrapped reader's ``iter``,
    so a shuffler inside gets a new epoch each cycle. The read position wraps around as well:
    :meth:`seek` takes any index modulo ``len`` (as datadings), and :meth:`next` never raises
    ``StopIteration`` unless the reader is empty. An empty reader cycles to nothing.

    Args:
        reader: the reader to cycle.

    Raises:
        TypeError: ``reader`` is not a Reader.
    """

    def _iter(
        self, start: int | None, stop: int | None, yield_key: bool, raw: bool, copy: bool, chunk_size: int
    ) -> Iterator[Any]:
        # cycles forever from `start`, or covers `start … stop - 1` of the first pass once if `stop` is given
        length = len(self)
        if stop is not None:
            begin, end = self._bounds(start, stop)
            return self._follow_passes(begin, end, yield_key, raw, copy, chunk_size)
        if start is None:
            begin = self._position
        else:
            begin = start + length if start < 0 else start
            if not 0 <= begin <= length:
                raise IndexError(f"cannot start at index {start} of {self!r} with {length} samples")
        return self._follow_passes(begin, None, yield_key, raw, copy, chunk_size)

    def _stored_position(self, position: int) -> int:
        return position % len(self._reader)


class Repeater(_Passes):
    """Read a reader ``times`` times in a row.

    As in datadings, ``len`` is the wrapped reader's length (one repetition); :attr:`total` is
    the number of samples a full iteration yields, ``times * len(reader)``. Iteration reads the
    wrapped reader's passes one after another through its ``iter``, so a shuffler inside gets a
    new epoch for each repetition. Random access and slices cover all ``total`` positions:
    position ``i`` is the wrapped reader's index ``i % len(reader)`` in its current order.
    :meth:`find_index` returns the first repetition's index. :meth:`seek` moves to ``index %
    len(reader)`` of the first repetition (as datadings), so iteration then yields the rest of
    that repetition and ``times - 1`` more.

    Args:
        reader: the reader to repeat.
        times: number of repetitions, at least 1 (give this or ``min_size``).
        min_size: repeat as often as needed for ``total`` to be at least this (at least once).

    Raises:
        TypeError: ``reader`` is not a Reader, or ``times``/``min_size`` is not an int.
        ValueError: both or neither of ``times`` and ``min_size``; a value below 1; or
            ``min_size`` with an empty reader.
    """

    def __init__(self, reader: Reader, times: int | None = None, *, min_size: int | None = None) -> None:
        super().__init__(reader)
        if (times is None) == (min_size is None):
            raise ValueError(f"{type(self).__name__} needs exactly one of times= or min_size=")
        if min_size is not None:
            size = as_int(min_size, "min_size")
            if size < 1:
                raise ValueError(f"min_size must be an int >= 1, got {min_size!r}")
            if len(reader) == 0:
                raise ValueError(f"cannot repeat the empty reader {reader!r} to {size} samples")
            times = max(1, -(-size // len(reader)))
        value = as_int(times, "times")
        if value < 1:
            raise ValueError(f"times must be at least 1, got {times!r}")
        self._times = value

    @property
    def times(self) -> int:
        """Number of repetitions."""
        return self._times

    @property
    def total(self) -> int:
        """Samples of all repetitions together: ``times * len(reader)``."""
        return self._times * len(self._reader)

    def __len__(self) -> int:
        return len(self._reader)

    # positions run over all repetitions, while len is one repetition (datadings)
    def _normalize(self, index: int) -> int:
        try:
            return range(self.total)[index]  # negative counts from the end, like a sequence
        except IndexError:
            raise IndexError(
                f"index {index} out of range for {self!r} with {self.total} samples in all repetitions"
            ) from None
        except TypeError:
            raise TypeError(f"sample indices must be integers, not {type(index).__name__} ({index!r})") from None

    def _bounds(self, start: int | None, stop: int | None) -> tuple[int, int]:
        start = self._position if start is None else start
        begin, end, _ = slice(start, stop).indices(self.total)
        return begin, max(begin, end)

    def _resume(self) -> int:
        if self._position >= self.total:
            self._position = 0
        return self._position

    def find_key(self, index: int) -> str:
        """Return the key at ``index`` (negative counts from the end of the last repetition).

        Raises:
            IndexError: ``index`` is out of range.
        """
        return self._reader.find_key(self._normalize(index) % len(self._reader))

    def read_sample(self, index: int, *, raw: bool = False, copy: bool = True) -> Any:
        """Return sample ``index`` (valid, non-negative): the wrapped reader's ``index % len(reader)``."""
        return self._reader.read_sample(index % len(self._reader), raw=raw, copy=copy)

    def _map_indices(self, indices: np.ndarray) -> np.ndarray:
        return indices % len(self._reader)

    def read_range(self, start: int, stop: int, *, raw: bool = False, copy: bool = True) -> Iterator[Any]:
        """Yield samples ``start`` … ``stop - 1``, wrapping around the wrapped reader."""
        length = len(self._reader)
        position = start
        while position < stop:
            offset = position % length
            end = min(length, offset + stop - position)
            yield from self._reader.read_range(offset, end, raw=raw, copy=copy)
            position += end - offset

    def _iter(
        self, start: int | None, stop: int | None, yield_key: bool, raw: bool, copy: bool, chunk_size: int
    ) -> Iterator[Any]:
        begin, end = self._bounds(self._resume() if start is None else start, stop)
        return self._follow_passes(begin, end, yield_key, raw, copy, chunk_size)

    def _repr_args(self) -> str:
        return f", times={self._times}"
