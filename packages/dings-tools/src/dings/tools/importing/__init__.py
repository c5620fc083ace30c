"""Import your own data: folders, list files, tables, WebDataset shards, Hugging Face datasets.

Every import writes the layout of the dataset converters — ``key``, ``image`` (the encoded bytes),
``label`` (int), other fields as they are — and records label names in ``NAME.msgpack.labels.json``
(see :func:`dings.format.load_label_names`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .classes import read_class_list
from .core import ImportDataError, ImportResult, Source, check_source_output, run_import
from .kinds import (
    Partitions,
    SourceKind,
    SourceOption,
    detect_source,
    get_source_kind,
    register_source_kind,
    source_kinds,
    unregister_source_kind,
)

# the built-in kinds: each module registers its kind, in this order (that of --from's choices)
# isort: off
from .folder import import_folder
from .listfile import import_list
from .table import import_table
from .webdataset import import_webdataset
from .huggingface import import_huggingface
from .dings import import_dings

# isort: on
from .partitioned import import_partitioned

__all__ = [
    "ImportDataError",
    "ImportResult",
    "Partitions",
    "Source",
    "SourceKind",
    "SourceOption",
    "detect_source",
    "get_source_kind",
    "import_dings",
    "import_folder",
    "import_huggingface",
    "import_list",
    "import_partitioned",
    "import_samples",
    "import_source",
    "import_table",
    "import_webdataset",
    "register_source_kind",
    "source_kinds",
    "unregister_source_kind",
]


def import_source(
    source: str | os.PathLike, output: str | os.PathLike, kind: str | None = None, **options: Any
) -> ImportResult:
    """Import ``source`` with its registered :class:`SourceKind` (detected by :func:`detect_source`
    when omitted).

    Args:
        source: folder, list file, table, shard pattern or URL, saved HF dataset or HF name …
        output: the dataset to write.
        kind: the name of a registered kind (``"folder"``, ``"list"``, ``"table"``,
            ``"webdataset"``, ``"huggingface"``, ``"dings"`` or one registered later).
        options: the keyword arguments of that kind's importer and of :func:`import_samples`.

    Raises:
        ValueError: an unknown ``kind``; the message lists the registered ones.
    """
    return get_source_kind(kind or detect_source(source)).import_(source, output, **options)


def import_samples(
    samples: Iterable[Mapping[str, Any]],
    output: str | os.PathLike,
    *,
    label_names: str | os.PathLike | Sequence[str] | None = None,
    shuffle: bool = False,
    seed: int | None = None,
    threads: int = 1,
    shard_size: int | None = None,
    recompress: int | None = None,
    max_size: int | None = None,
    check_images: bool | str = True,
    overwrite: bool = False,
    progress: bool | None = True,
) -> ImportResult:
    """Write samples from any Python iterable as a dataset, like the importers do.

    Samples are dicts with a unique str ``"key"``; an ``"image"`` must be encoded image bytes
    (decoded in full to check it, see ``check_images``), a ``"label"`` an int inside the class
    list when ``label_names`` is given. The output is written atomically and is byte-identical for
    every ``threads`` count.

    Args:
        samples: the samples (a list, a generator …).
        output: ``NAME.msgpack``; with ``shard_size`` the shards ``NAME-00000.msgpack`` ….
        label_names: names of the int labels (or a file with one a line); recorded in
            ``NAME.msgpack.labels.json``.
        shuffle: write in a random order (a list in memory; any other iterable through a
            temporary dataset next to the output).
        seed: the shuffle's seed (``None``: 0).
        threads: threads reading files and recompressing images (sources already in memory, like
            tables of bytes and tar shards, convert on one thread unless recompressing); 0 = all CPUs.
        shard_size: samples per shard; ``None`` writes one file.
        recompress: re-encode images as JPEG of this quality (1-100); ``None`` keeps the bytes.
        max_size: with ``recompress``, shrink images to at most this many pixels a side.
        check_images: how far each ``image`` is checked: ``"decode"`` (``True``, the default)
            decodes it fully with Pillow in the ``threads`` and refuses a damaged or truncated
            file; ``"header"`` only refuses bytes that are not a JPEG, PNG, GIF, BMP, TIFF or WebP
            file (``True`` without Pillow); ``"none"`` (``False``) checks nothing.
        overwrite: replace an existing output; otherwise ``FileExistsError``.
        progress: show a progress bar.

    Returns:
        An :class:`ImportResult` (files written, sample count, label names).

    Raises:
        ImportDataError: an unreadable image, a duplicate key, a label outside the class list or
            a value the format cannot hold; the message names the sample.
        FileExistsError: the output exists and ``overwrite`` is false.
    """
    check_source_output(output, shard_size, [], labels=label_names)
    names = read_class_list(label_names)
    items: Iterable[Any] = samples if isinstance(samples, Sequence) else iter(samples)

    def load(sample: Mapping[str, Any]) -> tuple[str, dict]:
        if not isinstance(sample, Mapping):
            raise ImportDataError(f"a sample is a {type(sample).__name__}, not a dict")
        return f"sample {sample.get('key')!r}", dict(sample)

    total = len(samples) if isinstance(samples, Sequence) else None
    return run_import(
        Source(items, load, Path(output).name, total, names, reads_files=False),
        output,
        shuffle=shuffle,
        seed=seed,
        threads=threads,
        shard_size=shard_size,
        recompress=recompress,
        max_size=max_size,
        check_images=check_images,
        overwrite=overwrite,
        progress=progress,
    )
