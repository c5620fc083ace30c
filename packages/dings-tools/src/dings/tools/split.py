"""``split`` a dataset at positions into several files, and ``sample`` a subset of it."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from dings.format import RawWriter, close_together, progress_bar

from ._dataset import (
    DatasetSpec,
    as_count,
    as_seed,
    check_outputs,
    dataset_stem,
    input_label_names,
    input_name,
    input_paths,
    open_raw_writer,
    open_reader,
    write_raw,
)

__all__ = ["default_split_names", "sample", "split", "split_position"]

SAMPLE_STRATEGIES = ("sequential", "random")


def default_split_names(infile: DatasetSpec, count: int) -> list[Path]:
    """Output names for ``count`` parts of ``infile``: ``dir/train.msgpack`` → ``dir/train_0.msgpack``, …

    A set of shards is named after its shards without their numbers: ``out/train-*.msgpack`` gives
    ``out/train_0.msgpack``, …, the partitioned folder ``out/train/`` ``out/train/train_0.msgpack``, ….

    Args:
        infile: the dataset that is split (any spec).
        count: number of parts.
    """
    source = input_name(infile)
    stem = dataset_stem(source)
    return [source.with_name(f"{stem}_{number}.msgpack") for number in range(count)]


def split_position(value: int | float | str, length: int) -> int:
    """Turn one split point into a sample index of a dataset with ``length`` samples.

    Args:
        value: a sample index (int, or a string of digits), a fraction of the dataset strictly
            between 0 and 1 (float, or a string such as ``"0.8"``) or a percentage (``"80%"``);
            fractions and percentages are rounded to the nearest sample.
        length: samples in the dataset.

    Raises:
        TypeError: ``value`` is none of these (a float not strictly between 0 and 1 included).
        ValueError: a percentage is not strictly between 0 and 100.
    """
    if isinstance(value, str):
        text = value.strip()
        try:
            if text.endswith("%"):
                percent = float(text[:-1])
                if not 0 < percent < 100:
                    raise ValueError(f"a split percentage must be between 0% and 100% (exclusive), got {value!r}")
                return round(percent / 100 * length)
            value = int(text) if text.lstrip("+-").isdigit() else float(text)
        except ValueError as exc:
            if "split percentage" in str(exc):
                raise
            raise TypeError(
                f"a split point is a sample index, a fraction or a percentage (800, 0.8, 80%), got {value!r}"
            ) from None
    if isinstance(value, float):
        if not 0 < value < 1:
            raise TypeError(
                f"a split point is an integer sample index or a fraction between 0 and 1 (exclusive), got {value!r}"
            )
        return round(value * length)
    return as_count(value, "every split position")


def _check_positions(positions: Iterable[int | float | str], length: int, source: Path) -> list[int]:
    if isinstance(positions, (str, bytes)) or not isinstance(positions, Iterable):
        raise TypeError(f"positions must be a list of integers, fractions or percentages, got {positions!r}")
    values = [split_position(p, length) for p in positions]
    if not values:
        raise ValueError("give at least one split position (N positions give N+1 files)")
    for before, after in zip(values, values[1:]):
        if after <= before:
            raise ValueError(f"split positions must increase strictly, got {values}; sort them and drop repeats")
    for value in values:
        if not 0 < value < length:
            raise ValueError(
                f"split position {value} is out of range for {source} with {length} samples; "
                f"positions must be between 1 and {length - 1} so that no part is empty"
            )
    return values


def split(
    infile: DatasetSpec,
    positions: Iterable[int | float | str],
    outfiles: Sequence[str | os.PathLike] | None = None,
    *,
    overwrite: bool = False,
    progress: bool | None = True,
) -> list[Path]:
    """Split a dataset at ``positions`` into ``len(positions) + 1`` datasets, copying packed samples.

    Positions ``A < B`` give three files: samples ``0 … A-1``, ``A … B-1`` and ``B …`` to the
    end. Every part is non-empty, so positions lie between 1 and ``len - 1``. All parts are
    committed as one (see :mod:`dings.format.commit`): they appear together or not at all, also
    when the process is killed (an error discards every part written so far).

    Args:
        infile: the dataset to split: a data file (``NAME.msgpack`` or any of its index files), a
            shard pattern, a folder, a manifest or a list of them.
        positions: strictly increasing points where a new part starts: sample indices (integers),
            fractions of the dataset (``0.8``) or percentages (``"80%"``), see :func:`split_position`;
            ``[0.8]`` splits 80/20 like ``train_test_split``, ``[0.8, 0.9]`` 80/10/10.
        outfiles: ``len(positions) + 1`` data files to write; by default ``NAME_0.msgpack``,
            ``NAME_1.msgpack``, … next to ``infile`` (see :func:`default_split_names`).
        overwrite: replace existing outputs; otherwise ``FileExistsError`` before anything is
            written (never a prompt).
        progress: show a progress bar.

    Returns:
        The paths written, in order.

    Raises:
        TypeError: a position is not an integer, fraction or percentage.
        ValueError: positions are not strictly increasing or out of range, the number of
            ``outfiles`` is wrong, or an output is an input or repeats.
        FileNotFoundError: ``infile`` or its index is missing.
        FileExistsError: an output exists and ``overwrite`` is false.
    """
    source = input_name(infile)
    reader, _ = open_reader(infile)
    with reader:
        length = len(reader)
        bounds = [0, *_check_positions(positions, length, source), length]
        parts = len(bounds) - 1
        if outfiles is None:
            targets = default_split_names(infile, parts)
        else:
            if isinstance(outfiles, (str, os.PathLike)):
                raise TypeError("outfiles must be a list of paths, not a single path")
            targets = [Path(p) for p in outfiles]
            if len(targets) != parts:
                raise ValueError(
                    f"{parts - 1} split positions give {parts} parts, but {len(targets)} outfiles were given"
                )
        check_outputs(targets, input_paths(infile), overwrite)
        names = input_label_names(infile)
        writers: list[RawWriter] = []
        try:
            with progress_bar(total=length, desc=f"split {source.name}", unit="samples", enabled=progress) as bar:
                for target, start, stop in zip(targets, bounds, bounds[1:]):
                    writer = open_raw_writer(target, stop - start, names)
                    writers.append(writer)
                    for key, data in reader.iter(start=start, stop=stop, yield_key=True, raw=True, copy=False):
                        writer.write(key, data)
                        bar.update()
        except BaseException:
            for writer in writers:
                writer.abort()
            raise
        close_together(writers)  # one commit: all parts appear, or none (label names included)
    return targets


def sample(
    infile: DatasetSpec,
    outfile: str | os.PathLike,
    number: int,
    strategy: Literal["sequential", "random"] = "sequential",
    seed: int | None = None,
    *,
    overwrite: bool = False,
    progress: bool | None = True,
) -> Path:
    """Write ``number`` samples of a dataset to a new dataset, copying packed samples.

    ``"sequential"`` takes the first ``number`` samples; ``"random"`` a uniformly random subset
    of ``number`` samples, kept in their input order (shuffle the result for a random order).
    The same ``seed`` gives the same subset; ``None`` is the fixed default 0.

    Args:
        infile: the dataset to sample from (any spec: a file, shard pattern, folder, manifest, list).
        outfile: the data file to write; written atomically with index and md5 files.
        number: how many samples, from 1 to the dataset's length.
        strategy: ``"sequential"`` or ``"random"``.
        seed: non-negative int for ``"random"``; ``None`` for the default.
        overwrite: replace an existing ``outfile``; otherwise ``FileExistsError`` (never a prompt).
        progress: show a progress bar.

    Returns:
        The path written.

    Raises:
        TypeError: ``number`` is not an integer.
        ValueError: unknown strategy, ``number`` is below 1 or more than the dataset holds, or
            ``outfile`` is ``infile``.
        FileNotFoundError: ``infile`` or its index is missing.
        FileExistsError: ``outfile`` exists and ``overwrite`` is false.
    """
    if strategy not in SAMPLE_STRATEGIES:
        raise ValueError(f"unknown sampling strategy {strategy!r}; use one of {', '.join(SAMPLE_STRATEGIES)}")
    count = as_count(number, "number")
    source = input_name(infile)
    target = Path(outfile)
    reader, _ = open_reader(infile)
    with reader:
        length = len(reader)
        if count < 1:
            raise ValueError(f"number must be at least 1, got {count}")
        if count > length:
            raise ValueError(f"cannot take {count} samples from {source}, which has only {length}")
        check_outputs([target], input_paths(infile), overwrite)
        if strategy == "sequential":
            items = reader.iter(start=0, stop=count, yield_key=True, raw=True, copy=False)
        else:
            rng = np.random.default_rng(as_seed(seed))
            chosen = np.sort(rng.choice(length, size=count, replace=False)).tolist()
            items = (reader.get(i, yield_key=True, raw=True, copy=False) for i in chosen)
        write_raw(items, target, count, f"sample {source.name}", progress, input_label_names(infile))
    return target
