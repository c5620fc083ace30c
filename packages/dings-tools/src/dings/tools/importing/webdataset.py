"""Import WebDataset tar shards, read with the standard library's :mod:`tarfile`.

Members are grouped into samples by key (the member path up to the first dot of its file name) and
become fields by extension (the rest of the name, lower case), as the ``webdataset`` package does:

- an image extension alone (``jpg``, ``png`` …) → ``image`` (bytes); ``cls`` → ``label`` (int);
- ``NAME.txt`` → ``NAME`` (str), ``NAME.json`` → decoded JSON, ``NAME.npy`` → numpy array (no
  pickle), ``NAME.msgpack``/``NAME.mp`` → decoded msgpack (dings' safe unpacking), ``NAME.bin``
  → bytes; ``NAME.cls`` → ``NAME`` (int); a bare ``txt``/``json``/… keeps its extension as the name;
- any other extension → a field of that name holding the bytes;
- a ``key`` member holds the sample's key when it differs from the tar key (written by
  :func:`dings.tools.export_webdataset` for keys that contain a dot);
- a first member ``__dings__`` (JSON ``{"label_names": [...]}``, written by
  :func:`dings.tools.export_webdataset`) gives the label names; the ``webdataset`` package
  skips such ``__…__`` members.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import re
import tarfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any

import numpy as np

from dings.format import FormatError, parse_json, unpackb
from dings.readers import MAX_EXPANSION, expand_braces, is_url

from .classes import ClassList, Labels, read_class_list
from .core import ImportDataError, ImportResult, Loaded, Source, check_source_output, run_import
from .files import IMAGE_SUFFIXES, MAX_FILE_SIZE
from .kinds import Partitions, SourceKind, SourceOption, refuse_shuffle, register_source_kind

__all__ = [
    "MAX_EXPANSION",
    "METADATA_MEMBER",
    "MAX_MEMBER_SIZE",
    "decode_fields",
    "expand_braces",
    "import_webdataset",
    "iter_tar_groups",
    "stored_label_names",
    "webdataset_source",
]

IMAGE_EXTENSIONS = frozenset(s.lstrip(".") for s in IMAGE_SUFFIXES)
#: the largest member read by default (``max_member_size``), in bytes
MAX_MEMBER_SIZE = 1 << 30
#: the most bytes of tar headers (long names, pax records, sparse maps) read for one member
MAX_HEADER_BYTES = 16 << 20
#: the member, first in a shard, that holds ``{"label_names": [...]}`` (see the module's description)
METADATA_MEMBER = "__dings__"


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


class _OverBudget(Exception):
    """tarfile asked for more bytes than the member being read may take."""


class _Reader(io.RawIOBase):
    """``head``, then the rest of ``stream``; with :meth:`allow`, at most the bytes granted."""

    def __init__(self, head: bytes, stream: IO[bytes] | io.BufferedIOBase) -> None:
        self.head = head
        self.stream = stream
        self.left: float = float("inf")

    def readable(self) -> bool:
        return True

    def allow(self, size: int) -> None:
        """Serve ``size`` bytes (a member's data) and :data:`MAX_HEADER_BYTES` (the headers after it)."""
        self.left = size + MAX_HEADER_BYTES

    def read(self, size: int | None = -1) -> bytes:
        if self.left <= 0:
            raise _OverBudget
        wanted = int(self.left if size is None or size < 0 else min(size, self.left))
        if self.head:
            data, self.head = self.head[:wanted], self.head[wanted:]
        else:
            data = self.stream.read(wanted)
        self.left -= len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)


_COMPRESSED: tuple[tuple[bytes, Callable[[Any], io.BufferedIOBase]], ...] = (
    (b"\x1f\x8b", lambda f: gzip.GzipFile(fileobj=f, mode="rb")),
    (b"BZh", lambda f: bz2.BZ2File(f, mode="rb")),
    (b"\xfd7zXZ\x00", lambda f: lzma.LZMAFile(f, mode="rb")),
)


def _tar_bytes(stream: IO[bytes]) -> _Reader:
    """The tar stream of a plain, gzip, bzip2 or xz shard (decompressed as it is read), bounded."""
    head = stream.read(6)
    reader = _Reader(head, stream)
    for magic, opener in _COMPRESSED:
        if head.startswith(magic):
            reader = _Reader(b"", opener(reader))
            break
    reader.allow(0)
    return reader


def _split_name(name: str) -> tuple[str, str] | None:
    folder, _, base = name.rpartition("/")
    stem, dot, extension = base.partition(".")
    if not dot or not stem:
        return None
    return (f"{folder}/{stem}" if folder else stem), extension.lower()


