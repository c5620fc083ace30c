"""Import WebDataset tar shards, read with the standard library's :mod:`tarfile`.

Members are grouped into samples by key (the member path up to the first dot of its file name) and
become fields by extension (the rest of the name, lower case), as the ``webdataset`` package does:

- an image extension alone (``jpg``, ``png`` …) → ``image`` (bytes); ``cls`` → ``label`` (int);
- ``NAME.txt`` → ``NAME`` (str), ``NAME.json`` → decoded JSON, ``NAME.npy`` → numpy array (no
  pickle), ``NAME.msgpack``/``NAME.mp`` → decoded msgpack (dings' safe unpacking), ``NAME.bin``
  → bytes; ``NAME.cls`` → ``NAME`` (int); a bare ``txt``/``json``/… keeps its extension as the name;
- any other extension → a field of that name holding the bytes;
- a ``key`` member holds the sample's key when it differs from the tar key (written by
  :func:`dings.tools.export_webdataset` for keys that contain a dot).
"""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
from collections.abc import Iterator, Sequence
from typing import IO, Any

import numpy as np

from dings.format import FormatError, unpackb
from dings.readers import is_url

from .classes import ClassList, Labels
from .core import ImportDataError, ImportResult, Loaded, Source, check_source_output, run_import
from .files import IMAGE_SUFFIXES

__all__ = ["expand_braces", "import_webdataset", "iter_tar_groups", "webdataset_source", "decode_fields"]

IMAGE_EXTENSIONS = frozenset(s.lstrip(".") for s in IMAGE_SUFFIXES)
#: the largest member read (msgpack cannot hold more in one value)
MAX_MEMBER = (1 << 32) - 1
_BRACES = re.compile(r"\{(\d+)\.\.(\d+)\}|\{([^{}]*,[^{}]*)\}")


def expand_braces(pattern: str) -> list[str]:
    """Expand ``{000..099}`` ranges (zero-padded like the first bound) and ``{a,b}`` lists.

    Raises:
        ValueError: a range runs backwards.
    """
    match = _BRACES.search(pattern)
    if match is None:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    if match.group(3) is not None:
        choices = match.group(3).split(",")
    else:
        low, high = match.group(1), match.group(2)
        if int(high) < int(low):
            raise ValueError(f"{pattern}: brace range {{{low}..{high}}} runs backwards")
        choices = [f"{n:0{len(low)}d}" for n in range(int(low), int(high) + 1)]
    return [expanded for choice in choices for expanded in expand_braces(head + choice + tail)]


