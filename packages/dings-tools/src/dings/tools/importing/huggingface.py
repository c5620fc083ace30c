"""Import a Hugging Face dataset: a ``save_to_disk`` folder or a ``load_dataset`` name in the local cache."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..extras import require
from .classes import ClassList, Labels
from .core import ImportDataError, ImportResult, Source, check_source_output, run_import
from .files import FileRoot
from .kinds import IMAGE_COLUMN, KEY_COLUMN, LABEL_COLUMN, SourceKind, SourceOption, register_source_kind
from .table import table_samples

__all__ = ["huggingface_source", "import_huggingface", "is_saved_dataset"]


def is_saved_dataset(folder: Path) -> bool:
    """True for a folder written by ``Dataset.save_to_disk`` or ``DatasetDict.save_to_disk``."""
    return (folder / "dataset_info.json").is_file() or (folder / "dataset_dict.json").is_file()


def _load(source: str | os.PathLike, split: str | None, name: str | None) -> Any:
    """A ``datasets.Dataset`` from a saved folder or the local cache (never the network)."""
    datasets = require("datasets", "huggingface", "importing a Hugging Face dataset")
    folder = Path(source)
    if is_saved_dataset(folder):
        loaded = datasets.load_from_disk(os.fspath(source))
    else:
        saved = {flag: getattr(datasets.config, flag, None) for flag in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE")}
        try:
            for flag in saved:  # the local cache only: never the network
                setattr(datasets.config, flag, True)
            loaded = datasets.load_dataset(os.fspath(source), name, split=split)
        except (FileNotFoundError, ConnectionError, ValueError) as exc:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ImportDataError(
                f"{source}: not a save_to_disk folder, nor a dataset in the local Hugging Face cache ({text})"
            ) from None
        finally:
            for flag, value in saved.items():
                setattr(datasets.config, flag, value)
    if isinstance(loaded, datasets.DatasetDict):
        if split is None:
            raise ImportDataError(f"{source}: has splits {', '.join(loaded)}; choose one with --split")
        if split not in loaded:
            raise ImportDataError(f"{source}: has no split {split!r} (splits: {', '.join(loaded)})")
        loaded = loaded[split]
    return loaded


def huggingface_source(
    source: str | os.PathLike,
    *,
    split: str | None = None,
    name: str | None = None,
    image_column: str | None = None,
    label_column: str | None = "label",
    key_column: str | None = None,
    labels: Labels = None,
    batch_size: int = 1024,
) -> Source:
    """The rows of a Hugging Face dataset (see :func:`import_huggingface`), read in Arrow batches."""
    datasets = require("datasets", "huggingface", "importing a Hugging Face dataset")
    dataset = _load(source, split, name)
    features = dataset.features
    images = [column for column, feature in features.items() if isinstance(feature, datasets.Image)]
    for column in images:  # the encoded bytes, never decoded pixels
        dataset = dataset.cast_column(column, datasets.Image(decode=False))
    if image_column is None and images:
        image_column = "image" if "image" in images else images[0]
    names = None
    if label_column is not None and isinstance(features.get(label_column), datasets.ClassLabel):
        names = list(features[label_column].names)
    classes = ClassList.collect((), labels) if labels is not None or names is None else ClassList(names)
    table = dataset.with_format("arrow")
    schema = dataset.data.schema
    batches = (table[start : start + batch_size].to_batches() for start in range(0, len(dataset), batch_size))
    where = os.fspath(source) + (f" [{split}]" if split else "")
    items, load, reads_files = table_samples(
        schema,
        (b for group in batches for b in group),
        where,
        files=FileRoot(Path(os.fspath(source)), confined=False),
        image_column=image_column,
        label_column=label_column,
        key_column=key_column,
        classes=classes,
        total=len(dataset),
    )
    return Source(items, load, Path(os.fspath(source)).name or where, len(dataset), classes.names, reads_files)


def import_huggingface(
    source: str | os.PathLike,
    output: str | os.PathLike,
    *,
    split: str | None = None,
    name: str | None = None,
    image_column: str | None = None,
    label_column: str | None = "label",
    key_column: str | None = None,
    labels: Labels = None,
    **options: Any,
) -> ImportResult:
    """Import a Hugging Face dataset (needs the extra ``huggingface``, i.e. the ``datasets`` package).

    ``source`` is a folder written by ``Dataset.save_to_disk``/``DatasetDict.save_to_disk``, or a
    name that ``datasets.load_dataset`` finds in the local cache (offline: nothing is downloaded).
    ``Image`` features become encoded image bytes (never decoded), a ``ClassLabel`` becomes an int
    ``label`` with its names recorded (``-1``, "no label", leaves the label out), other columns are
    converted as in :func:`import_table`. Keys are the key column (default ``key``), else row numbers.

    Args:
        source: the saved folder or the dataset name.
        output: the dataset to write.
        split: the split of a ``DatasetDict`` (required when there are several).
        name: the configuration name for ``load_dataset``.
        image_column: the image column (default: an ``Image`` feature, ``image`` first).
        label_column: the label column (``None``: no labels).
        key_column: a column of unique keys.
        labels: a class list to use instead of the ``ClassLabel`` names.
        options: see :func:`import_samples`.

    Raises:
        MissingExtraError: ``datasets`` is not installed.
        ImportDataError: the dataset is not found locally, a split is missing, or a row cannot be
            imported; the message names the row.
    """
    check_source_output(
        output, options.get("shard_size"), [source] if os.path.isdir(os.fspath(source)) else [], labels=labels
    )
    source_ = huggingface_source(
        source,
        split=split,
        name=name,
        image_column=image_column,
        label_column=label_column,
        key_column=key_column,
        labels=labels,
    )
    return run_import(source_, output, **options)


HUGGINGFACE = register_source_kind(
    SourceKind(
        "huggingface",
        detect=lambda text: os.path.isdir(text) and is_saved_dataset(Path(text)),
        source=huggingface_source,
        importer=import_huggingface,
        inputs=lambda source, options: ([source] if os.path.isdir(source) else [], []),
        names=True,
        options=(
            SourceOption("--split", "split", "the split to import"),
            SourceOption("--config", "name", "the configuration name for load_dataset"),
            IMAGE_COLUMN,
            LABEL_COLUMN,
            KEY_COLUMN,
        ),
    )
)
