"""``stage``: copy datasets to a fast local disk, safely and only what is not there yet."""

from __future__ import annotations

import glob
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dings.format import (
    MANIFEST_SUFFIX,
    MAX_JSON_BYTES,
    MD5_SUFFIX,
    CorruptIndexError,
    DamagedDataError,
    check_output_not_input,
    data_path,
    dataset_paths,
    index_path,
    index_size_limit,
    offsets_len,
    open_index_file,
    parse_manifest,
    parse_md5,
    progress_bar,
    read_index_bytes,
)
from dings.readers import is_url, natural_sort_key

from ._dataset import copy_file, human_size, input_manifest, input_shards, temp_name
from .stage_plan import SIDECAR_SUFFIXES, StagePlan, check_listed_name, check_sizes

__all__ = ["StageResult", "find_datasets", "stage"]


@dataclass
class StageResult:
    """Result of :func:`stage`.

    Attributes:
        datasets: data files of the staged datasets in ``local_dir``.
        copied: files copied (and verified) in ``local_dir``, md5 files included.
        skipped: files already present in ``local_dir`` with the right md5.
        bytes_copied: bytes copied.
    """

    datasets: list[Path] = field(default_factory=list)
    copied: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    bytes_copied: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "datasets": [str(p) for p in self.datasets],
            "copied": [str(p) for p in self.copied],
            "skipped": [str(p) for p in self.skipped],
            "bytes_copied": self.bytes_copied,
        }

    def __str__(self) -> str:
        return (
            f"staged {len(self.datasets)} dataset(s): {len(self.copied)} file(s) copied "
            f"({human_size(self.bytes_copied)}), {len(self.skipped)} already present and verified"
        )


def find_datasets(source: str | os.PathLike) -> list[Path]:
    """Data files that ``source`` names, in natural order.

    Args:
        source: a dataset (``NAME.msgpack`` or any of its index files), a folder (every
            ``*.msgpack`` directly in it, e.g. shards; the shards its manifest lists, in that order,
            for a partitioned set), a manifest, or a glob or brace pattern (``"data/train-*.msgpack"``).

    Raises:
        FileNotFoundError: nothing matches.
    """
    text = os.fspath(source)
    if text.endswith(MANIFEST_SUFFIX) or "{" in text or (os.path.isdir(text) and input_manifest(text) is not None):
        return [Path(shard) for shard in input_shards(text)]
    if glob.has_magic(text):
        found = {data_path(p) for p in glob.glob(text)}
        paths = [p for p in found if p.name.endswith(".msgpack") and p.is_file()]
        if not paths:
            raise FileNotFoundError(f"{text}: no .msgpack dataset matches this pattern")
    elif os.path.isdir(text):
        paths = [p for p in Path(text).glob("*.msgpack") if p.is_file()]
        if not paths:
            raise FileNotFoundError(f"{text}: folder holds no .msgpack dataset")
    else:
        data = data_path(text)
        if not data.is_file():
            raise FileNotFoundError(f"{data}: data file not found")
        paths = [data]
    return sorted(paths, key=lambda p: natural_sort_key(str(p)))


def _listed_files(data: Path) -> tuple[Path, bytes, dict[str, str]]:
    """The md5 file of ``data``, its content and the files it lists (name → md5): the data file and
    its own index files, each a regular file."""
    md5_path = index_path(data, MD5_SUFFIX)
    try:
        content = read_index_bytes(md5_path, index_size_limit(MD5_SUFFIX, 0), what="for an md5 file")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{md5_path}: md5 file missing, so a copy cannot be verified; "
            "for a legacy dataset run convert_index first, otherwise rewrite the dataset"
        ) from None
    expected = parse_md5(content, str(md5_path))
    for name in expected:
        if os.sep in name or (os.altsep and os.altsep in name) or name in ("", ".", ".."):
            raise CorruptIndexError(f"{md5_path}: refers to {name!r}, which is not a file next to the dataset")
        check_listed_name(data.name, name, str(md5_path))
    if data.name not in expected:
        raise CorruptIndexError(f"{md5_path}: has no checksum for the data file {data.name}")
    for name in expected:
        if name != data.name:
            _check_regular(data.parent / name, f"listed in {md5_path.name} but missing in the source")
    return md5_path, content, expected


