"""Reader wrappers that choose which samples a dataset has: by index, by class, by fraction, oversampled.

Each is a dings :class:`~dings.readers.Reader` (an augment of the reader it wraps), so they nest
with each other and with the other augments, and any of them can be given to
``dings.torch.Dataset`` or ``dings.torch.IterableDataset`` (which export them too). Sequential reads of
consecutive wrapped indices still use the wrapped reader's fast sequential path.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Hashable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from dings.format import progress_bar

from .ranges import Range
from .reader import Reader, Spans
from .wrapping import Augment

__all__ = ["ClassFilter", "FractionRange", "IndexedReader", "Oversample", "read_labels"]


def read_labels(reader: Reader, label_key: str = "label", progress: bool | None = False) -> list:
    """Return ``sample[label_key]`` of every sample of ``reader``, in order (reads every sample once).

    Args:
        reader: the reader.
        label_key: key of the label in each sample.
        progress: show a progress line.

    Raises:
        KeyError: a sample has no ``label_key`` (the message names the sample).
    """
    labels = []
    meter = progress_bar(
        total=len(reader), desc=f"reading {label_key!r} of every sample", unit=" samples", enabled=progress
    )
    for index, sample in enumerate(reader.iter(start=0)):
        try:
            labels.append(sample[label_key])
        except KeyError:
            raise KeyError(
                f"sample {index} ({sample.get('key')!r}) has no {label_key!r}; pass label_key= or labels="
            ) from None
        meter.update(1)
    meter.close()
    return labels


def _labels(reader: Reader, labels: Sequence | None, label_key: str, progress: bool | None) -> list:
    if labels is None:
        return read_labels(reader, label_key, progress)
    labels = list(labels)
    if len(labels) != len(reader):
        raise ValueError(
            f"labels has {len(labels)} entries but the reader has {len(reader)} samples; give one label per sample"
        )
    return labels


def _hashable(label: Any) -> Hashable:
    if isinstance(label, np.generic):
        return label.item()
    if isinstance(label, Hashable):
        return label
    raise TypeError(f"label {label!r} is not hashable; class wrappers need int or str labels")


class IndexedReader(Augment):
    """A reader over chosen samples of another reader: position ``i`` is sample ``indices[i]``.

    Indices may repeat and come in any order. :meth:`find_index` returns the first position of a key.

    Args:
        reader: the reader to take samples from.
        indices: indices into ``reader`` (ints, ``0 <= i < len(reader)``).

    Raises:
        TypeError: ``reader`` is not a dings Reader.
        ValueError: ``indices`` is not one-dimensional or has an index out of range.
    """

    def __init__(self, reader: Reader, indices: Iterable[int] | np.ndarray) -> None:
        super().__init__(reader)
        array = np.asarray(indices if isinstance(indices, np.ndarray) else list(indices))
        if array.size == 0:
            array = np.empty(0, dtype=np.int64)
        if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
            raise ValueError(
                f"indices must be a flat sequence of ints, got an array of shape {array.shape} and dtype {array.dtype}"
            )
        array = array.astype(np.int64)
        if array.size and (array.min() < 0 or array.max() >= len(reader)):
            bad = int(array[(array < 0) | (array >= len(reader))][0])
            raise ValueError(f"index {bad} is out of range for {reader!r} with {len(reader)} samples")
        array.flags.writeable = False
        self._indices = array
        self._first: dict[int, int] | None = None

    @property
    def indices(self) -> np.ndarray:
        """The wrapped reader's index of each position (read-only)."""
        return self._indices

    def __len__(self) -> int:
        return len(self._indices)

    def __contains__(self, key: object) -> bool:
        return Reader.__contains__(self, key)

    def find_index(self, key: str) -> int:
        """Return the first position whose sample has ``key``.

        Raises:
            KeyError: no chosen sample has this key.
        """
        index = self._reader.find_index(key)
        if self._first is None:
            first: dict[int, int] = {}
            for position, value in enumerate(self._indices.tolist()):
                first.setdefault(value, position)
            self._first = first
        try:
            return self._first[index]
        except KeyError:
            raise KeyError(f"{key!r} is not among the samples of {self!r}") from None

    def find_key(self, index: int) -> str:
        """Return the key at position ``index`` (negative counts from the end).

        Raises:
            IndexError: ``index`` is out of range.
        """
        return self._reader.find_key(int(self._indices[self._normalize(index)]))

    def read_sample(self, index: int, *, raw: bool = False, copy: bool = True) -> Any:
        """Return the sample at position ``index`` (valid, non-negative)."""
        return self._reader.read_sample(int(self._indices[index]), raw=raw, copy=copy)

    def read_spans(self, indices: Sequence[int] | np.ndarray) -> list[Spans]:
        """Where the packed bytes of the samples at positions ``indices`` lie (the wrapped reader's spans)."""
        return self._reader.read_spans(self._indices[np.asarray(indices, dtype=np.int64)])

    def read_range(self, start: int, stop: int, *, raw: bool = False, copy: bool = True) -> Iterator[Any]:
        """Yield the samples at positions ``start`` … ``stop - 1``; runs of consecutive indices are
        read with the wrapped reader's read_range."""
        chosen = self._indices[start:stop]
        if len(chosen) == 0:
            return
        breaks = np.flatnonzero(np.diff(chosen) != 1) + 1
        bounds = [0, *breaks.tolist(), len(chosen)]
        reader = self._reader
        for begin, end in zip(bounds[:-1], bounds[1:]):
            first = int(chosen[begin])
            if end - begin == 1:
                yield reader.read_sample(first, raw=raw, copy=copy)
            else:
                yield from reader.read_range(first, first + end - begin, raw=raw, copy=copy)

    def _repr_args(self) -> str:
        return f", <{len(self._indices)} indices>"