def local_shards(urls: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    """The local tar files that shards, patterns or lists of them name (URLs left out)."""
    patterns = [urls] if isinstance(urls, (str, os.PathLike)) else list(urls)
    return [u for pattern in patterns for u in expand_braces(os.fspath(pattern)) if not is_url(u)]


def _open_shard(url: str) -> IO[bytes]:
    if "://" in url and not url.startswith("file://"):
        from ..extras import require

        fsspec = require("fsspec", "remote", "reading WebDataset shards from a URL")
        return fsspec.open(url, "rb").open()
    try:
        return open(url.removeprefix("file://"), "rb")
    except OSError as exc:
        raise ImportDataError(f"{url}: cannot open the shard: {exc.strerror or exc}") from None


def _split_name(name: str) -> tuple[str, str] | None:
    folder, _, base = name.rpartition("/")
    stem, dot, extension = base.partition(".")
    if not dot or not stem:
        return None
    return (f"{folder}/{stem}" if folder else stem), extension.lower()


def iter_tar_groups(url: str) -> Iterator[tuple[str, dict[str, bytes]]]:
    """Yield ``(tar key, {extension: bytes})`` for each group of consecutive members of one shard.

    Folders, links and other non-file members are skipped, as are names without an extension and
    hidden files; nothing is ever extracted to disk.

    Raises:
        ImportDataError: the shard is not a readable tar file, or a member repeats within a group.
    """
    with _open_shard(url) as stream:
        try:
            archive = tarfile.open(fileobj=stream, mode="r|*")
        except tarfile.TarError as exc:
            raise ImportDataError(f"{url}: not a tar file ({exc})") from None
        key: str | None = None
        fields: dict[str, bytes] = {}
        try:
            for member in archive:
                if not member.isfile() or os.path.basename(member.name).startswith("."):
                    continue
                split = _split_name(member.name)
                if split is None:
                    continue
                if member.size > MAX_MEMBER:
                    raise ImportDataError(
                        f"{url}: member {member.name}: {member.size} bytes, more than one sample can hold"
                    )
                if split[0] != key:
                    if key is not None:
                        yield key, fields
                    key, fields = split[0], {}
                if split[1] in fields:
                    raise ImportDataError(f"{url}: member {member.name} repeats extension {split[1]!r} of key {key!r}")
                extracted = archive.extractfile(member)
                fields[split[1]] = extracted.read() if extracted is not None else b""
        except tarfile.TarError as exc:
            raise ImportDataError(f"{url}: damaged tar file ({exc})") from None
        if key is not None:
            yield key, fields


def _decode(extension: str, data: bytes, where: str) -> tuple[str, Any]:
    """The field name and value of one member."""
    name, _, kind = extension.rpartition(".")
    if not name:
        if kind in IMAGE_EXTENSIONS:
            return "image", data
        if kind == "cls":
            return "label", _int(data, where)
        name = kind
    try:
        if kind in ("txt", "text"):
            return name, data.decode("utf-8")
        if kind == "cls":
            return name, _int(data, where)
        if kind == "json":
            return name, json.loads(data.decode("utf-8"))
        if kind == "npy":
            return name, np.load(io.BytesIO(data), allow_pickle=False)
        if kind in ("msgpack", "mp"):
            return name, unpackb(data)
    except (UnicodeDecodeError, ValueError, OSError, FormatError) as exc:
        raise ImportDataError(f"{where}: cannot decode ({exc})") from None
    return (name, data) if kind == "bin" else (extension, data)


def _int(data: bytes, where: str) -> int:
    try:
        return int(data.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise ImportDataError(f"{where}: not an integer class label: {data[:40]!r}") from None


def decode_fields(tar_key: str, fields: dict[str, bytes], where: str, classes: ClassList) -> dict[str, Any]:
    """Turn one tar group into a sample (see the module's description).

    Raises:
        ImportDataError: a member does not decode, two members give the same field, or a label
            is outside the class list; the message names the member.
    """
    sample: dict[str, Any] = {"key": tar_key}
    if "key" in fields:
        sample["key"] = fields["key"].decode("utf-8", errors="strict")
    for extension, data in fields.items():
        if extension == "key":
            continue
        member = f"{where}: member {tar_key}.{extension}"
        name, value = _decode(extension, data, member)
        if name in sample:
            raise ImportDataError(f"{member}: a second member for field {name!r}")
        if name == "label":
            value = classes.label(value, member)
        sample[name] = value
    return sample


def webdataset_source(urls: str | Sequence[str], *, labels: Labels = None) -> Source:
    """The samples of WebDataset shards (see :func:`import_webdataset`), read as they are written."""
    shards = [u for pattern in ([urls] if isinstance(urls, str) else urls) for u in expand_braces(pattern)]
    if not shards:
        raise ValueError("no WebDataset shards given")
    classes = ClassList.collect((), labels)

    def groups() -> Iterator[tuple[str, str, dict[str, bytes]]]:
        for url in shards:
            for key, fields in iter_tar_groups(url):
                yield url, key, fields

    def load(item: tuple[str, str, dict[str, bytes]]) -> Loaded:
        url, key, fields = item
        return f"{url}: member {key}.*", decode_fields(key, fields, url, classes)

    name = os.path.basename(shards[0]) + (f" (+{len(shards) - 1} shards)" if len(shards) > 1 else "")
    return Source(groups(), load, name, None, classes.names, reads_files=False)


def import_webdataset(
    urls: str | Sequence[str], output: str | os.PathLike, *, labels: Labels = None, **options: Any
) -> ImportResult:
    """Import WebDataset tar shards (local paths or fsspec URLs; ``{000..099}`` patterns expand).

    Members are grouped by key and turned into fields by extension (see
    :mod:`dings.tools.importing.webdataset`): ``jpg``/``png``/… → ``image``, ``cls`` → ``label``,
    ``txt``/``json``/``npy``/``msgpack`` decoded, anything else bytes. Shards are read with the
    standard library's tarfile, streaming, one after the other.

    Args:
        urls: a shard, a brace pattern (``"train-{000000..000099}.tar"``) or a list of them;
            ``s3://``, ``https://`` and other fsspec URLs need ``dings-tools[remote]``.
        output: the dataset to write.
        labels: the class list (a file with one name a line, or the names); ``cls`` labels must
            then lie inside it, and the names are recorded.
        options: see :func:`import_samples`.

    Raises:
        ImportDataError: a shard that is not a tar file, a member that does not decode, a
            duplicate key or a label outside the class list; the message names shard and member.
    """
    check_source_output(output, options.get("shard_size"), local_shards(urls), labels=labels)
    return run_import(webdataset_source(urls, labels=labels), output, **options)
