"""Dataset wrappers that change each sample: the base class, SelectKeys and LabelSmoothing.

A wrapper takes a dataset (map-style or iterable, e.g. a :class:`~dings.torch.Dataset` or
:class:`~dings.torch.IterableDataset`) and is a dataset of the same kind, so a DataLoader treats it
like the dataset it wraps. Wrappers nest: ``SelectKeys(LabelSmoothing(Mixup(ds, …), …))``.
Attributes the wrapper does not have (``set_epoch``, ``state_dict``, ``load_state_dict``, …) are
looked up on the wrapped dataset, so an iterable wrapper keeps the dataset's epochs and resuming.
A wrapper never changes the samples it receives; it returns new dicts.
"""

from __future__ import annotations

import numbers
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

import torch
import torch.utils.data

from .base import PARAMS_KEY

__all__ = ["DatasetWrapper", "LabelSmoothing", "SelectKeys", "soft_label"]

_VARIANTS: dict[tuple[type, bool], type] = {}
_END = object()


def _variant(cls: type, iterable: bool) -> type:
    """``cls`` combined with torch's map-style or iterable dataset base (cached)."""
    found = _VARIANTS.get((cls, iterable))
    if found is None:
        base = _IterableBase if iterable else _MapBase
        found = type(cls.__name__, (cls, base), {"__module__": cls.__module__, "__qualname__": cls.__qualname__})
        _VARIANTS[(cls, iterable)] = found
    return found


def _rebuild(cls: type, iterable: bool, state: dict) -> DatasetWrapper:
    wrapper: DatasetWrapper = object.__new__(_variant(cls, iterable))
    wrapper.__dict__.update(state)
    return wrapper


def soft_label(label: Any, num_classes: int | None) -> torch.Tensor:
    """Return ``label`` as a float32 vector: one-hot for an int class, unchanged values for a vector.

    Args:
        label: an int class (Python, numpy or a 0-d tensor), or a vector of class weights.
        num_classes: length of the vector; required for int labels.

    Raises:
        ValueError: an int label without ``num_classes`` or out of range, or a vector of the wrong
            shape.
    """
    if isinstance(label, (numbers.Integral, np.integer)) or (
        isinstance(label, (torch.Tensor, np.ndarray)) and label.ndim == 0
    ):
        value = int(label)
        if num_classes is None:
            raise ValueError(f"label {value} is a class number; pass num_classes= to turn it into a one-hot vector")
        if not 0 <= value < num_classes:
            raise ValueError(f"label {value} is out of range for num_classes={num_classes}")
        vector = torch.zeros(num_classes, dtype=torch.float32)
        vector[value] = 1.0
        return vector
    vector = torch.as_tensor(label, dtype=torch.float32)
    if vector.ndim != 1 or (num_classes is not None and len(vector) != num_classes):
        raise ValueError(
            f"soft label must be a vector of {num_classes or 'num_classes'} values, got shape {tuple(vector.shape)}"
        )
    return vector


class DatasetWrapper(ABC):
    """Base of the sample wrappers: the same kind of dataset as the one it wraps.

    Subclasses implement :meth:`change` (``partner`` is another sample of the dataset when the
    subclass sets ``needs_partner``). For a map-style dataset the partner is a random sample; for an
    iterable dataset it is a random one of the last ``pool`` samples of the stream (the second
    sample for the first one), so the stream's order — and the dataset's exactly-once epochs and
    resuming — stay as they are. Randomness uses Python's ``random`` module, which each DataLoader
    worker seeds differently.

    Args:
        dataset: a map-style dataset (``__getitem__``, ``__len__``) or a ``torch.utils.data.IterableDataset``.

    Raises:
        TypeError: ``dataset`` is neither.
    """

    needs_partner = False
    pool = 16

    def __new__(cls, dataset: Any, *args: Any, **kwargs: Any) -> DatasetWrapper:
        iterable = isinstance(dataset, torch.utils.data.IterableDataset)
        if not iterable and not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"{cls.__name__} wraps a map-style dataset or a torch IterableDataset, got {type(dataset).__name__}"
            )
        return object.__new__(_variant(cls, iterable))

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset

    @abstractmethod
    def change(self, sample: Any, partner: Any) -> Any:
        """Return the changed sample (a new object); ``partner`` is ``None`` unless ``needs_partner``."""

    def __getattr__(self, name: str) -> Any:
        if name == "dataset" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __reduce__(self) -> tuple:
        iterable = isinstance(self, torch.utils.data.IterableDataset)
        cls = next(c for c in type(self).__mro__ if c not in _VARIANTS.values())
        return _rebuild, (cls, iterable, self.__dict__)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.dataset!r})"