def _check_regular(path: Path, missing: str) -> None:
    """Refuse an index file or sidecar that is not a regular file (a FIFO, a device, a link to one)."""
    try:
        open_index_file(path).close()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: {missing}") from None


def _local_plan(data: Path) -> StagePlan:
    md5_path, content, expected = _listed_files(data)
    sidecars = [data.name + s for s in SIDECAR_SUFFIXES if (data.parent / (data.name + s)).exists()]
    for name in sidecars:
        _check_regular(data.parent / name, "vanished while it was staged")
    plan = StagePlan(
        data.name,
        lambda name: str(data.parent / name),
        md5_path.name,
        content,
        expected,
        lambda name: (data.parent / name).stat().st_size,
        lambda name, target, bar: copy_file(data.parent / name, target, bar),
        sidecars,
    )
    check_sizes(plan)
    if data.name + ".offsets" in expected:
        offsets_len(data, plan.size(data.name))  # its last offset must be the data file's size
    return plan


def _present(plan: StagePlan, name: str, target: Path, bar: Any) -> bool:
    """Whether ``target`` is a complete copy: same size as the source and the expected md5."""
    if not target.is_file() or target.stat().st_size != plan.size(name):
        return False
    return copy_file(target, None, bar) == plan.expected[name]


def _copy_verified(plan: StagePlan, name: str, target: Path, bar: Any) -> int:
    """Copy to a temporary file, check its md5, then rename it into place."""
    digest = plan.expected[name]
    tmp = temp_name(target)
    try:
        actual = plan.copy(name, tmp, bar)
        if actual != digest:
            raise OSError(
                f"{plan.where(name)}: md5 is {actual} but {plan.md5_name} says {digest}; the source is damaged or changed "
                "while copying (check it with dings verify); this file was not staged"
            )
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target.stat().st_size


def _manifest_content(manifest: Path) -> bytes:
    """The bytes of a local manifest, read only up to its bound and checked before they are copied."""
    with open(manifest, "rb") as f:
        content = f.read(MAX_JSON_BYTES + 1)
    if len(content) > MAX_JSON_BYTES:
        raise DamagedDataError(f"{manifest}: larger than {MAX_JSON_BYTES:,} bytes; not a dings manifest", path=manifest)
    parse_manifest(content, str(manifest), name=manifest.name[: -len(MANIFEST_SUFFIX)])
    return content


