"""Export a dataset as WebDataset tar shards (the reverse of :func:`dings.tools.import_webdataset`)."""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
from pathlib import Path
from typing import Any

import numpy as np

from dings.format import packb

from .._dataset import DatasetSpec, temp_name
from ..importing.webdataset import METADATA_MEMBER
from .common import ExportError, check_output, commit_paths, image_suffix, read_dataset

__all__ = ["export_webdataset", "sample_members"]


def _old_shards(output: Path) -> list[Path]:
    """Shards ``NAME-NNNNNN.tar`` of an earlier export to ``output``."""
    stem = output.name[: -len(".tar")] if output.name.endswith(".tar") else output.name
    pattern = re.compile(re.escape(stem) + r"-\d{6}\.tar\Z")
    return sorted(p for p in output.parent.glob("*.tar") if pattern.match(p.name)) if output.parent.is_dir() else []


def _tar_key(key: str, previous: str | None, index: int) -> str:
    """The tar key of a sample: its key when webdataset can split it back, else a numbered one."""
    folder, _, base = key.rpartition("/")
    safe = (
        base
        and "." not in base
        and not base.startswith("_")
        and not key.startswith("/")
        and ".." not in key.split("/")
        and "" not in folder.split("/")[1:]
        and key != previous
    )
    return key if safe else f"sample{index:09d}"


def _member(name: str, value: Any, where: str) -> tuple[str, bytes]:
    if "." in name or "/" in name or "\0" in name:
        raise ExportError(f"{where}: field {name!r} has a '.', '/' or NUL, which a WebDataset member name cannot hold")
    if isinstance(value, str):
        return f"{name}.txt", value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"{name}.bin", bytes(value)
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise ExportError(f"{where}: field {name!r} is an object array, which .npy cannot hold without pickle")
        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        return f"{name}.npy", buffer.getvalue()
    return f"{name}.msgpack", packb(value)


def sample_members(sample: dict[str, Any], index: int, previous: str | None) -> tuple[str, list[tuple[str, bytes]]]:
    """The tar key and the ``(extension, bytes)`` members of one sample.

    ``image`` (encoded bytes) → ``jpg``/``png``/…, an int ``label`` → ``cls``, str → ``NAME.txt``,
    bytes → ``NAME.bin``, arrays → ``NAME.npy``, anything else → ``NAME.msgpack``. A key that
    webdataset would split differently (dots, a leading ``.`` or ``_``, empty or ``..`` parts) is
    kept in a ``key`` member under a numbered tar key.

    Raises:
        ExportError: a key or field name with a NUL (a tar name ends there), a field that no
            member can name or hold; the message names the sample.
    """
    key = sample["key"]
    if "\0" in key:  # a tar name ends at a NUL: the member would lose its extension, and importers skip it
        raise ExportError(
            f"sample {key!r}: the key has a NUL character, which a tar member name cannot hold; "
            "rename the key before exporting"
        )
    tar_key = _tar_key(key, previous, index)
    members: list[tuple[str, bytes]] = [] if tar_key == key else [("key", key.encode("utf-8"))]
    where = f"sample {key!r}"
    for name, value in sample.items():
        if name == "key":
            continue
        if not isinstance(name, str):
            raise ExportError(f"{where}: field name {name!r} is not a str")
        suffix = image_suffix(value) if name == "image" else None
        if suffix is not None:
            members.append((suffix, bytes(value)))
        elif name == "label" and isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            members.append(("cls", str(int(value)).encode("ascii")))
        else:
            members.append(_member(name, value, where))
    return tar_key, members


def _shard_path(output: Path, number: int | None) -> Path:
    if number is None:
        return output
    stem = output.name[: -len(".tar")] if output.name.endswith(".tar") else output.name
    return output.with_name(f"{stem}-{number:06d}.tar")


def _shard_pattern(output: Path) -> str:
    """The ``str.format`` pattern of the shards' paths (see :func:`dings.format.check_output_not_input`)."""
    stem = output.name[: -len(".tar")] if output.name.endswith(".tar") else output.name
    return str(output.with_name(stem.replace("{", "{{").replace("}", "}}") + "-{:06d}.tar"))


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o444
    archive.addfile(info, io.BytesIO(data))


def export_webdataset(
    dataset: DatasetSpec,
    output: str | os.PathLike,
    *,
    shard_size: int | None = None,
    overwrite: bool = False,
    progress: bool | None = True,
) -> list[Path]:
    """Write a dataset as WebDataset tar shards, readable by the ``webdataset`` package.

    Members are named ``<key>.<extension>`` (see :func:`sample_members`). A dataset with label
    names starts every shard with the member ``__dings__``: JSON ``{"label_names": [...]}``
    (the ``webdataset`` package skips members named ``__…__``). Importing the shards again with
    :func:`dings.tools.import_webdataset` gives the same samples and label names. Tar headers
    carry no times or owners, so the same dataset always gives the same bytes.

    Args:
        dataset: the dataset (``NAME.msgpack``).
        output: ``NAME.tar``; with ``shard_size`` the shards ``NAME-000000.tar``, ``NAME-000001.tar`` ….
        shard_size: samples per shard; ``None`` writes one tar file.
        overwrite: replace existing outputs (stale shards of an older export are removed).
        progress: show a progress bar.

    Returns:
        The tar files written.

    Raises:
        ExportError: a field that WebDataset cannot name or hold; the message names the sample.
        FileExistsError: an output exists and ``overwrite`` is false.
    """
    target = Path(output)
    if shard_size is not None and shard_size < 1:
        raise ValueError(f"shard_size must be at least 1, got {shard_size}")
    stale = _old_shards(target) if shard_size else []
    pattern = _shard_pattern(target) if shard_size else None
    check_output(_shard_path(target, 0 if shard_size else None), overwrite, dataset, pattern)
    target.parent.mkdir(parents=True, exist_ok=True)
    pairs: list[tuple[Path, Path]] = []
    archive: tarfile.TarFile | None = None
    try:
        with read_dataset(dataset, f"export {target.name}", progress) as (samples, names, _length):
            metadata = json.dumps({"label_names": names}).encode() if names is not None else None
            previous = None
            for index, sample in enumerate(samples):
                if archive is None or (shard_size is not None and index % shard_size == 0):
                    if archive is not None:
                        archive.close()
                    final = _shard_path(target, len(pairs) if shard_size else None)
                    pairs.append((temp_name(final), final))
                    archive = tarfile.open(pairs[-1][0], "w", format=tarfile.GNU_FORMAT)
                    if metadata is not None:
                        _add(archive, METADATA_MEMBER, metadata)
                tar_key, members = sample_members(sample, index, previous)
                previous = tar_key
                for extension, data in members:
                    _add(archive, f"{tar_key}.{extension}", data)
        if archive is None:  # an empty dataset: one empty tar file
            pairs.append(
                (
                    temp_name(_shard_path(target, 0 if shard_size else None)),
                    _shard_path(target, 0 if shard_size else None),
                )
            )
            archive = tarfile.open(pairs[-1][0], "w", format=tarfile.GNU_FORMAT)
            if metadata is not None:
                _add(archive, METADATA_MEMBER, metadata)
        archive.close()
        commit_paths(pairs)
    except BaseException:
        if archive is not None:
            archive.close()
        for tmp, _ in pairs:
            tmp.unlink(missing_ok=True)
        raise
    written = [final for _, final in pairs]
    for old in stale:
        if old not in written:
            old.unlink(missing_ok=True)
    return written
