"""``dings import`` in partitions: the same samples as a local import, written by many tasks at once.

The source is cut into partitions on the driver without reading any image: ``partition_size`` files
of a folder or list, a row range of a table, one tar file of WebDataset shards. Each partition is
loaded, checked and written where the engine runs it (see :mod:`dings.tools.partitioned`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from dings.format import (
    PartitionedOutput,
    check_output_not_input,
    fingerprint,
)
from dings.readers import is_url

from .._dataset import as_count, as_seed
from ..partitioned import Engine, PartitionedResult, write_partitioned
from .classes import ClassList
from .core import ImportDataError, ImportResult, Loaded, _check_label, _prepare, image_check_level
from .folder import folder_source
from .listfile import list_source
from .table import table_source
from .webdataset import expand_braces, local_shards, webdataset_source

__all__ = ["PARTITIONED_KINDS", "import_partitioned"]

#: the kinds of source that can be imported in partitions
PARTITIONED_KINDS: tuple[str, ...] = ("folder", "list", "table", "webdataset")


class _Items:
    """A folder or list partition: the payload is the items; ``load`` reads one."""

    def __init__(self, load: Callable[[Any], Loaded]) -> None:
        self.load = load

    def __call__(self, payload: Sequence[Any]) -> tuple[Iterable[Any], Callable[[Any], Loaded]]:
        return payload, self.load


class _TableRows:
    """Rows ``start … stop - 1`` of a table (each task reads the table up to its range)."""

    def __init__(self, path: str, options: dict[str, Any]) -> None:
        self.path = path
        self.options = options

    def __call__(self, payload: tuple[int, int]) -> tuple[Iterable[Any], Callable[[Any], Loaded]]:
        start, stop = payload
        src = table_source(self.path, **self.options)
        return islice(src.items, start, stop), src.load


class _TarGroups:
    """The member groups of one WebDataset tar file."""

    def __init__(self, labels: Any, options: dict[str, Any]) -> None:
        self.labels = labels
        self.options = options

    def __call__(self, payload: Sequence[str]) -> tuple[Iterable[Any], Callable[[Any], Loaded]]:
        src = webdataset_source(list(payload), labels=self.labels, **self.options)
        return src.items, src.load


class _PartitionLoader:
    """``payload → samples`` for one import partition: load, check images and labels, refuse
    duplicate keys inside the partition naming the file (across partitions the commit does)."""

    def __init__(
        self,
        opener: Callable[[Any], tuple[Iterable[Any], Callable[[Any], Loaded]]],
        label_names: list[str] | None,
        check_level: str,
        recompress: int | None,
        max_size: int | None,
    ) -> None:
        self.opener = opener
        self.label_names = label_names
        self.check_level = check_level
        self.recompress = recompress
        self.max_size = max_size

    def __call__(self, payload: Any) -> Iterator[dict]:
        items, load = self.opener(payload)
        prepared = _prepare(load, self.check_level, self.recompress, self.max_size)
        seen: set[Any] = set()
        for item in items:
            origin, sample = prepared(item)
            _check_label(origin, sample, self.label_names)
            key = sample.get("key")
            if key in seen:
                raise ImportDataError(f"{origin}: duplicate key {key!r} (an earlier sample has the same key)")
            seen.add(key)
            yield sample


def _chunks(items: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _check_overlap(source: str, output: str, kind: str, labels: Any, options: dict[str, Any]) -> None:
    """Refuse, also with ``overwrite``, a partitioned output whose files would overwrite the source."""
    if is_url(output):
        return
    target = PartitionedOutput(output)
    stem = str(target.prefix).replace("{", "{{").replace("}", "}}")
    written: list[str | Path] = [f"{stem}-{{}}-{{}}.msgpack", f"{stem}-{{}}.msgpack", target.manifest, target.staging]
    if kind == "webdataset":
        inputs: list[Any] = local_shards(source)
    else:
        inputs = [source]
    if isinstance(labels, (str, os.PathLike)):
        inputs.append(labels)
    root = (options.get("root") or Path(source).parent) if kind in ("list", "table") else None
    check_output_not_input(written, inputs, roots=[root] if root is not None else [])


def _plan(
    source: str, kind: str, partition_size: int, shuffle: bool, seed: int, labels: Any, options: dict[str, Any]
) -> tuple[list[Any], Any, list[str] | None]:
    """Partition payloads, what opens a payload's items (picklable) and the label names."""
    if kind in ("folder", "list"):
        src = (
            folder_source(source, labels=labels, **options)
            if kind == "folder"
            else list_source(source, labels=labels, **options)
        )
        items = list(src.items)
        if shuffle:
            items = [items[int(i)] for i in np.random.default_rng(seed).permutation(len(items))]
        return _chunks(items, partition_size), _Items(src.load), src.label_names
    if shuffle:
        raise ValueError(
            f"--shuffle is not available for a {kind} source with --engine; import without an engine, or shuffle later (dings shuffle)"
        )
    if kind == "table":
        src = table_source(source, labels=labels, **options)
        total = src.total or 0
        ranges = [(start, min(start + partition_size, total)) for start in range(0, total, partition_size)]
        return ranges, _TableRows(source, {"labels": labels, **options}), src.label_names
    if kind == "webdataset":
        shards = [u for pattern in ([source] if isinstance(source, str) else source) for u in expand_braces(pattern)]
        names = ClassList.collect((), labels).names
        return [[url] for url in shards], _TarGroups(labels, options), names
    raise ValueError(
        f"a {kind} source cannot be imported with --engine; choose from {', '.join(PARTITIONED_KINDS)} or import without an engine"
    )


