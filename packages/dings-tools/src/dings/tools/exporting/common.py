"""What the exporters share: reading a dataset with its label names, image suffixes, atomic outputs."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dings.format import check_output_not_input, progress_bar
from dings.readers import Reader

from .._dataset import DatasetSpec, input_label_names, input_paths, open_reader, temp_name
from ..render import sniff_image

__all__ = ["ExportError", "commit_paths", "image_suffix", "read_dataset", "replace_folder"]

_SUFFIX = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "BMP": "bmp", "TIFF": "tiff", "WebP": "webp"}


class ExportError(ValueError):
    """A sample cannot be exported to the chosen format; the message names the sample."""


def image_suffix(data: Any) -> str | None:
    """``"jpg"``, ``"png"`` … for encoded image bytes; ``None`` for anything else."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        return None
    found = sniff_image(data)
    return _SUFFIX.get(found.format) if found is not None else None


@contextmanager
def read_dataset(
    dataset: DatasetSpec, desc: str, progress: bool | None
) -> Iterator[tuple[Iterator[dict[str, Any]], list[str] | None, int]]:
    """Yield the dataset's samples (with a progress bar), its label names and its length."""
    reader, owned = open_reader(dataset)
    names = input_label_names(dataset)
    try:
        length = len(reader)
        yield iter(progress_bar(reader, total=length, desc=desc, unit="samples", enabled=progress)), names, length
    finally:
        if owned:
            reader.close()


def check_output(target: Path, overwrite: bool, dataset: Any, written: str | Path | None = None) -> None:
    """Refuse an output that overlaps the dataset's files (always) or exists (unless ``overwrite``).

    Never asks.

    Args:
        target: the output path (file or folder) that must not exist unless ``overwrite``.
        overwrite: replace an existing output.
        dataset: the dataset exported (any spec: every shard is an input; an open reader is not checked).
        written: what is written, when not ``target`` (a shard pattern).

    Raises:
        dings.format.OutputIsInputError: the output is, contains or is inside a file of ``dataset``.
        FileExistsError: ``target`` exists and ``overwrite`` is false.
    """
    if not isinstance(dataset, Reader):
        check_output_not_input([target if written is None else written], input_paths(dataset))
    if target.exists() and not overwrite:
        raise FileExistsError(
            f"{target}: exists; pass overwrite=True (-y/--no-confirm on the command line) to replace it"
        )


def commit_paths(pairs: list[tuple[Path, Path]]) -> None:
    """Rename temporary files into place, all of them, after everything was written."""
    for tmp, final in pairs:
        os.replace(tmp, final)


def replace_folder(temporary: Path, target: Path) -> None:
    """Move a completed folder into place; an old folder of that name is removed only afterwards."""
    old = None
    if target.exists():
        old = temp_name(target, "old")
        os.replace(target, old)
    os.replace(temporary, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
