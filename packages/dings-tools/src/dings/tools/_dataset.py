"""Helpers shared by the dataset operations: opening inputs, checking outputs, copying raw samples."""

from __future__ import annotations

import glob
import hashlib
import operator
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from dings.format import (
    MANIFEST_SUFFIX,
    RawWriter,
    check_output_not_input,
    data_path,
    dataset_paths,
    progress_bar,
)
from dings.readers import Reader, is_url, open_dataset, resolve_dataset

__all__ = [
    "as_count",
    "as_seed",
    "check_outputs",
    "copy_blocks",
    "copy_file",
    "dataset_stem",
    "human_size",
    "input_label_names",
    "input_manifest",
    "input_name",
    "input_paths",
    "input_shards",
    "open_raw_writer",
    "open_reader",
    "temp_name",
    "write_raw",
]

#: bytes per read when hashing or copying files
CHUNK = 1 << 22


#: what names a dataset: a path, URL, pattern, folder or manifest, or a list of them (see
#: :func:`dings.readers.resolve_dataset`)
DatasetSpec = str | os.PathLike | Sequence[str | os.PathLike]


def input_manifest(spec: DatasetSpec) -> Path | None:
    """The local manifest ``NAME.manifest.json`` of the partitioned set ``spec`` names, or ``None``."""
    manifest = resolve_dataset(spec).manifest
    return None if manifest is None or is_url(manifest) else Path(manifest)


def input_shards(spec: DatasetSpec) -> list[str]:
    """The data files (paths or URLs) of the dataset that ``spec`` names, in sample order.

    ``spec`` is a data file (or one of its index files), a glob or brace pattern of shards
    (``train-*.msgpack``, ``train-{00000..00009}.msgpack``), a folder with one shard set or a
    partitioned set (its manifest), a manifest file, a URL of these, or a list of them
    (concatenated); see :func:`dings.readers.resolve_dataset`.

    Raises:
        FileNotFoundError: nothing matches; the message names ``spec``.
        dings.format.DamagedDataError: the manifest is damaged.
    """
    return list(resolve_dataset(spec).shards)


def input_paths(spec: DatasetSpec | Reader) -> list[Path]:
    """Every local file of the dataset ``spec`` names (each shard, its index files and the
    manifest): the inputs an output must not overlap. URLs and open readers have none."""
    if isinstance(spec, Reader):
        return []
    resolved = resolve_dataset(spec)
    found = [p for shard in resolved.shards if not is_url(shard) for p in dataset_paths(shard)]
    manifest = resolved.manifest
    return found if manifest is None or is_url(manifest) else [*found, Path(manifest)]


def input_label_names(spec: DatasetSpec) -> list[str] | None:
    """The label names of a dataset (of its first shard; every shard of a set has the same), or ``None``."""
    return resolve_dataset(spec).label_names()


def input_name(spec: DatasetSpec) -> Path:
    """A path that names the dataset, for messages and names derived from it.

    One data file: itself (also one still to be written). A set: its manifest's ``folder/NAME.msgpack``,
    else the first shard without its shard numbers (``out/train-00000.msgpack`` → ``out/train.msgpack``).
    """
    if isinstance(spec, (str, os.PathLike)):
        text = os.fspath(spec)
        plain = not (is_url(text) or os.path.isdir(text) or glob.has_magic(text) or "{" in text)
        if plain and not text.endswith(MANIFEST_SUFFIX) and os.path.exists(data_path(text)):
            return data_path(text)
        if plain and not os.path.exists(text) and not text.endswith(MANIFEST_SUFFIX):
            return data_path(text)  # nothing there: the name as given (e.g. for default output names)
    resolved = resolve_dataset(spec)
    if resolved.manifest is not None:  # out/train.manifest.json, or out/train/train.manifest.json: out/train.msgpack
        manifest = Path(resolved.manifest)
        name = manifest.name[: -len(MANIFEST_SUFFIX)]
        folder = manifest.parent.parent if manifest.parent.name == name else manifest.parent
        return folder / (name + ".msgpack")
    first = Path(resolved.shards[0])
    if len(resolved.shards) == 1:
        return first
    return first.with_name(re.sub(r"(-\d+)+\.msgpack$", ".msgpack", first.name))


def open_reader(path: DatasetSpec | Reader) -> tuple[Reader, bool]:
    """Open a dataset for reading.

    Args:
        path: any dataset spec (see :func:`input_shards`), or an open reader used as it is.

    Returns:
        The reader (a :class:`~dings.readers.ShardedReader` for a set of shards) and whether the
        caller opened it (and so must close it).

    Raises:
        FileNotFoundError: the data file or its index is missing.
    """
    if isinstance(path, Reader):
        return path, False
    return open_dataset(path), True


