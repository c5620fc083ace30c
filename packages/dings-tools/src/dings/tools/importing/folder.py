"""Import a folder of images: an ImageFolder tree (``class/xxx.jpg``) or a flat folder."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from .classes import ClassList, Labels, read_class_list
from .core import ImportDataError, ImportResult, Loaded, Source, check_source_output, run_import
from .files import is_selected, read_file, walk_files

__all__ = ["folder_source", "import_folder"]

Layout = Literal["auto", "imagefolder", "flat"]


def folder_source(
    root: str | os.PathLike,
    *,
    layout: Layout = "auto",
    labels: Labels = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> Source:
    """The samples of a folder (see :func:`import_folder`), found and sorted, not yet read."""
    folder = Path(root)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a folder; import a folder of images (or pass --from)")
    if layout not in ("auto", "imagefolder", "flat"):
        raise ValueError(f"layout must be 'auto', 'imagefolder' or 'flat', got {layout!r}")
    found = sorted(walk_files(folder, lambda relative: is_selected(relative, include, exclude)))
    if not found:
        raise ImportDataError(
            f"{folder}: no files to import (by default images: .jpg .png …; choose others with --include)"
        )
    nested = all(len(parts) > 1 for parts in found)
    if layout == "imagefolder" and not nested:
        loose = next(parts for parts in found if len(parts) == 1)
        raise ImportDataError(
            f"{folder / loose[0]}: a file outside the class folders; an ImageFolder tree has only class/xxx files"
        )
    classes = None
    if layout == "imagefolder" or (layout == "auto" and nested):
        # every class folder counts, also an empty one (as in torchvision's ImageFolder)
        folders = sorted(e.name for e in os.scandir(folder) if e.is_dir() and not e.name.startswith("."))
        classes = ClassList(read_class_list(labels) if labels is not None else folders)
    items = [(parts, classes.label(parts[0], str(folder.joinpath(*parts))) if classes else None) for parts in found]

    def load(item: tuple[tuple[str, ...], int | None]) -> Loaded:
        parts, label = item
        path = folder.joinpath(*parts)
        sample: dict[str, Any] = {"key": "/".join(parts), "image": read_file(path)}
        if label is not None:
            sample["label"] = label
        return str(path), sample

    return Source(items, load, folder.name or str(folder), len(items), classes.names if classes else None)


def import_folder(
    root: str | os.PathLike,
    output: str | os.PathLike,
    *,
    layout: Layout = "auto",
    labels: Labels = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    **options: Any,
) -> ImportResult:
    """Import a folder of images as a dataset of ``{"key", "image", "label"}`` samples.

    An ImageFolder tree (every file inside a class folder: ``root/cat/1.jpg``) gets labels from
    the class folder names in sorted order (as torchvision's ``ImageFolder``), recorded as label
    names; a flat folder (files directly in ``root``, or at mixed depths) gets no labels. Keys are
    the paths below ``root`` (``"cat/1.jpg"``); images are stored as their file bytes. Hidden files
    and folders are skipped; only regular files are imported (links to them are followed).

    Args:
        root: the folder.
        output: the dataset to write (``NAME.msgpack``; with ``shard_size`` the shards
            ``NAME-00000.msgpack`` …).
        layout: ``"auto"`` (ImageFolder when every file is in a subfolder), ``"imagefolder"`` or
            ``"flat"``.
        labels: the class list (a file with one name a line, or the names) instead of the
            sorted folder names; a class folder missing from it is an error.
        include: globs of the paths to import (default: image files by suffix); ``*`` matches
            ``/``, e.g. ``"*.jpg"``.
        exclude: globs of paths to skip.
        options: ``shuffle``, ``seed``, ``threads``, ``shard_size``, ``recompress``,
            ``max_size``, ``check_images``, ``overwrite``, ``progress``; see
            :func:`import_samples`.

    Returns:
        An :class:`ImportResult`.

    Raises:
        NotADirectoryError: ``root`` is not a folder.
        ImportDataError: no files, an unreadable image, a selected file that is not a regular
            file (a FIFO, device, socket or a link to one), or a class folder outside ``labels``;
            the message names the file.
        FileExistsError: the output exists and ``overwrite`` is false.
    """
    check_source_output(output, options.get("shard_size"), [root], labels=labels)
    return run_import(
        folder_source(root, layout=layout, labels=labels, include=include, exclude=exclude), output, **options
    )
