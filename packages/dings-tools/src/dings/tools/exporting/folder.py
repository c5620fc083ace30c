"""Export a dataset's images as an ImageFolder tree (``class/key.jpg``) or a flat folder."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from .._dataset import DatasetSpec, temp_name
from ..importing.files import IMAGE_SUFFIXES
from ..importing.folder import CLASS_FILE
from .common import ExportError, check_output, image_suffix, read_dataset, replace_folder

__all__ = ["export_folder"]


def _parts(text: str, where: str) -> list[str]:
    parts = text.split("/")
    if any(part in ("", ".", "..") or "\\" in part or "\0" in part for part in parts):
        raise ExportError(f"{where}: {text!r} is not a safe relative path (empty, '.', '..' or '\\\\' parts)")
    return parts


def _check_key(key: str, where: str) -> None:
    """Refuse a key that folder import would not read back: empty, hidden (``.…``), ``..``,
    backslash or NUL parts (``"."`` would become the hidden file ``..png``)."""
    for part in key.split("/"):
        if not part or part.startswith(".") or "\\" in part or "\0" in part:
            raise ExportError(
                f"{where}: the key {key!r} is not a safe relative path that folder import reads back "
                "(it has an empty or hidden '.' part, a backslash or a NUL); rename the key, or "
                "export --to webdataset, which keeps any key"
            )


def _class_folder(name: str) -> str:
    parts = _parts(name, f"label name {name!r}")
    if len(parts) != 1:
        raise ExportError(f"label name {name!r} has a '/', so it cannot name a class folder")
    return parts[0]


def _write_class_file(path: Path, names: list[str] | None, keys: dict[str, str]) -> None:
    try:
        with open(path, "x", encoding="utf-8") as f:
            json.dump({"label_names": names, "keys": keys}, f, ensure_ascii=False)
            f.write("\n")
    except FileExistsError:
        raise ExportError(
            f"{path.name}: a class folder of that name is in the way of the class file; rename the label"
        ) from None


def export_folder(
    dataset: DatasetSpec,
    output: str | os.PathLike,
    *,
    overwrite: bool = False,
    progress: bool | None = True,
) -> Path:
    """Write a dataset's images as files: an ImageFolder tree when samples have labels.

    Each sample's ``image`` (encoded bytes) is written as it is, at ``CLASS/KEY`` where ``CLASS``
    is the label's name (or the label number without names) and ``KEY`` the sample key with the
    image's suffix added unless it has one; a key that already starts with ``CLASS/`` is used as
    it is. So a folder imported with :func:`dings.tools.import_folder` comes back file for file.
    Every class of the label names gets a folder, also an empty one. Other fields are not exported.

    The class file ``labels.json`` in the folder keeps what the paths cannot:
    ``{"label_names": [names in label order] or null, "keys": {path: key}}``, where ``keys``
    lists the files whose path differs from their sample's key. :func:`dings.tools.import_folder`
    reads it, so importing the export gives the same keys, labels, images and label names
    (class folders need not sort in label order).

    Args:
        dataset: the dataset (``NAME.msgpack``).
        output: the folder to create; it appears complete or not at all.
        overwrite: replace an existing folder (removed after the new one is in place).
        progress: show a progress bar.

    Raises:
        ExportError: a sample without image bytes, a key or label name that is not a safe path
            or that folder import would skip (hidden ``.`` names), or two samples that map to
            the same file; the message names the sample.
        FileExistsError: the output exists and ``overwrite`` is false.
    """
    target = Path(output)
    check_output(target, overwrite, dataset)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = temp_name(target)
    work.mkdir()
    try:
        keys: dict[str, str] = {}
        with read_dataset(dataset, f"export {target.name}", progress) as (samples, names, _length):
            for name in names or ():
                (work / _class_folder(name)).mkdir()
            for sample in samples:
                key = sample["key"]
                where = f"sample {key!r}"
                suffix = image_suffix(sample.get("image"))
                if suffix is None:
                    raise ExportError(f"{where}: has no encoded image (bytes of a JPEG, PNG …) to write as a file")
                _check_key(key, where)
                relative = key if key.lower().endswith(IMAGE_SUFFIXES) else f"{key}.{suffix}"
                label = sample.get("label")
                if label is not None:
                    label = int(label)
                    if names is not None and not 0 <= label < len(names):
                        raise ExportError(f"{where}: label {label} is outside the label names (0 … {len(names) - 1})")
                    folder = _class_folder(names[label] if names is not None else str(label))
                    if relative.split("/", 1)[0] != folder:
                        relative = f"{folder}/{relative}"
                path = work.joinpath(*_parts(relative, where))
                path.parent.mkdir(parents=True, exist_ok=True)
                try:
                    with open(path, "xb") as f:
                        f.write(bytes(sample["image"]))
                except FileExistsError:
                    raise ExportError(f"{where}: another sample was already written to {relative}") from None
                if relative != key:
                    keys[relative] = key
        _write_class_file(work / CLASS_FILE, names, keys)
        replace_folder(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target
