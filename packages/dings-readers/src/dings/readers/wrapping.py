"""The base of every reader that wraps another reader (:class:`Augment`), and their argument checks."""

from __future__ import annotations

import copy as _copy
import numbers
import operator
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import numpy as np

from .reader import Reader, Spans

_A = TypeVar("_A", bound="Augment")

__all__ = ["Augment", "BLOCK", "as_int", "check_seed", "check_yield_key"]

#: numpy indices are turned into Python ints this many at a time (bounded memory, fast loops)
BLOCK = 4096


def as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, got {value!r}") from None


def check_yield_key(value: Any) -> bool:
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"yield_key must be a bool, got {value!r}: augments take yield_key first, as in datadings; "
            "give start= and stop= as keywords (iter(start=..., stop=...))"
        )
    return value


def check_seed(seed: int | None, default: int) -> int:
    if seed is None:
        return default
    value = as_int(seed, "seed")
    if value < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return value


class Augment(Reader):
    """Base of all augments: a reader that wraps another reader.

    Unless a subclass says otherwise, everything is delegated to the wrapped reader: the same
    length, keys and samples at the same indices.

    Args:
        reader: the reader to wrap (any :class:`~dings.readers.Reader`, including another augment).

    Raises:
        TypeError: ``reader`` is not a Reader.
    """

    def __init__(self, reader: Reader) -> None:
        if not isinstance(reader, Reader):
            raise TypeError(f"{type(self).__name__} wraps a dings.readers.Reader, got {type(reader).__name__}")
        self._reader = reader
        self._position = 0

    @property
    def reader(self) -> Reader:
        """The wrapped reader."""
        return self._reader

    def __len__(self) -> int:
        return len(self._reader)

    def __contains__(self, key: object) -> bool:
        return key in self._reader

    def find_index(self, key: str) -> int:
        """Return the index of the sample with ``key``.

        Raises:
            KeyError: no sample has this key.
        """
        return self._reader.find_index(key)

    def find_key(self, index: int) -> str:
        """Return the key of the sample at ``index`` (negative counts from the end).

        Raises:
            IndexError: ``index`` is out of range.
        """
        return self._reader.find_key(self._normalize(index))

    def read_sample(self, index: int, *, raw: bool = False, copy: bool = True) -> Any:
        """Return sample ``index`` (valid, non-negative) of the wrapped reader."""
        return self._reader.read_sample(index, raw=raw, copy=copy)

    def read_range(self, start: int, stop: int, *, raw: bool = False, copy: bool = True) -> Iterator[Any]:
        """Return an iterator over samples ``start`` … ``stop - 1`` of the wrapped reader."""
        return self._reader.read_range(start, stop, raw=raw, copy=copy)

    def read_spans(self, indices: Sequence[int] | np.ndarray) -> list[Spans]:
        """Where the packed bytes of the samples at ``indices`` lie: the wrapped reader's spans of
        the indices mapped to it (see :meth:`Reader.read_spans`)."""
        return self._reader.read_spans(self._map_indices(np.asarray(indices, dtype=np.int64)))

    def _map_indices(self, indices: np.ndarray) -> np.ndarray:
        """The wrapped reader's indices of positions ``indices`` (valid, non-negative)."""
        return indices

    @property
    def fetches_concurrently(self) -> bool:
        """Whether the wrapped reader fetches runs concurrently (a remote reader underneath)."""
        return bool(getattr(self._reader, "fetches_concurrently", False))

    def __enter__(self: _A) -> _A:
        self._reader.__enter__()
        return self

    def iter(  # type: ignore[override]
        self,
        yield_key: bool = False,
        raw: bool = False,
        copy: bool = True,
        chunk_size: int = 16,
        *,
        start: int | None = None,
        stop: int | None = None,
    ) -> Iterator[Any]:
        """Iterate over the samples, in datadings' argument order (``start``/``stop`` are keywords).

        Like :meth:`Reader.iter`, iteration continues at the read position and starts over at 0
        once the read position is at the end, so every ``for`` loop over a finished augment reads
        it again.

        Args:
            yield_key: yield ``(key, sample)`` pairs.
            raw: yield packed msgpack bytes.
            copy: if false, samples may be ``memoryview`` objects sharing the reader's buffers.
            chunk_size: samples the wrapped reader reads together.
            start: first position (negative counts from the end); ``None`` continues at the read position.
            stop: end position, exclusive; ``None`` for the end.

        Raises:
            TypeError: ``yield_key`` is an int other than a bool (most likely a ``start`` given
                positionally, which augments take as a keyword, as datadings' augments do).
        """
        return self._iter(start, stop, check_yield_key(yield_key), raw, copy, chunk_size)

    def _iter(
        self, start: int | None, stop: int | None, yield_key: bool, raw: bool, copy: bool, chunk_size: int
    ) -> Iterator[Any]:
        return Reader.iter(self, start, stop, yield_key, raw, copy, chunk_size)

    def close(self) -> None:
        """Close the wrapped reader."""
        self._reader.close()

    def __copy__(self) -> Augment:
        clone = super().__copy__()
        clone.__dict__.pop("_live", None)  # the iteration behind next() is not shared
        clone._reader = _copy.copy(self._reader)
        return clone

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_live", None)  # a running generator cannot be pickled; next() starts a new one
        return state

    def _repr_args(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._reader!r}{self._repr_args()})"
