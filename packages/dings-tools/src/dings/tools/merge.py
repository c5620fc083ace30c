"""``merge``: combine several datasets into one, in order or randomly interleaved."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Literal

import numpy as np

from dings.format import DamagedDataError, DuplicateKeyError, InvalidSampleError, make_unpacker, packb
from dings.readers import MsgpackReader, Reader, ShardedReader, Shuffler

from ._dataset import (
    DatasetSpec,
    as_seed,
    check_outputs,
    dataset_stem,
    input_name,
    input_paths,
    open_reader,
    write_raw,
)

__all__ = ["merge", "replace_key"]

STRATEGIES = ("concat", "random")
# the random interleaving is turned into Python ints this many at a time
_BLOCK = 1 << 16


def replace_key(packed: bytes | memoryview, key: str) -> bytes:
    """Return a packed sample with its ``"key"`` value replaced, without decoding other values.

    The bytes equal what packing the decoded sample with the new key would give.

    Args:
        packed: one packed sample (a msgpack map with a ``"key"`` entry).
        key: the new key.

    Raises:
        InvalidSampleError: ``packed`` is not a map or has no ``"key"``.
    """
    data = bytes(packed)
    unpacker = make_unpacker(max_buffer_size=max(len(data), 1))
    unpacker.feed(data)
    try:
        entries = unpacker.read_map_header()
        for _ in range(entries):
            name = unpacker.unpack()
            start = unpacker.tell()
            unpacker.skip()
            if type(name) is str and name == "key":
                return data[:start] + packb(key) + data[unpacker.tell() :]
    except Exception as exc:  # msgpack raises several types for data that is not a map
        raise InvalidSampleError(
            f"cannot give a sample the key {key!r}: it is not a valid packed map ({exc})"
        ) from None
    raise InvalidSampleError(f'cannot give a sample the key {key!r}: it has no "key" entry')


def _keys(reader: Reader) -> list[str]:
    if isinstance(reader, MsgpackReader):
        return reader.keys
    if isinstance(reader, ShardedReader):
        return [key for shard in reader.shards for key in _keys(shard)]
    return [reader.find_key(i) for i in range(len(reader))]


def _check_keys(readers: list[Reader], names: list[str], prefixes: list[str]) -> None:
    """Raise before anything is written if two inputs share a (prefixed) key."""
    owner: dict[str, int] = {}
    for number, reader in enumerate(readers):
        keys = _keys(reader)
        prefix = prefixes[number]
        for key in keys:
            full = prefix + key
            first = owner.setdefault(full, number)
            if first != number:
                hint = (
                    "inputs with the same name get the same prefix; rename one"
                    if prefix
                    else "prefix every key with its input's name: --prefix-keys (dings merge), prefix_keys=True (Python)"
                )
                raise DuplicateKeyError(f"key {full!r} is in both {names[first]} and {names[number]}; {hint}")


def _pairs(reader: Reader, prefix: str, source: Path) -> Iterator[tuple[str, Any]]:
    items = reader.iter(start=0, yield_key=True, raw=True, copy=False)
    if not prefix:
        return items
    return (_renamed(source, key, data, prefix + key) for key, data in items)


def _renamed(source: Path, key: str, data: Any, new_key: str) -> tuple[str, bytes]:
    try:
        return new_key, replace_key(data, new_key)
    except InvalidSampleError as exc:  # the input's sample is damaged
        raise DamagedDataError(f"{source}: sample with key {key!r} is damaged: {exc}", path=source, key=key) from None


def _interleave(
    streams: list[Iterator[tuple[str, Any]]], lengths: list[int], rng: np.random.Generator
) -> Iterator[tuple[str, Any]]:
    # a uniformly random interleaving: the same distribution as picking the next input with
    # probability proportional to the samples it has left, drawn at once (4 bytes per sample)
    choices = rng.permutation(np.repeat(np.arange(len(lengths), dtype=np.int32), lengths))
    for first in range(0, len(choices), _BLOCK):
        for number in choices[first : first + _BLOCK].tolist():
            yield next(streams[number])


def merge(
    infiles: Sequence[DatasetSpec],
    outfile: str | os.PathLike,
    strategy: Literal["concat", "random"] = "concat",
    shuffle: bool = False,
    seed: int | None = None,
    *,
    prefix_keys: bool = False,
    overwrite: bool = False,
    progress: bool | None = True,
) -> Path:
    """Merge datasets into one, copying packed samples without decoding them.

    Strategies: ``"concat"`` writes the inputs one after another in the given order;
    ``"random"`` picks the input of each next sample at random, with probability proportional
    to the samples it has left (so every input is spread evenly over the output). With
    ``shuffle`` each input is read in a uniformly random order (:class:`dings.readers.Shuffler`)
    first. The same ``seed`` gives the same output; ``None`` is the fixed default 0.

    Keys must be unique across the inputs: a shared key is an error naming the key and both
    inputs, raised before any output exists. ``prefix_keys`` makes keys unique by prefixing
    each with its input's name and ``/`` (``train.msgpack``'s ``"a"`` becomes ``"train/a"``).

    Args:
        infiles: the datasets to merge (at least one); each a data file, a shard pattern, a
            folder, a manifest or a list of them.
        outfile: the data file to write; written atomically with index and md5 files.
        strategy: ``"concat"`` or ``"random"``.
        shuffle: shuffle each input before merging.
        seed: non-negative int for ``random`` and ``shuffle``; ``None`` for the default 0.
        prefix_keys: prefix every key with ``<input name>/``.
        overwrite: replace an existing ``outfile``; otherwise ``FileExistsError`` (never a prompt).
        progress: show a progress bar.

    Returns:
        The path written.

    Raises:
        ValueError: unknown strategy, no input, or ``outfile`` is an input.
        dings.format.DuplicateKeyError: two inputs share a key (a ``ValueError``).
        FileNotFoundError: an input or its index is missing.
        FileExistsError: ``outfile`` exists and ``overwrite`` is false.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown merge strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    if isinstance(infiles, (str, os.PathLike)):
        raise TypeError("infiles must be a list of datasets, not a single path")
    if not infiles:
        raise ValueError("merge needs at least one input dataset")
    sources = [input_name(p) for p in infiles]
    target = Path(outfile)
    check_outputs([target], [path for spec in infiles for path in input_paths(spec)], overwrite)
    seeds = np.random.SeedSequence(as_seed(seed)).generate_state(len(sources) + 1, dtype=np.uint64).tolist()
    with ExitStack() as stack:
        readers: list[Reader] = [stack.enter_context(open_reader(spec)[0]) for spec in infiles]
        prefixes = [dataset_stem(p) + "/" if prefix_keys else "" for p in sources]
        _check_keys(readers, [str(p) for p in sources], prefixes)
        if shuffle:
            readers = [Shuffler(r, seeds[n + 1] >> 1) for n, r in enumerate(readers)]
        lengths = [len(r) for r in readers]
        streams = [_pairs(r, prefix, p) for r, prefix, p in zip(readers, prefixes, sources)]
        if strategy == "concat":
            items: Iterator[tuple[str, Any]] = (item for stream in streams for item in stream)
        else:
            items = _interleave(streams, lengths, np.random.default_rng(seeds[0]))
        write_raw(items, target, sum(lengths), f"merge → {target.name}", progress)
    return target