def stage(
    source: str | os.PathLike,
    local_dir: str | os.PathLike,
    *,
    progress: bool | None = True,
    storage_options: dict[str, Any] | None = None,
    retries: int = 5,
    backoff: float = 0.5,
) -> StageResult:
    """Copy datasets (data, index and md5 files, and the per-sample checksum and label-name sidecars
    when the source has them) to ``local_dir``, e.g. a node's local SSD.

    For every dataset, each file its md5 file lists is skipped when ``local_dir`` already has it
    with the right size and md5, and copied otherwise: to a temporary file first, renamed only
    after its md5 matched. The md5 file is removed first whenever something must be copied and
    written last, so a stage that was interrupted never looks complete; running ``stage`` again
    redoes only what is missing or damaged. Datasets are staged one after another, in natural
    order; several processes may stage the same datasets at once (each copies to its own
    temporary files). Every file is checked as the readers check it before anything is copied: a
    dataset with a hostile index file (a FIFO, a link to a device, a sparse file of GiB beside a
    small data file) is refused, never copied.

    The source may also be a URL (``s3://bucket/train.msgpack``, ``https://…``, any fsspec URL;
    needs ``pip install "dings-readers[remote]"`` and the protocol's package): a dataset, a
    glob pattern (``s3://bucket/train-*.msgpack``), a folder ending in ``/``, or a partitioned
    set (its manifest, or its folder without the ``/``: found through the manifest). Remote files are
    fetched with ranged reads; transient network errors are retried with back-off.

    Args:
        source: a dataset (``NAME.msgpack`` or any of its index files), a folder of datasets
            (e.g. shards), a partitioned set (its folder or manifest; the manifest is copied
            last) or a glob or brace pattern; see :func:`find_datasets`. Or a URL (see above).
        local_dir: destination folder (created if needed).
        progress: show a progress bar of bytes checked and copied.
        storage_options: fsspec filesystem options for a URL source (``endpoint_url``, ``anon``, …).
        retries: further attempts after a transient network error (URL sources).
        backoff: seconds before the first retry, doubled for each further one (URL sources).

    Returns:
        A :class:`StageResult` with what was copied and what skipped.

    Raises:
        FileNotFoundError: nothing matches ``source``, or a dataset has no md5 file or misses a
            file its md5 file lists.
        PermissionError: a URL source denies access.
        ValueError: two datasets would get the same name in ``local_dir``.
        dings.format.OutputIsInputError: a source is in ``local_dir`` itself (a ``ValueError``).
        dings.format.CorruptIndexError: an md5 file is malformed or lists a file that is not the
            dataset's own, or an index file or sidecar is not a regular file (a FIFO, a device),
            larger than its data file allows (:func:`dings.format.index_size_limit`), or (locally)
            has offsets that do not end at the data file's size; all checked before anything
            is copied.
        OSError: a source file does not match its md5 (the source is damaged; nothing is renamed
            into place for it), ``local_dir`` lacks the space, or a URL source kept failing
            (:class:`dings.readers.RemoteError`).
    """
    folder = Path(local_dir)
    manifest: tuple[str, bytes] | None = None
    if is_url(source):
        from .stage_remote import remote_manifest, remote_plans

        plans = remote_plans(str(source), storage_options, retries, backoff)
        manifest = remote_manifest(str(source), storage_options, retries, backoff)
    else:
        local = input_manifest(source) if os.path.isdir(source) or os.fspath(source).endswith(MANIFEST_SUFFIX) else None
        manifest = None if local is None else (local.name, _manifest_content(local))
        plans = []
        for data in find_datasets(source):
            sources = dataset_paths(data)
            check_output_not_input([folder / p.name for p in sources], sources)
            plans.append(_local_plan(data))
    names: dict[str, str] = {}
    for plan in plans:
        if plan.data in names:
            raise ValueError(
                f"{plan.where(plan.data)} and {names[plan.data]} would both be staged as {folder / plan.data}; stage them to different folders"
            )
        names[plan.data] = plan.where(plan.data)
    folder.mkdir(parents=True, exist_ok=True)
    total = sum(plan.size(name) for plan in plans for name in [*plan.expected, *plan.sidecars])
    result = StageResult()
    with progress_bar(total=total, desc=f"stage → {folder}", unit="B", enabled=progress) as bar:
        for plan in plans:
            _stage_one(plan, folder, bar, result)
    if manifest is not None:  # last: a partitioned set is complete once its manifest is there
        name, content = manifest
        target = folder / name
        tmp = temp_name(target)
        try:
            tmp.write_bytes(content)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        result.copied.append(target)
        result.bytes_copied += len(content)
    return result


def _stage_one(plan: StagePlan, folder: Path, bar: Any, result: StageResult) -> None:
    missing: list[str] = []
    for name in plan.expected:
        if _present(plan, name, folder / name, bar):
            result.skipped.append(folder / name)
        else:
            missing.append(name)
    md5_target = folder / plan.md5_name
    if missing:
        needed = sum(plan.size(name) for name in missing)
        free = shutil.disk_usage(folder).free
        if needed > free:
            raise OSError(
                f"{folder}: {human_size(free)} free but {plan.data} needs {human_size(needed)} more; free space or stage elsewhere"
            )
        md5_target.unlink(missing_ok=True)  # until every file is in place, the copy must not look complete
        for name in missing:
            result.bytes_copied += _copy_verified(plan, name, folder / name, bar)
            result.copied.append(folder / name)
    for name in plan.sidecars:  # before the md5 file, which marks the copy complete
        target = folder / name
        if target.is_file() and target.stat().st_size == plan.size(name):
            copy_file(target, None, bar)  # counted as checked, like the listed files
            result.skipped.append(target)
            continue
        tmp = temp_name(target)
        try:
            plan.copy(name, tmp, bar)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        result.copied.append(target)
        result.bytes_copied += target.stat().st_size
    if missing or not md5_target.is_file() or md5_target.read_bytes() != plan.md5_content:
        tmp = temp_name(md5_target)
        try:
            tmp.write_bytes(plan.md5_content)
            os.replace(tmp, md5_target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        result.copied.append(md5_target)
        result.bytes_copied += len(plan.md5_content)
    else:
        result.skipped.append(md5_target)
    result.datasets.append(folder / plan.data)
