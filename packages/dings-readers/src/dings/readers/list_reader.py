"""ListReader: a dataset held in memory as a list of sample dicts, with optional label mapping."""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

from dings.format import DuplicateKeyError

from .labels import label_index, numeric_label, resolve_labels, sorted_labels
from .reader import Reader

__all__ = ["ListReader", "noop"]


def noop(sample: Any) -> None:
    """Do nothing; the default ``initfun`` and ``convertfun``."""


class ListReader(Reader):
    """Reader over samples held in memory (datadings' ``ListReader``).

    The given sample dicts are copied (shallowly) once, so the caller's dicts are never changed.
    Then, in this order, for every sample:

    1. ``initfun(sample)`` may change the reader's copy in place; the changes last for the life of
       the reader (use it to add or fix keys, labels, paths …).
    2. A missing ``"key"`` becomes the sample's position, an ``int``, as in datadings. Keys may
       be ``str``, ``int`` or any other hashable value, and must be unique. (Writing samples to a
       dataset file needs ``str`` keys: the writer refuses other keys with a clear error.)
    3. If ``numeric_labels`` is true, a sample's ``"label"`` is replaced by its position in the
       list of labels and the original is kept as ``"_label"``. Samples without ``"label"`` are
       left alone.

    The list of labels (``reader.labels``) is the ``labels`` argument, or else every distinct
    ``"label"`` of the samples in natural sort order (``"img2"`` before ``"img10"``, see
    :func:`~dings.readers.labels.natural_sort_key`). ``None`` cannot be sorted, so a sample labelled
    ``None`` needs an explicit ``labels`` list that contains ``None``.

    Every read returns a new shallow copy of the stored sample; subclasses may fill in data at that
    point (see :meth:`_load`), then ``convertfun(copy)`` may change it in place (its return value
    is ignored). With ``raw=True`` the result is packed with :func:`dings.format.packb`.

    Args:
        samples: sample dicts (any iterable; it is read once).
        labels: the labels in the order that defines numeric labels: an iterable, or a path
            (``str`` or path-like) to a text file with one label per line. ``None`` collects
            them from the samples.
        numeric_labels: replace labels by their index in the list of labels.
        initfun: ``initfun(sample)`` changes a sample in place once, during construction.
        convertfun: ``convertfun(sample)`` changes a shallow copy in place every time a sample
            is returned.

    Raises:
        TypeError: a sample is not a dict/mapping, or has an unhashable key.
        dings.format.DuplicateKeyError: two samples have the same key (a ``ValueError``).
        ValueError: a sample is labelled ``None`` but no labels were given, or the labels list
            repeats a label.
        dings.readers.labels.UnknownLabelError: with ``numeric_labels`` and explicit labels, a
            sample's label is not among them (a ``ValueError`` and a ``KeyError``).
        FileNotFoundError: ``labels`` names a file that does not exist.
    """

    def __init__(
        self,
        samples: Iterable[Mapping],
        labels: Iterable | str | os.PathLike | None = None,
        numeric_labels: bool = True,
        initfun: Callable[[dict], Any] = noop,
        convertfun: Callable[[dict], Any] = noop,
    ) -> None:
        self._position = 0
        self._convertfun = convertfun
        self._samples: list[dict] = []
        self._keys: list[Hashable] = []
        self._key_to_index: dict[Hashable, int] = {}
        for index, given in enumerate(samples):
            if not isinstance(given, Mapping):
                raise TypeError(f"sample {index} is a {type(given).__name__}, not a dict; every sample must be a dict")
            sample = dict(given)
            initfun(sample)
            self._add_key(index, sample)
            self._samples.append(sample)
        explicit = resolve_labels(labels)
        self.labels: list = sorted_labels(self._samples) if explicit is None else explicit
        if numeric_labels:
            mapping = label_index(self.labels)
            for index, sample in enumerate(self._samples):
                if "label" in sample:
                    number = numeric_label(mapping, index, sample)
                    sample["_label"] = sample["label"]
                    sample["label"] = number

    def _add_key(self, index: int, sample: dict) -> None:
        key = sample.setdefault("key", index)
        try:
            first = self._key_to_index.setdefault(key, index)
        except TypeError:
            raise TypeError(
                f"sample {index} has key {key!r} of type {type(key).__name__}, which cannot be a key "
                "(keys must be hashable, and str to be written to a file): convert it, for example in initfun"
            ) from None
        if first != index:
            where = f" ({sample['path']})" if "path" in sample else ""
            raise DuplicateKeyError(
                f"key {key!r} is used by samples {first} and {index}{where}; keys must be unique: "
                "give the samples distinct keys (for example in initfun)"
            )
        self._keys.append(key)

    # --- Reader interface ---

    def __len__(self) -> int:
        return len(self._samples)

    def __contains__(self, key: object) -> bool:
        try:
            return key in self._key_to_index
        except TypeError:  # unhashable
            return False

    def find_index(self, key: Hashable) -> int:
        """Return the index of the sample with ``key``.

        Raises:
            KeyError: no sample has this key.
        """
        try:
            return self._key_to_index[key]
        except (KeyError, TypeError):
            raise KeyError(
                f"{key!r} is not a key of {self!r}; check the key, or test with `key in reader` first"
            ) from None

    def find_key(self, index: int) -> Hashable:  # type: ignore[override]
        """Return the key of the sample at ``index`` (negative counts from the end).

        Raises:
            IndexError: ``index`` is out of range.
        """
        return self._keys[self._normalize(index)]

    def _load(self, index: int, sample: dict) -> None:
        """Fill in what is read lazily (a hook for subclasses) on the copy about to be returned."""

    def read_sample(self, index: int, *, raw: bool = False, copy: bool = True) -> Any:
        """Return sample ``index`` (valid, non-negative); see :meth:`Reader.read_sample`."""
        sample = dict(self._samples[index])
        self._load(index, sample)
        self._convertfun(sample)
        return self._pack(sample, raw)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<{len(self._samples)} samples>)"