class ClassFilter(IndexedReader):
    """Only the samples whose label is in ``keep`` (or not in ``drop``), in their original order.

    Args:
        reader: the reader to filter.
        keep: labels to keep (give this or ``drop``).
        drop: labels to leave out.
        label_key: key of the label in each sample.
        labels: the label of every sample, if known (saves reading every sample once).
        progress: show a progress line while reading labels.

    Raises:
        ValueError: both or neither of ``keep`` and ``drop`` given; ``labels`` has the wrong length.
        KeyError: a sample has no ``label_key``.
    """

    def __init__(
        self,
        reader: Reader,
        keep: Iterable | None = None,
        drop: Iterable | None = None,
        *,
        label_key: str = "label",
        labels: Sequence | None = None,
        progress: bool | None = False,
    ) -> None:
        if (keep is None) == (drop is None):
            raise ValueError("ClassFilter needs exactly one of keep= (labels to keep) or drop= (labels to leave out)")
        chosen = {_hashable(x) for x in (keep if keep is not None else drop)}  # type: ignore[union-attr]
        wanted = keep is not None
        values = _labels(reader, labels, label_key, progress)
        indices = [i for i, label in enumerate(values) if (_hashable(label) in chosen) == wanted]
        super().__init__(reader, np.asarray(indices, dtype=np.int64))


class Oversample(IndexedReader):
    """Repeat samples of smaller classes until every class has as many samples as the largest.

    A class with ``n`` samples and a largest class of ``m`` gets its samples ``m // n - 1`` more
    times each, plus ``m % n`` of them once more (chosen with ``seed``). Positions are sorted by
    the wrapped reader's index, so copies sit next to their original (shuffle when iterating).

    Args:
        reader: the reader to balance.
        label_key: key of the label in each sample.
        labels: the label of every sample, if known (saves reading every sample once).
        seed: chooses the extra samples of each class.
        progress: show a progress line while reading labels.

    Raises:
        ValueError: ``labels`` has the wrong length.
        KeyError: a sample has no ``label_key``.
    """

    def __init__(
        self,
        reader: Reader,
        *,
        label_key: str = "label",
        labels: Sequence | None = None,
        seed: int = 0,
        progress: bool | None = False,
    ) -> None:
        values = [_hashable(x) for x in _labels(reader, labels, label_key, progress)]
        counts = Counter(values)
        target = max(counts.values(), default=0)
        members: dict[Hashable, list[int]] = {}
        for index, label in enumerate(values):
            members.setdefault(label, []).append(index)
        rng = np.random.default_rng(seed)
        pieces = [np.arange(len(values), dtype=np.int64)]
        for label in sorted(members, key=repr):  # a fixed order, so the seed means the same everywhere
            own = np.asarray(members[label], dtype=np.int64)
            extra = target - len(own)
            if extra <= 0:
                continue
            pieces.extend([own] * (extra // len(own)))
            pieces.append(np.sort(rng.choice(own, size=extra % len(own), replace=False)))
        super().__init__(reader, np.sort(np.concatenate(pieces), kind="stable"))
        self.class_counts = dict(counts)


class FractionRange(Range):
    """The samples from fraction ``start`` to fraction ``stop`` of a reader (e.g. ``0.8`` to ``1.0``).

    Bounds are ``round(fraction * len(reader))``, so adjacent ranges (``0–0.8``, ``0.8–1``) split
    a reader without overlap or gap.

    Args:
        reader: the reader to take samples from.
        start: first fraction, ``0 <= start <= stop``.
        stop: last fraction (exclusive), ``<= 1``.

    Raises:
        ValueError: the fractions are not numbers with ``0 <= start <= stop <= 1``.
    """

    def __init__(self, reader: Reader, start: float = 0.0, stop: float = 1.0) -> None:
        for name, value in (("start", start), ("stop", stop)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be a fraction between 0 and 1, got {value!r}")
        if start > stop:
            raise ValueError(f"start={start} comes after stop={stop}")
        length = len(reader)
        super().__init__(reader, math.floor(start * length + 0.5), math.floor(stop * length + 0.5))
        self.fractions = (float(start), float(stop))
