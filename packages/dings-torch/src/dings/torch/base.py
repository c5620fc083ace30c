"""DatasetBase and the map-style Dataset: samples of a dings reader, with transforms applied."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import torch.utils.data
from dings.readers import MsgpackReader, open_dataset

from .shared_memory import SharedMemoryReader

__all__ = ["Dataset", "DatasetBase", "PARAMS_KEY", "as_reader"]

#: the sample key under which dict-form transforms store the parameters ``rng(sample)`` returned
PARAMS_KEY = "__params__"

Transforms = Mapping[str, Callable[[Any, dict], Any]] | Callable[[dict], dict] | None


def as_reader(reader: Any, reader_options: Mapping[str, Any] | None = None) -> Any:
    """A reader as given, or the reader :func:`dings.readers.open_dataset` opens for a dataset spec.

    Args:
        reader: a dings reader, or a spec: a data file, a glob or brace pattern, a folder, a
            manifest, a URL of any of these (``"s3://bucket/train/"``), or a list of specs.
        reader_options: keyword arguments for :func:`~dings.readers.open_dataset` when ``reader``
            is a spec (``allow_unsafe``, ``verify``, ``cache_dir``, ``storage_options`` …).

    Raises:
        TypeError: ``reader_options`` given with a reader (they would be ignored).
    """
    is_spec = isinstance(reader, (str, os.PathLike)) or (
        isinstance(reader, (list, tuple)) and bool(reader) and all(isinstance(s, (str, os.PathLike)) for s in reader)
    )
    if is_spec:
        return open_dataset(reader, **dict(reader_options or {}))
    if reader_options:
        raise TypeError("reader_options apply only when a dataset spec is given instead of a reader; open it yourself")
    return reader


def _shared(reader: Any, shared_memory: bool) -> Any:
    if not shared_memory or isinstance(reader, SharedMemoryReader):
        return reader
    if not isinstance(reader, MsgpackReader):
        raise ValueError(
            f"shared_memory=True needs a MsgpackReader, got {reader!r}; put the dataset in one file "
            "(or wrap a SharedMemoryReader per file yourself)"
        )
    return SharedMemoryReader(reader)


class DatasetBase:
    """What both datasets share: a reader, and transforms applied to each sample.

    Args:
        reader: a dings reader (anything with ``len``, ``get`` and ``iter``), or a dataset spec
            opened with :func:`dings.readers.open_dataset` (a data file, a glob or brace pattern, a
            folder, a manifest, a URL of any of these, or a list of specs).
        transforms: ``None``; a dict ``{key: t}`` where ``t(value, params)`` returns the new value
            of ``sample[key]`` (e.g. a :class:`~dings.torch.Compose`); or one callable
            ``f(sample) -> sample``. In the dict form the parameters returned by ``rng(sample)``
            are also stored in ``sample["__params__"]`` (as datadings does), so they can be
            returned with the sample (see :class:`~dings.torch.SelectKeys`).
        rng: ``rng(sample) -> dict`` of random parameters for the dict form; default
            :func:`~dings.torch.no_rng`.
        shared_memory: ``True`` loads a ``MsgpackReader``'s dataset into shared memory once per
            machine and reads it from there (see :class:`~dings.torch.SharedMemoryReader`).
        reader_options: keyword arguments for :func:`~dings.readers.open_dataset` when ``reader``
            is a spec (e.g. ``cache_dir``, ``storage_options``, ``allow_unsafe``).

    Raises:
        TypeError: ``reader`` is not a reader, ``rng`` or a transform is not callable.
    """

    def __init__(
        self,
        reader: Any,
        transforms: Transforms = None,
        rng: Callable[[dict], dict] | None = None,
        *,
        shared_memory: bool = False,
        reader_options: Mapping[str, Any] | None = None,
    ) -> None:
        reader = as_reader(reader, reader_options)
        for needed in ("__len__", "get", "iter"):
            if not hasattr(reader, needed):
                raise TypeError(f"reader must be a dings reader (with len, get and iter), got {type(reader).__name__}")
        if rng is not None and not callable(rng):
            raise TypeError(f"rng must be a callable rng(sample) -> dict, got {rng!r}")
        self.reader = _shared(reader, shared_memory)
        self._rng = rng
        self._transforms = transforms
        if transforms is None:
            self.transform: Callable[[dict], Any] | None = None
        elif isinstance(transforms, Mapping):
            for key, f in transforms.items():
                if not callable(f):
                    raise TypeError(f"transforms[{key!r}] is {f!r}, not a callable t(value, params)")
            self._items = tuple(transforms.items())
            self.transform = self._transform_dict
        elif callable(transforms):
            self.transform = transforms
        else:
            raise TypeError(
                f"transforms must be None, a dict of callables or a callable, got {type(transforms).__name__}"
            )

    def _transform_dict(self, sample: dict) -> dict:
        params = self._rng(sample) if self._rng is not None else {}
        sample[PARAMS_KEY] = params
        for key, f in self._items:
            try:
                value = sample[key]
            except KeyError:
                raise KeyError(
                    f"transforms has key {key!r}, but sample {sample.get('key')!r} has only {sorted(sample)}"
                ) from None
            sample[key] = f(value, params)
        return sample

    def __len__(self) -> int:
        return len(self.reader)


class Dataset(DatasetBase, torch.utils.data.Dataset):
    """A map-style ``torch.utils.data.Dataset``: ``dataset[i]`` is sample ``i`` after the transforms.

    Use a sampler (e.g. ``DistributedSampler``) for shuffling and sharding, or prefer
    :class:`~dings.torch.IterableDataset`, which shuffles, shards and resumes by itself and reads
    sequential runs faster. Arguments as for :class:`DatasetBase`.
    """

    def __getitem__(self, index: int) -> Any:
        sample = self.reader.get(index)
        return sample if self.transform is None else self.transform(sample)
