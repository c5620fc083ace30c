"""Dataset specs: one string (or list) that names a dataset in any of the shapes dings writes.

A *spec* is

- a data file ``train.msgpack`` (or any of its index files);
- a glob ``train-*.msgpack`` or a brace pattern ``train-{00000..00099}.msgpack`` (matches are
  natural-sorted; a brace pattern names its files in the order it expands to);
- a folder holding one shard set, or a set written in partitions: its manifest
  ``NAME.manifest.json`` when there is one, else the natural-sorted ``*.msgpack`` in it;
- a manifest file ``NAME.manifest.json``;
- any of these under a URL (``s3://``, ``gs://``, ``https://``, ``file://``); a URL folder is
  found through its manifest only (HTTP cannot list a folder);
- a list of specs, read one after the other.

:func:`resolve_dataset` turns a spec into its shard list without opening a shard;
:func:`open_dataset` opens the right reader for it.
"""

from __future__ import annotations

import glob
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dings.format import (
    MANIFEST_SUFFIX,
    MAX_JSON_BYTES,
    CorruptIndexError,
    DamagedDataError,
    check_committed,
    check_committed_pattern,
    data_path,
    load_label_names,
    load_manifest,
    output_prefix,
    parse_json,
    parse_manifest,
)

from .braces import expand_braces, has_braces
from .labels import natural_sort_key
from .msgpack_reader import MsgpackReader
from .reader import Reader
from .remote_fs import data_url, is_url, local_path, url_name
from .sharded_reader import ShardedReader, _url_has_magic

__all__ = ["DatasetSpec", "open_dataset", "resolve_dataset"]

_DATA_SUFFIX = ".msgpack"
#: shard numbers at the end of a data file's name: ``NAME-00000`` or ``NAME-00000-00000``
_SHARD_NUMBERS = re.compile(r"(-[0-9]+)+\Z")
#: the largest label-names sidecar read from a URL (as :func:`dings.format.load_label_names`)
_MAX_LABELS = 64 << 20
_EXPECTED = "expected a data file NAME.msgpack, a pattern, a folder, a manifest NAME.manifest.json, or a URL of one"

SpecLike = str | os.PathLike | Sequence[str | os.PathLike]


@dataclass(frozen=True)
class DatasetSpec:
    """What a dataset spec names.

    Attributes:
        spec: the spec as given (a list: its specs joined with ``", "``).
        shards: the data files (local paths as ``str``, or URLs), in sample order.
        manifest: the manifest's path or URL when the set has one (a list: only when it is one set).
        samples: the total number of samples when known without opening a shard (from manifests).
        shard_samples: per-shard sample counts from the manifest(s), else ``None``.
    """

    spec: str
    shards: tuple[str, ...]
    manifest: str | None = None
    samples: int | None = None
    shard_samples: tuple[int, ...] | None = None
    storage_options: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    def is_remote(self) -> bool:
        """Whether any shard lies under a URL (other than ``file://``)."""
        return any(is_url(s) for s in self.shards)

    def label_names(self) -> list[str] | None:
        """The label names of the set: its first shard's ``.labels.json`` (``None`` without one).

        A partitioned set gives every shard the same sidecar, so the first one speaks for all.

        Raises:
            CorruptIndexError: the sidecar is not a label-names file.
        """
        first = self.shards[0]
        if not is_url(first):
            return load_label_names(first)
        return _remote_label_names(first, self.storage_options)


