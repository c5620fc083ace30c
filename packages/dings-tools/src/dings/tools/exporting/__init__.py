"""Export a dataset to WebDataset tar shards, Parquet or an ImageFolder tree, so nobody is locked in."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from .._dataset import DatasetSpec
from .common import ExportError
from .folder import export_folder
from .parquet import export_parquet
from .webdataset import export_webdataset

__all__ = ["EXPORT_FORMATS", "ExportError", "export", "export_folder", "export_parquet", "export_webdataset"]

ExportFormat = Literal["webdataset", "parquet", "folder"]
#: the formats :func:`export` writes
EXPORT_FORMATS: tuple[str, ...] = ("webdataset", "parquet", "folder")


def export(dataset: DatasetSpec, output: str | os.PathLike, to: ExportFormat, **options: Any) -> list[Path]:
    """Export ``dataset`` to ``output`` in the format ``to``; return the files (or folder) written.

    Args:
        dataset: the dataset (``NAME.msgpack``).
        output: a ``.tar`` file (webdataset), a ``.parquet`` file, or a folder.
        to: ``"webdataset"``, ``"parquet"`` or ``"folder"``.
        options: ``overwrite``, ``progress`` and, for webdataset, ``shard_size``; see
            :func:`export_webdataset`, :func:`export_parquet`, :func:`export_folder`.
    """
    if to == "webdataset":
        return export_webdataset(dataset, output, **options)
    if to == "parquet":
        return [export_parquet(dataset, output, **options)]
    if to == "folder":
        return [export_folder(dataset, output, **options)]
    raise ValueError(f"unknown export format {to!r}; choose from {', '.join(EXPORT_FORMATS)}")