def check_outputs(outfiles: Sequence[Path], inputs: Sequence[Path], overwrite: bool) -> None:
    """Refuse outputs that exist (unless ``overwrite``), repeat, or overlap an input dataset.

    ``inputs`` are every file of the input datasets (see :func:`input_paths`).

    An output overlaps an input when any file of the output dataset is, contains or is inside a
    file of an input dataset (``NAME.msgpack`` and its index files; symlinks resolved), also with
    ``overwrite``. Never asks: a library function must not wait for an answer; the CLI asks and
    passes ``overwrite=True``.

    Raises:
        ValueError: an output is given twice.
        dings.format.OutputIsInputError: an output overlaps an input (a ``ValueError``).
        IsADirectoryError: an output is a directory.
        FileExistsError: an output exists and ``overwrite`` is false.
    """
    seen: set[Path] = set()
    for out in outfiles:
        absolute = Path(os.path.abspath(out))
        if absolute in seen:
            raise ValueError(f"{out}: given twice as an output file; give every output its own name")
        seen.add(absolute)
        check_output_not_input([out, *dataset_paths(out)], list(inputs))
        if out.is_dir():
            raise IsADirectoryError(f"{out}: is a directory; give the path of a .msgpack file to write")
        if out.exists() and not overwrite:
            raise FileExistsError(
                f"{out}: dataset exists; pass overwrite=True (-y/--no-confirm on the command line) to replace it"
            )


def open_raw_writer(outfile: Path, total: int | None, label_names: Sequence[str] | None = None) -> RawWriter:
    """A RawWriter for an output already checked by :func:`check_outputs` (so it never asks); the
    label names (if any) are committed with the data."""
    return RawWriter(outfile, overwrite=True, progress=False, total=total, label_names=label_names)


def write_raw(
    items: Iterable[tuple[str, Any]],
    outfile: Path,
    total: int,
    desc: str,
    progress: bool | None,
    label_names: Sequence[str] | None = None,
) -> int:
    """Write ``(key, packed sample)`` pairs to ``outfile`` atomically, with a progress bar (and the
    label names, committed with the data).

    Returns:
        The number of samples written.
    """
    with (
        open_raw_writer(outfile, total, label_names) as writer,
        progress_bar(total=total, desc=desc, unit="samples", enabled=progress) as bar,
    ):
        for key, data in items:
            writer.write(key, data)
            bar.update()
        return writer.written


def as_count(value: Any, name: str) -> int:
    """Return ``value`` as an int (also numpy ints), refusing bools, floats and strings.

    Raises:
        TypeError: ``value`` is not an integer.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})") from None


def as_seed(seed: Any) -> int:
    """Return a seed as a non-negative int; ``None`` is the fixed default 0, so runs repeat.

    Raises:
        TypeError: ``seed`` is not an integer.
        ValueError: ``seed`` is negative.
    """
    if seed is None:
        return 0
    value = as_count(seed, "seed")
    if value < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return value


def temp_name(target: Path, tag: str = "part") -> Path:
    """A hidden temporary path next to ``target``, unique per process and call."""
    return target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.{tag}")


def copy_blocks(blocks: Iterable[bytes], target: Path | None, bar: Any = None) -> str:
    """Write ``blocks`` to ``target`` (if given, synced) and return their md5 hex digest.

    Args:
        blocks: the content, in pieces.
        target: file to create (must not exist); ``None`` only hashes.
        bar: a progress bar counting bytes, or ``None``.
    """
    md5 = hashlib.md5()
    out: BinaryIO | None = open(target, "xb") if target is not None else None
    try:
        for chunk in blocks:
            md5.update(chunk)
            if out is not None:
                out.write(chunk)
            if bar is not None:
                bar.update(len(chunk))
        if out is not None:
            out.flush()
            os.fsync(out.fileno())
    finally:
        if out is not None:
            out.close()
    return md5.hexdigest()


def _file_blocks(source: Path) -> Iterator[bytes]:
    with open(source, "rb", buffering=0) as f:
        while chunk := f.read(CHUNK):
            yield chunk


def copy_file(source: Path, target: Path | None, bar: Any = None) -> str:
    """Read ``source`` once: copy it to ``target`` (if given) and return its md5 hex digest.

    Args:
        source: file to read.
        target: file to create (must not exist); ``None`` only hashes.
        bar: a progress bar counting bytes, or ``None``.
    """
    return copy_blocks(_file_blocks(source), target, bar)


def human_size(size: float) -> str:
    """``1234567`` → ``"1.2 MB"`` (decimal units, as in MB/s)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(size) < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"  # pragma: no cover - the loop always returns


def dataset_stem(path: str | os.PathLike) -> str:
    """``dir/train.msgpack`` → ``"train"``: the data file name without ``.msgpack``."""
    name = data_path(path).name
    return name[: -len(".msgpack")] if name.endswith(".msgpack") and len(name) > len(".msgpack") else name