def iter_tar_groups(url: str, max_member_size: int = MAX_MEMBER_SIZE) -> Iterator[tuple[str, dict[str, bytes]]]:
    """Yield ``(tar key, {extension: bytes})`` for each group of consecutive members of one shard.

    Folders, links and other non-file members are skipped, as are names without an extension and
    hidden files; nothing is ever extracted to disk. The shard is streamed (gzip, bzip2 and xz
    are decompressed as they are read) and bounded: a member whose header declares more than
    ``max_member_size`` bytes is refused before it is read, as is one that takes the members of
    its sample together over it, and the headers before a member (long names, pax records) may
    take at most :data:`MAX_HEADER_BYTES`.

    Args:
        url: the shard (a path or an fsspec URL).
        max_member_size: the most bytes of one member, and of one sample's members together
            (at most 4 GiB - 1: one msgpack value).

    Raises:
        ImportDataError: the shard is not a readable tar file, a member is larger than
            ``max_member_size``, headers are too long, or a member repeats within a group; the
            message names the shard and the member.
        ValueError: ``max_member_size`` is not a positive int.
    """
    if isinstance(max_member_size, bool) or not isinstance(max_member_size, int) or max_member_size < 1:
        raise ValueError(f"max_member_size must be a positive number of bytes, got {max_member_size!r}")
    limit = min(max_member_size, MAX_FILE_SIZE)
    with _open_shard(url) as stream:
        key: str | None = None
        fields: dict[str, bytes] = {}
        held = 0  # bytes of the members of ``key``
        last = ""
        try:
            tar = _tar_bytes(stream)
            archive = tarfile.open(fileobj=tar, mode="r|")
        except _OverBudget:
            raise ImportDataError(
                f"{url}: not a tar file (its first headers take more than {MAX_HEADER_BYTES >> 20} MiB)"
            ) from None
        except (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            raise ImportDataError(f"{url}: not a tar file ({exc})") from None
        try:
            while (member := archive.next()) is not None:
                # a stream's members are never needed again: keep memory flat over millions of them
                archive.members.clear()  # type: ignore[attr-defined]  # not in the stubs
                last = f"member {member.name}"
                if member.size > limit:
                    raise ImportDataError(
                        f"{url}: member {member.name}: {member.size} bytes, more than max_member_size ({limit}); "
                        "raise the limit (--max-member-size) if the member is genuine"
                    )
                tar.allow(member.size)
                if not member.isfile() or os.path.basename(member.name).startswith("."):
                    continue
                split = _split_name(member.name)
                if split is None:
                    continue
                if split[0] != key:
                    if key is not None:
                        yield key, fields
                    key, fields, held = split[0], {}, 0
                if split[1] in fields:
                    raise ImportDataError(f"{url}: member {member.name} repeats extension {split[1]!r} of key {key!r}")
                held += member.size
                if held > limit:
                    raise ImportDataError(
                        f"{url}: member {member.name}: the members of sample {key!r} take more than max_member_size "
                        f"({limit}) together; raise the limit (--max-member-size) if the sample is genuine"
                    )
                extracted = archive.extractfile(member)
                fields[split[1]] = extracted.read(member.size) if extracted is not None else b""
        except _OverBudget:
            raise ImportDataError(
                f"{url}: tar headers after {last} take more than {MAX_HEADER_BYTES >> 20} MiB; "
                "the shard is damaged or hostile"
            ) from None
        except (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            raise ImportDataError(f"{url}: damaged tar file ({exc})") from None
        if key is not None:
            yield key, fields


def stored_label_names(url: str, max_member_size: int = MAX_MEMBER_SIZE) -> list[str] | None:
    """The label names kept in the shard's first member ``__dings__``; ``None`` without one.

    A shard that is not a readable tar file gives ``None`` here (reading its samples names the
    damage).

    Raises:
        ImportDataError: the member is larger than ``max_member_size`` or is not JSON
            ``{"label_names": [names…] or null}`` with each name once; the message names it.
    """
    where = f"{url}: member {METADATA_MEMBER}"
    with _open_shard(url) as stream:
        try:
            tar = _tar_bytes(stream)
            archive = tarfile.open(fileobj=tar, mode="r|")
            member = archive.next()
            if member is None or member.name != METADATA_MEMBER or not member.isfile():
                return None
            if member.size > min(max_member_size, MAX_FILE_SIZE):
                raise ImportDataError(f"{where}: {member.size} bytes, more than max_member_size; the shard is damaged")
            tar.allow(member.size)
            extracted = archive.extractfile(member)
            data = extracted.read(member.size) if extracted is not None else b""
        except (_OverBudget, tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError):
            return None
    stored = parse_json(data, where, ImportDataError)
    names = stored.get("label_names") if isinstance(stored, dict) else []
    if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise ImportDataError(
            f'{where}: not {{"label_names": [names…]}}; the shard is damaged (pass --labels to give the classes)'
        )
    try:
        return read_class_list(names)
    except ValueError as exc:
        raise ImportDataError(f"{where}: {exc}") from None


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
            return name, parse_json(data, where, ImportDataError)
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


def webdataset_source(
    urls: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    labels: Labels = None,
    max_member_size: int = MAX_MEMBER_SIZE,
) -> Source:
    """The samples of WebDataset shards (see :func:`import_webdataset`), read as they are written."""
    patterns = [urls] if isinstance(urls, (str, os.PathLike)) else urls
    shards = [u for pattern in patterns for u in expand_braces(os.fspath(pattern))]
    if not shards:
        raise ValueError("no WebDataset shards given")
    classes = ClassList.collect((), labels) if labels is not None else ClassList(stored_label_names(shards[0]))

    def groups() -> Iterator[tuple[str, str, dict[str, bytes]]]:
        for url in shards:
            for key, fields in iter_tar_groups(url, max_member_size):
                yield url, key, fields

    def load(item: tuple[str, str, dict[str, bytes]]) -> Loaded:
        url, key, fields = item
        return f"{url}: member {key}.*", decode_fields(key, fields, url, classes)

    name = os.path.basename(shards[0]) + (f" (+{len(shards) - 1} shards)" if len(shards) > 1 else "")
    return Source(groups(), load, name, None, classes.names, reads_files=False)


def import_webdataset(
    urls: str | os.PathLike | Sequence[str | os.PathLike],
    output: str | os.PathLike,
    *,
    labels: Labels = None,
    max_member_size: int = MAX_MEMBER_SIZE,
    **options: Any,
) -> ImportResult:
    """Import WebDataset tar shards (local paths or fsspec URLs; ``{000..099}`` patterns expand).

    Members are grouped by key and turned into fields by extension (see
    :mod:`dings.tools.importing.webdataset`): ``jpg``/``png``/… → ``image``, ``cls`` → ``label``,
    ``txt``/``json``/``npy``/``msgpack`` decoded, anything else bytes. Shards are read with the
    standard library's tarfile, streaming, one after the other; a member is read only when its
    header declares at most ``max_member_size`` bytes.

    Args:
        urls: a shard, a brace pattern (``"train-{000000..000099}.tar"``) or a list of them;
            ``s3://``, ``https://`` and other fsspec URLs need ``dings-tools[remote]``.
        output: the dataset to write.
        labels: the class list (a file with one name a line, or the names); ``cls`` labels must
            then lie inside it, and the names are recorded. Without it, the label names of the
            first shard's ``__dings__`` member (written by :func:`dings.tools.export_webdataset`).
        max_member_size: the most bytes read for one member, and for the members of one sample
            together (default 1 GiB; at most 4 GiB - 1, what one msgpack value holds); a larger
            member is refused before it is read.
        options: see :func:`import_samples`.

    Raises:
        ImportDataError: a shard that is not a tar file, a member larger than
            ``max_member_size``, a member that does not decode (JSON nested too deeply
            included), a duplicate key or a label outside the class list; the message names
            shard and member.
        ValueError: a brace pattern expands to more than 1,000,000 names.
    """
    check_source_output(output, options.get("shard_size"), local_shards(urls), labels=labels)
    source = webdataset_source(urls, labels=labels, max_member_size=max_member_size)
    return run_import(source, output, **options)


_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def byte_size(text: str) -> int:
    """A positive number of bytes, optionally with a unit (``512KiB``, ``2GiB``), from the command line."""
    match = re.fullmatch(r"\s*(\d+)\s*(?:([kmg])i?b?|(b))?\s*", text, re.IGNORECASE)
    if match is None or int(match.group(1)) < 1:
        raise ValueError(f"expected a size such as 1048576, 512KiB or 2GiB, got {text!r}")
    return int(match.group(1)) * _UNITS[(match.group(2) or match.group(3) or "").lower()]


class _TarGroups:
    """Partition opener: the member groups of one WebDataset tar file."""

    def __init__(self, labels: Labels, options: dict[str, Any]) -> None:
        self.labels = labels
        self.options = options

    def __call__(self, payload: Sequence[str]) -> tuple[Iterator[Any], Callable[[Any], Loaded]]:
        src = webdataset_source(list(payload), labels=self.labels, **self.options)
        return iter(src.items), src.load


def _partition_shards(
    kind: SourceKind, source: str, size: int, *, shuffle: bool, seed: int, labels: Labels, options: dict[str, Any]
) -> Partitions:
    """One tar file a partition (``size`` does not apply: a tar file is read in order); every task
    gets the class list of the whole source (given, or stored in the first shard)."""
    if shuffle:
        refuse_shuffle(kind)
    names = webdataset_source(source, labels=labels, **options).label_names
    shards = expand_braces(source)
    return Partitions([[url] for url in shards], _TarGroups(labels if labels is not None else names, options), names)


def _is_shards(text: str) -> bool:
    """Tar shards: a tar file, a brace pattern or URL of them."""
    return text.lower().endswith(TAR_SUFFIXES) and ("://" in text or "{" in text or os.path.isfile(text))


#: what a tar shard's name ends with
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")

WEBDATASET = register_source_kind(
    SourceKind(
        "webdataset",
        detect=_is_shards,
        source=webdataset_source,
        importer=import_webdataset,
        partition=_partition_shards,
        inputs=lambda source, options: (local_shards(source), []),
        suffixes=(".tar",),
        options=(
            SourceOption(
                "--max-member-size",
                "max_member_size",
                "refuse tar members larger than this, before reading them (bytes, or with KiB/MiB/GiB; default 1GiB)",
                type=byte_size,
                metavar="SIZE",
            ),
        ),
    )
)
