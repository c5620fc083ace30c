"""``dings import`` in partitions: the same samples as a local import, written by many tasks at once.

The source is cut into partitions on the driver without reading any image: ``partition_size`` files
of a folder or list, a row range of a table, one tar file of WebDataset shards. Each partition is
loaded, checked and written where the engine runs it (see :mod:`dings.tools.partitioned`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from dings.format import (
    PartitionedOutput,
    check_output_not_input,
    fingerprint,
)
from dings.readers import is_url

from .._dataset import as_count, as_seed
from ..partitioned import Engine, PartitionedResult, write_partitioned
from .core import ImportDataError, ImportResult, Loaded, check_label, image_check_level, prepare_load
from .kinds import SourceKind, detect_source, get_source_kind, source_kinds

__all__ = ["import_partitioned"]


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
        prepared = prepare_load(load, self.check_level, self.recompress, self.max_size)
        seen: set[Any] = set()
        for item in items:
            origin, sample = prepared(item)
            check_label(origin, sample, self.label_names)
            key = sample.get("key")
            if key in seen:
                raise ImportDataError(f"{origin}: duplicate key {key!r} (an earlier sample has the same key)")
            seen.add(key)
            yield sample


def _check_overlap(source: str, output: str, kind: SourceKind, labels: Any, options: dict[str, Any]) -> None:
    """Refuse, also with ``overwrite``, a partitioned output whose files would overwrite the source."""
    if is_url(output):
        return
    target = PartitionedOutput(output)
    stem = str(target.prefix).replace("{", "{{").replace("}", "}}")
    written: list[str | Path] = [f"{stem}-{{}}-{{}}.msgpack", f"{stem}-{{}}.msgpack", target.manifest, target.staging]
    inputs, roots = kind.read_paths(source, options)
    inputs = [p for p in inputs if not is_url(os.fspath(p))]
    if isinstance(labels, (str, os.PathLike)):
        inputs.append(labels)
    check_output_not_input(written, inputs, roots=[r for r in roots if r is not None])


def import_partitioned(
    source: str | os.PathLike,
    output: str | os.PathLike,
    kind: str | None = None,
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
        kind: the name of a source kind that can partition (``"folder"``, ``"list"``, ``"table"``,
            ``"webdataset"`` …; see :func:`source_kinds`); default: detected.
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
    text = os.fspath(source)
    kind_ = get_source_kind(kind or detect_source(text))
    if kind_.partition is None:
        can = ", ".join(k.name for k in source_kinds() if k.partition is not None)
        raise ValueError(
            f"a {kind_.name} source cannot be imported with --engine; choose from {can} or import without an engine"
        )
    _check_overlap(text, os.fspath(output), kind_, labels, source_options)
    plan = kind_.partition(
        kind_, text, partition_size, shuffle=shuffle, seed=as_seed(seed), labels=labels, options=source_options
    )
    payloads, label_names = plan.payloads, plan.label_names
    loader = _PartitionLoader(plan.opener, label_names, image_check_level(check_images), recompress, max_size)
    # what decides a partition's bytes: its items and every option that changes samples or shards
    options = (
        kind_.name,
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