def resolve_dataset(spec: SpecLike, *, storage_options: dict[str, Any] | None = None) -> DatasetSpec:
    """Find the shards a dataset spec names, without opening any of them.

    A set with a manifest is resolved from the manifest alone: locally no shard is looked at,
    under a URL one request (the manifest) is made.

    Args:
        spec: a data file, a glob or brace pattern, a folder, a manifest, a URL of any of these,
            or a list of specs (see the module documentation).
        storage_options: fsspec options for URLs (e.g. ``endpoint_url``, ``anon``).

    Returns:
        The shards in sample order, with the manifest and sample counts when there is one.

    Raises:
        FileNotFoundError: nothing matches the spec (the message says what was expected).
        ValueError: the spec is empty, or a folder holds several unrelated datasets.
        DamagedDataError: the manifest is damaged or hostile.
    """
    if isinstance(spec, (str, os.PathLike)):
        return _resolve_one(os.fspath(spec), storage_options)
    if isinstance(spec, (bytes, bytearray)) or not isinstance(spec, Sequence):
        raise TypeError(f"dataset spec {spec!r}: give a path, pattern, folder, manifest or URL, or a list of them")
    for item in spec:
        if not isinstance(item, (str, os.PathLike)):
            raise TypeError(f"dataset spec {item!r} in a list: give paths, patterns, folders, manifests or URLs")
    parts = [_resolve_one(os.fspath(s), storage_options) for s in spec]
    if not parts:
        raise ValueError("an empty list of dataset specs; give at least one data file, pattern, folder or URL")
    if len(parts) == 1:
        return parts[0]
    counts = [p.shard_samples for p in parts]
    shard_samples = None if any(c is None for c in counts) else tuple(n for c in counts for n in c or ())
    return DatasetSpec(
        spec=", ".join(p.spec for p in parts),
        shards=tuple(s for p in parts for s in p.shards),
        manifest=None,
        samples=None if shard_samples is None else sum(shard_samples),
        shard_samples=shard_samples,
        storage_options=storage_options,
    )


def open_dataset(spec: SpecLike | DatasetSpec, **options: Any) -> Reader:
    """Open the reader for a dataset spec: a :class:`MsgpackReader` for one data file, else a
    :class:`ShardedReader` over the whole set.

    A set resolved from a manifest opens its shards lazily, each when first read (see
    :func:`resolve_dataset`). The reader's ``dataset`` attribute is the :class:`DatasetSpec`
    (its shards, manifest and :meth:`~DatasetSpec.label_names`).

    Args:
        spec: a data file, a glob or brace pattern, a folder, a manifest, a URL of any of these,
            a list of specs, or a :class:`DatasetSpec` already resolved.
        options: keyword arguments for each :class:`MsgpackReader` (``allow_unsafe``, ``verify``;
            for URLs ``cache_dir``, ``storage_options`` and the other options of
            :class:`~dings.readers.RemoteMsgpackReader`).

    Raises:
        FileNotFoundError: nothing matches the spec.
        DamagedDataError: the manifest is damaged or hostile, or a shard is.
    """
    resolved = (
        spec if isinstance(spec, DatasetSpec) else resolve_dataset(spec, storage_options=options.get("storage_options"))
    )
    reader: Reader
    if len(resolved.shards) == 1 and resolved.shard_samples is None:
        reader = MsgpackReader(resolved.shards[0], **options)
    elif resolved.shard_samples is not None:
        where = resolved.manifest or f"the manifests of {resolved.spec}"
        reader = ShardedReader(list(resolved.shards), lengths=resolved.shard_samples, lengths_from=where, **options)
    else:
        reader = ShardedReader(list(resolved.shards), **options)
    reader.dataset = resolved
    return reader


# --- resolving one spec ---


def _not_found(spec: str, what: str) -> FileNotFoundError:
    return FileNotFoundError(f"{spec}: {what}; {_EXPECTED}")


def _resolve_one(spec: str, storage_options: dict[str, Any] | None) -> DatasetSpec:
    if not spec:
        raise ValueError(f"an empty dataset spec; {_EXPECTED}")
    if is_url(spec):
        return _resolve_url(spec, storage_options)
    text = os.fspath(local_path(spec))
    if has_braces(text):
        names = expand_braces(text)
        return DatasetSpec(spec, tuple(names), storage_options=storage_options)
    if glob.has_magic(text):
        check_committed_pattern(text)  # an interrupted commit of the set is finished first
        found = sorted((p for p in glob.glob(text) if p.endswith(_DATA_SUFFIX)), key=natural_sort_key)
        if not found:
            raise _not_found(spec, "no dataset matches this pattern")
        return DatasetSpec(spec, tuple(found), storage_options=storage_options)
    if text.endswith(MANIFEST_SUFFIX):
        return _local_manifest(spec, text, storage_options)
    try:
        mode = os.stat(text).st_mode
    except FileNotFoundError:
        return _missing_file(spec, text, storage_options)
    if stat.S_ISDIR(mode):
        return _local_folder(spec, text, storage_options)
    return DatasetSpec(spec, (str(data_path(text)),), storage_options=storage_options)