class _MapBase(torch.utils.data.Dataset):
    # provided by the DatasetWrapper subclass that _variant() mixes this into
    dataset: Any
    needs_partner: bool
    pool: int
    change: Callable[[Any, Any], Any]

    def __getitem__(self, index: int) -> Any:
        sample = self.dataset[index]
        partner = None
        if self.needs_partner:
            partner = self.dataset[random.randrange(len(self.dataset))]
        return self.change(sample, partner)

    def __len__(self) -> int:
        return len(self.dataset)


class _IterableBase(torch.utils.data.IterableDataset):
    # provided by the DatasetWrapper subclass that _variant() mixes this into
    dataset: Any
    needs_partner: bool
    pool: int
    change: Callable[[Any, Any], Any]

    def __iter__(self) -> Iterator[Any]:
        if not self.needs_partner:
            return map(self.change, iter(self.dataset), iter(lambda: None, _END))
        return self._with_partners()

    def _with_partners(self) -> Iterator[Any]:
        size = max(1, int(self.pool))
        pool: list = []
        stream = iter(self.dataset)
        upcoming = next(stream, _END)
        while upcoming is not _END:
            sample, upcoming = upcoming, next(stream, _END)
            if pool:
                partner = pool[random.randrange(len(pool))]
            else:
                partner = sample if upcoming is _END else upcoming
            yield self.change(sample, partner)
            if len(pool) < size:
                pool.append(sample)
            else:
                pool[random.randrange(size)] = sample

    def __len__(self) -> int:
        return len(self.dataset)


class SelectKeys(DatasetWrapper):
    """Turn sample dicts into tuples of chosen values, e.g. ``(image, label)``.

    Args:
        dataset: a dataset of sample dicts.
        keys: the keys to take, in order.
        with_params: return ``(values, params)`` where ``params`` is ``sample["__params__"]`` (the
            rng's parameters and those recorded by mixing wrappers; ``{}`` if there are none),
            for losses that need to know how each sample was augmented.

    Raises (when reading):
        KeyError: a sample lacks one of ``keys`` (the message names it).
    """

    def __init__(self, dataset: Any, keys: Sequence[str] = ("image", "label"), with_params: bool = False) -> None:
        super().__init__(dataset)
        if isinstance(keys, str):
            raise TypeError(f"keys must be a sequence of keys, not the string {keys!r}; write ({keys!r},)")
        self.keys = tuple(keys)
        self.with_params = with_params

    def change(self, sample: dict, partner: Any = None) -> tuple:
        """Return the selected values (and the parameters, with ``with_params``)."""
        try:
            values = tuple(sample[k] for k in self.keys)
        except KeyError as exc:
            raise KeyError(
                f"SelectKeys: sample {sample.get('key')!r} has no key {exc.args[0]!r} (it has {sorted(sample)})"
            ) from None
        if self.with_params:
            return values, sample.get(PARAMS_KEY, {})
        return values


class LabelSmoothing(DatasetWrapper):
    """Replace each label by a smoothed vector: ``(1 - smoothing) * y + smoothing / num_classes``.

    Int labels become one-hot first; soft labels (vectors, e.g. after mixing) are smoothed as they are.

    Args:
        dataset: a dataset of sample dicts.
        smoothing: how much weight to spread over all classes, ``0 <= smoothing < 1``.
        num_classes: number of classes.
        label_key: key of the label.

    Raises:
        ValueError: ``smoothing`` or ``num_classes`` is out of range.
    """

    def __init__(
        self, dataset: Any, smoothing: float = 0.1, num_classes: int | None = None, label_key: str = "label"
    ) -> None:
        super().__init__(dataset)
        if isinstance(smoothing, bool) or not isinstance(smoothing, numbers.Real) or not 0 <= smoothing < 1:
            raise ValueError(f"smoothing must be a number with 0 <= smoothing < 1, got {smoothing!r}")
        if (
            num_classes is None
            or isinstance(num_classes, bool)
            or not isinstance(num_classes, numbers.Integral)
            or num_classes < 1
        ):
            raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
        self.smoothing: float = float(smoothing)
        self.num_classes: int = int(num_classes)
        self.label_key: str = label_key

    def change(self, sample: dict, partner: Any = None) -> dict:
        """Return a copy of ``sample`` with the smoothed label."""
        out = dict(sample)
        label = soft_label(sample[self.label_key], self.num_classes)
        out[self.label_key] = label * (1.0 - self.smoothing) + self.smoothing / self.num_classes
        return out