def import_partitioned(
    source: str | os.PathLike,
    output: str | os.PathLike,
    kind: str,
    *,
    engine: Engine = "local",
    partition_size: int = 10_000,
    shard_size: int | None = None,
    labels: Any = None,
    shuffle: bool = False,
    seed: int | None = None,
    recompress: int | None = None,
    max_size: int | None = None,
    check_images: bool | str = True,
    overwrite: bool = False,
    resume: bool = True,
    storage_options: dict[str, Any] | None = None,
    address: str | None = None,
    timeout: float = 3600.0,
    progress: bool | None = False,
    **source_options: Any,
) -> ImportResult:
    """Import a folder, list, table or WebDataset shards as a sharded dataset written in partitions.

    Samples, keys and labels are those of :func:`import_source`; a partition of ``partition_size``
    files (rows; one tar file for WebDataset) becomes shards ``NAME-<partition>-<shard>.msgpack``
    of at most ``shard_size`` samples, and the whole set appears at once with a manifest
    ``NAME.manifest.json``. Running the same import again after an interruption skips the
    partitions already written and verified.

    Args:
        source: the folder, list file, table or tar shards (pattern or URLs).
        output: the output folder or ``NAME.msgpack`` path, or an fsspec URL.
        kind: ``"folder"``, ``"list"``, ``"table"`` or ``"webdataset"``.
        engine: ``"local"`` (this process), ``"ranks"`` (``RANK``/``WORLD_SIZE``) or ``"ray"``.
        partition_size: files or rows per partition (one task each).
        shard_size: most samples per shard (``None``: one shard per partition).
        labels, shuffle, seed, recompress, max_size, check_images, overwrite: as
            :func:`import_samples` (``shuffle`` only for folders and lists).
        resume: skip partitions an earlier run wrote and verified.
        storage_options: fsspec options for a URL output.
        address: the Ray cluster (``engine="ray"``).
        timeout: seconds rank 0 waits for the other ranks (``engine="ranks"``).
        progress: show progress (Ray's progress bars with ``engine="ray"``).
        source_options: the options of the source's importer (``layout``, ``root``, columns …).

    Returns:
        An :class:`ImportResult` (on ranks other than 0: the samples this rank wrote, no paths).

    Raises:
        ImportDataError: a file, row or member cannot be imported (named), or a duplicate key
            inside a partition.
        DuplicateKeyError: a key in two partitions (at the commit; nothing appears).
    """
    partition_size = as_count(partition_size, "partition_size")
    if partition_size < 1:
        raise ValueError(f"partition_size must be at least 1, got {partition_size}")
    _check_overlap(os.fspath(source), os.fspath(output), kind, labels, source_options)
    payloads, opener, label_names = _plan(
        os.fspath(source), kind, partition_size, shuffle, as_seed(seed), labels, source_options
    )
    loader = _PartitionLoader(opener, label_names, image_check_level(check_images), recompress, max_size)
    # what decides a partition's bytes: its items and every option that changes samples or shards
    options = (
        kind,
        os.fspath(source),
        label_names,
        check_images,
        recompress,
        max_size,
        shard_size,
        sorted(source_options.items()),
    )
    prints = [fingerprint((options, payload)) for payload in payloads]
    result: PartitionedResult = write_partitioned(
        payloads,
        loader,
        output,
        engine=engine,
        shard_size=shard_size,
        fingerprints=prints,
        overwrite=overwrite,
        resume=resume,
        storage_options=storage_options,
        address=address,
        timeout=timeout,
        progress=progress,
        label_names=label_names,
    )
    if result.manifest is None:  # a rank other than 0: rank 0 commits
        return ImportResult([], result.samples, label_names)
    paths: list[Any] = result.paths if is_url(os.fspath(output)) else [Path(p) for p in result.paths]
    return ImportResult(paths, result.samples, label_names)