def _missing_file(spec: str, text: str, storage_options: dict[str, Any] | None) -> DatasetSpec:
    """``out/train.msgpack`` that is not there: the set written under that name, if any."""
    data = str(data_path(text))
    if data != text and os.path.exists(data):
        return DatasetSpec(spec, (data,), storage_options=storage_options)
    if data.endswith(_DATA_SUFFIX):
        manifest = data[: -len(_DATA_SUFFIX)] + MANIFEST_SUFFIX
        if os.path.exists(manifest):
            return _local_manifest(spec, manifest, storage_options)
        pattern = glob.escape(data[: -len(_DATA_SUFFIX)]) + "-[0-9]*" + _DATA_SUFFIX
        check_committed_pattern(pattern)
        found = sorted(glob.glob(pattern), key=natural_sort_key)
        if found:
            return DatasetSpec(spec, tuple(found), storage_options=storage_options)
    raise _not_found(spec, "no such dataset")


def _local_manifest(spec: str, manifest: str, storage_options: dict[str, Any] | None) -> DatasetSpec:
    """The set a local manifest lists (its shards are not looked at)."""
    folder = os.path.dirname(manifest)
    try:
        content = load_manifest(manifest)
    except FileNotFoundError:
        raise _not_found(spec, f"no manifest {manifest}") from None
    shards = _joined(folder, content)
    # an interrupted commit of the set is finished first: its journal lies next to the first shard
    # and a marker next to the last (two stats, never one per shard); then the manifest is read again
    if shards and (check_committed(shards[0]) | check_committed(shards[-1])):
        content = load_manifest(manifest)
        shards = _joined(folder, content)
    return _from_manifest(spec, manifest, content, shards, storage_options)


def _joined(folder: str, content: dict[str, Any]) -> list[str]:
    """The paths of a manifest's shards (plain names, checked by ``parse_manifest``) in ``folder``."""
    prefix = os.path.join(folder, "")
    return [prefix + s["name"] for s in content["shards"]]


def _from_manifest(
    spec: str, manifest: str, content: dict[str, Any], shards: list[str], storage_options: dict[str, Any] | None
) -> DatasetSpec:
    if not shards:
        raise DamagedDataError(f"{manifest}: lists no shard; the dataset is empty or damaged", path=manifest)
    counts = tuple(int(s["samples"]) for s in content["shards"])
    return DatasetSpec(spec, tuple(shards), manifest, sum(counts), counts, storage_options)


def _dataset_name(file_name: str) -> str:
    """The dataset a data file belongs to: its name without ``.msgpack`` and shard numbers."""
    stem = file_name[: -len(_DATA_SUFFIX)]
    return _SHARD_NUMBERS.sub("", stem) or stem


def _local_folder(spec: str, folder: str, storage_options: dict[str, Any] | None, *, again: bool = True) -> DatasetSpec:
    """A folder: its own manifest, else the one manifest or the one shard set in it."""
    own = output_prefix(folder) + MANIFEST_SUFFIX
    if os.path.exists(own):  # no listing: a folder of 10,000 shards opens from its manifest alone
        return _local_manifest(spec, own, storage_options)
    names = os.listdir(folder)
    manifests = sorted(n for n in names if n.endswith(MANIFEST_SUFFIX))
    if len(manifests) == 1:
        return _local_manifest(spec, os.path.join(folder, manifests[0]), storage_options)
    if len(manifests) > 1:
        listed = ", ".join(manifests)
        raise ValueError(
            f"{spec}: this folder holds several datasets ({listed}); give one of them, e.g. "
            f"{os.path.join(folder, manifests[0])!r}"
        )
    if check_committed_pattern(os.path.join(glob.escape(folder), "*" + _DATA_SUFFIX)) and again:
        return _local_folder(spec, folder, storage_options, again=False)  # a finished commit may add a manifest
    data = sorted((n for n in names if n.endswith(_DATA_SUFFIX) and not n.startswith(".")), key=natural_sort_key)
    data = [n for n in data if os.path.isfile(os.path.join(folder, n))]
    if not data:
        raise _not_found(spec, "this folder holds no dataset (no NAME.manifest.json, no *.msgpack)")
    sets = sorted({_dataset_name(n) for n in data}, key=natural_sort_key)
    if len(sets) > 1:
        raise ValueError(
            f"{spec}: this folder holds several datasets ({', '.join(sets)}); give one of them, e.g. "
            f"{os.path.join(folder, sets[0] + '-*' + _DATA_SUFFIX)!r}"
        )
    return DatasetSpec(spec, tuple(os.path.join(folder, n) for n in data), storage_options=storage_options)


