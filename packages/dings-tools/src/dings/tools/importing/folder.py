"""Import a folder of images: an ImageFolder tree (``class/xxx.jpg``) or a flat folder."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from dings.format import parse_json

from .classes import ClassList, Labels, read_class_list
from .core import ImportDataError, ImportResult, Loaded, Source, check_source_output, run_import
from .files import is_selected, read_file, walk_files
from .kinds import SourceKind, SourceOption, partition_items, register_source_kind

__all__ = ["CLASS_FILE", "folder_source", "import_folder", "read_class_file"]

Layout = Literal["auto", "imagefolder", "flat"]
#: the class file of a folder, written by :func:`dings.tools.export_folder`:
#: ``{"label_names": [names in label order] or null, "keys": {path: key}}``
CLASS_FILE = "labels.json"
#: the largest class file read (its key map may list millions of files)
MAX_CLASS_FILE_SIZE = 1 << 30


def read_class_file(folder: Path) -> tuple[list[str] | None, dict[str, str]] | None:
    """The label names and the path → key map of ``folder``'s class file; ``None`` without one.

    A ``labels.json`` that is a JSON object without ``"label_names"`` belongs to someone else
    and is ignored.

    Raises:
        ImportDataError: the file is larger than :data:`MAX_CLASS_FILE_SIZE` or not JSON, or its
            ``label_names`` is not a list of distinct names (or null) or its ``keys`` not an
            object of str; the message names the file.
    """
    path = folder / CLASS_FILE
    if not path.is_file():
        return None
    if path.stat().st_size > MAX_CLASS_FILE_SIZE:
        raise ImportDataError(
            f"{path}: {path.stat().st_size} bytes, more than a class file takes ({MAX_CLASS_FILE_SIZE}); "
            "the file is damaged: remove it to import the folder"
        )
    stored = parse_json(read_file(path), str(path), ImportDataError)
    if not isinstance(stored, dict) or "label_names" not in stored:
        return None
    names, keys = stored["label_names"], stored.get("keys", {})
    if not (
        (names is None or (isinstance(names, list) and all(isinstance(n, str) for n in names)))
        and isinstance(keys, dict)
        and all(isinstance(k, str) for k in keys.values())
    ):
        raise ImportDataError(
            f'{path}: not a class file ({{"label_names": [names…] or null, "keys": {{path: key}}}}); '
            "fix or remove it to import the folder"
        )
    try:
        return read_class_list(names), keys
    except ValueError as exc:
        raise ImportDataError(f"{path}: {exc}") from None


def _is_label_number(name: str) -> bool:
    return name.isdigit() or (name[:1] == "-" and name[1:].isdigit())


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
    stored = read_class_file(folder)

    def selected(relative: str) -> bool:  # the class file is never a sample
        return not (stored is not None and relative == CLASS_FILE) and is_selected(relative, include, exclude)

    found = sorted(walk_files(folder, selected))
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
        if labels is not None:
            classes = ClassList(read_class_list(labels))
        elif stored is not None and (stored[0] is not None or all(_is_label_number(f) for f in folders)):
            classes = ClassList(stored[0])  # the export's names, or its label numbers without names
        else:
            classes = ClassList(folders)
    items = [(parts, classes.label(parts[0], str(folder.joinpath(*parts))) if classes else None) for parts in found]
    keys = stored[1] if stored is not None else {}

    def load(item: tuple[tuple[str, ...], int | None]) -> Loaded:
        parts, label = item
        path = folder.joinpath(*parts)
        relative = "/".join(parts)
        sample: dict[str, Any] = {"key": keys.get(relative, relative), "image": read_file(path)}
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
    the paths below ``root`` (``"cat/1.jpg"``); images are stored as their file bytes. A class
    file ``root/labels.json`` (written by :func:`dings.tools.export_folder`) gives the label
    names in label order and the keys of files whose path is not their key, so an export comes
    back with the same keys, labels and names; it is not imported itself. Hidden files
    and folders are skipped; only regular files are imported (links to them are followed).

    Args:
        root: the folder.
        output: the dataset to write (``NAME.msgpack``; with ``shard_size`` the shards
            ``NAME-00000.msgpack`` …).
        layout: ``"auto"`` (ImageFolder when every file is in a subfolder), ``"imagefolder"`` or
            ``"flat"``.
        labels: the class list (a file with one name a line, or the names) instead of the
            class file's names or the sorted folder names; a class folder missing from it is
            an error.
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
            file (a FIFO, device, socket or a link to one), a class folder outside ``labels``
            or the class file's names, or a damaged class file; the message names the file.
        FileExistsError: the output exists and ``overwrite`` is false.
    """
    check_source_output(output, options.get("shard_size"), [root], labels=labels)
    return run_import(
        folder_source(root, layout=layout, labels=labels, include=include, exclude=exclude), output, **options
    )


FOLDER = register_source_kind(
    SourceKind(
        "folder",
        detect=os.path.isdir,
        source=folder_source,
        importer=import_folder,
        partition=partition_items,
        fallback=True,
        options=(
            SourceOption(
                "--layout",
                "layout",
                "class folders or a flat folder (default: auto)",
                choices=("auto", "imagefolder", "flat"),
                default="auto",
            ),
            SourceOption(
                "--include",
                "include",
                "import only paths matching (repeatable; default: image files)",
                metavar="GLOB",
                repeat=True,
            ),
            SourceOption("--exclude", "exclude", "skip paths matching (repeatable)", metavar="GLOB", repeat=True),
        ),
    )
)
