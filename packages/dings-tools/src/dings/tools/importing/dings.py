"""Import a dings dataset (any spec: a file, a shard set, a partitioned folder, a manifest, a URL),
e.g. to write it again in shards of another size, shuffled or with recompressed images."""

from __future__ import annotations

import os
from typing import Any

from dings.readers import open_dataset, resolve_dataset

from .._dataset import DatasetSpec, input_paths
from .classes import Labels, read_class_list
from .core import ImportResult, Loaded, Source, check_source_output, run_import
from .files import IMAGE_SUFFIXES
from .kinds import SourceKind, register_source_kind

__all__ = ["import_dings", "is_dings_source"]

_DATA_SUFFIX = ".msgpack"
_MANIFEST_SUFFIX = ".manifest.json"


def is_dings_source(text: str) -> bool:
    """Whether ``text`` names a dings dataset: a data file, manifest, or a folder holding a manifest,
    or ``.msgpack`` files and neither images nor subfolders (that is an image folder)."""
    if text.endswith((_DATA_SUFFIX, _MANIFEST_SUFFIX)):
        return True
    if os.path.isdir(text):  # a manifest; or shards and nothing an image folder would hold
        with os.scandir(text) as entries:
            names = [(entry.name.lower(), entry.is_dir()) for entry in entries]
        if any(name.endswith(_MANIFEST_SUFFIX) for name, _ in names):
            return True
        images = any(is_dir or name.endswith(IMAGE_SUFFIXES) for name, is_dir in names)
        return not images and any(name.endswith(_DATA_SUFFIX) for name, _ in names)
    return False


def import_dings(
    source: DatasetSpec, output: str | os.PathLike, *, labels: Labels = None, **options: Any
) -> ImportResult:
    """Import a dings dataset: every sample as it is, its label names with it.

    Args:
        source: a data file, a shard pattern, a folder of shards or a partitioned set, a manifest,
            a URL of one, or a list of them (see :func:`dings.readers.resolve_dataset`).
        output: the dataset to write.
        labels: the class list (a file with one name a line, or the names); default: the
            source's label names.
        options: see :func:`import_samples` (``shard_size``, ``shuffle``, ``recompress``, …).

    Raises:
        FileNotFoundError: ``source`` names no dataset.
        dings.format.OutputIsInputError: the output overlaps a file of the source.
    """
    check_source_output(output, options.get("shard_size"), input_paths(source), labels=labels)
    resolved = resolve_dataset(source)
    names = read_class_list(labels) if labels is not None else resolved.label_names()
    reader = open_dataset(resolved)
    try:

        def load(index: int) -> Loaded:
            return f"{resolved.spec}: sample {index}", reader.get(index)

        items = range(len(reader))
        return run_import(Source(items, load, resolved.spec, len(items), names, reads_files=False), output, **options)
    finally:
        reader.close()


DINGS = register_source_kind(
    SourceKind(
        "dings",
        detect=lambda text: (
            is_dings_source(text) or (("*" in text or "{" in text) and text.lower().endswith(".msgpack"))
        ),
        importer=import_dings,
        inputs=lambda source, options: (input_paths(source), []),
    )
)