# --- URLs ---


def _remote(url: str, storage_options: dict[str, Any] | None) -> Any:
    from .remote_fs import RemoteFiles, RetryPolicy

    return RemoteFiles(url, storage_options, RetryPolicy(3, 0.5))


def _resolve_url(spec: str, storage_options: dict[str, Any] | None) -> DatasetSpec:
    if has_braces(spec):
        return DatasetSpec(spec, tuple(expand_braces(spec)), storage_options=storage_options)
    if _url_has_magic(spec):
        urls = _remote(spec, storage_options).glob(spec)
        found = sorted((u for u in urls if u.split("?", 1)[0].endswith(_DATA_SUFFIX)), key=natural_sort_key)
        if not found:
            raise _not_found(spec, "no dataset matches this pattern")
        return DatasetSpec(spec, tuple(found), storage_options=storage_options)
    name = url_name(spec)
    if name.endswith(MANIFEST_SUFFIX):
        return _url_manifest(spec, spec, storage_options)
    if name.endswith(_DATA_SUFFIX) or data_url(spec) != spec:
        return DatasetSpec(spec, (data_url(spec),), storage_options=storage_options)
    base, sep, query = spec.partition("?")
    manifest = output_prefix(base) + MANIFEST_SUFFIX + sep + query
    return _url_manifest(spec, manifest, storage_options, folder=True)


def _url_manifest(
    spec: str, manifest: str, storage_options: dict[str, Any] | None, *, folder: bool = False
) -> DatasetSpec:
    """The set a manifest under a URL lists: one request."""
    remote = _remote(manifest, storage_options)
    name = url_name(manifest)[: -len(MANIFEST_SUFFIX)]
    try:
        content = remote.cat(manifest, "the manifest", max_size=MAX_JSON_BYTES)
    except FileNotFoundError:
        if folder:
            raise FileNotFoundError(
                f"{spec}: no manifest {url_name(manifest)} in this URL folder, and a URL folder cannot be "
                "listed; give its manifest, a data file or a pattern such as "
                f"{spec.split('?', 1)[0].rstrip('/') + '/*.msgpack'!r}"
            ) from None
        raise _not_found(spec, "no such manifest") from None
    parsed = parse_manifest(content, manifest, name=name)  # shard names stay inside the folder
    base, sep, query = manifest.partition("?")
    folder_url = base.rsplit("/", 1)[0]
    shards = [f"{folder_url}/{s['name']}{sep}{query}" for s in parsed["shards"]]
    return _from_manifest(spec, manifest, parsed, shards, storage_options)


def _remote_label_names(url: str, storage_options: dict[str, Any] | None) -> list[str] | None:
    """The label names of the data file at ``url`` (its ``.labels.json``), bounded and checked."""
    base, sep, query = url.partition("?")
    target = f"{base}.labels.json{sep}{query}"
    remote = _remote(target, storage_options)
    try:
        if remote.size(target, "the label names") > _MAX_LABELS:
            raise CorruptIndexError(f"{target}: larger than {_MAX_LABELS >> 20} MiB; not a label-names file")
        content = remote.cat(target, "the label names")
    except FileNotFoundError:
        return None
    parsed = parse_json(content, f"{target}: not a label-names file", lambda m: CorruptIndexError(m, path=target))
    names = parsed.get("label_names") if isinstance(parsed, dict) else None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise CorruptIndexError(f'{target}: not a label-names file (expected {{"label_names": [str, …]}})')
    return names
