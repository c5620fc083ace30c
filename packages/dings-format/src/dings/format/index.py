"""Index files of a dataset: offsets, keys, key hashes, Bloom filter, md5 and the legacy index.

Every function accepts the data file path or the index file path itself; the right suffix is used.
Loaders check what they read and raise :class:`CorruptIndexError` naming the file when it is
truncated or malformed, so a damaged index never crashes deep in numpy and never allocates more
than the file's size suggests.

Index files are untrusted (datasets are downloaded from strangers): every loader opens them with
:func:`open_index_file` (regular files only; a FIFO never blocks the open) and checks the size
against what the data file allows (:func:`index_size_limit`) before it reads a byte, so a symlink
to ``/dev/zero``, a FIFO or a sparse file of many GiB is a clear error, not a hang or a
``MemoryError``.
"""

from __future__ import annotations

import hashlib
import math
import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import msgpack
import numpy as np
import simplebloom

from .errors import CorruptIndexError, KeyHashCollisionError
from .paths import INDEX_SUFFIXES, LABEL_NAMES_SUFFIX, LEGACY_INDEX_SUFFIX, MD5_SUFFIX, data_path, index_path
from .progress import progress_bar

__all__ = [
    "hash_string",
    "hash_keys",
    "hash_many",
    "make_salt",
    "pack_offsets",
    "pack_keys",
    "pack_key_hashes",
    "pack_filter",
    "write_offsets",
    "write_keys",
    "write_key_hashes",
    "write_filter",
    "write_md5",
    "load_offsets",
    "load_keys",
    "load_key_hashes",
    "load_filter",
    "load_md5",
    "keys_len",
    "legacy_index_len",
    "legacy_load_index",
    "md5_file",
    "open_index_file",
    "read_index_bytes",
    "index_size_limit",
    "offsets_len",
    "check_index_size",
    "offsets_count",
    "parse_offsets",
    "parse_keys",
    "parse_key_hashes",
    "key_hashes_size",
    "parse_filter",
    "parse_legacy_index",
]

PathLike = str | os.PathLike
_SALT_SIZE = 8
_HASH_SIZE = 8
_BLOOM_MAGIC = b"SIMPBLOO"
_BLOOM_HEADER = 32
#: the md5 file lists a handful of files; anything larger is not one
MAX_MD5_SIZE = 1 << 16
#: a label-names sidecar larger than this is refused (it is read into memory)
MAX_LABEL_NAMES_SIZE = 64 << 20


def make_salt(attempt: int) -> bytes:
    """Return the salt for try number ``attempt`` (0, 1, …): the first 8 bytes of blake2s(str(attempt))."""
    return hashlib.blake2s(str(attempt).encode("utf-8")).digest()[:_SALT_SIZE]


def hash_string(key: str, salt: bytes = b"") -> int:
    """Return the 64-bit key hash: the first 8 bytes of salted blake2s, read big-endian.

    Args:
        key: the sample key.
        salt: 8-byte salt, see :func:`make_salt`.
    """
    return int.from_bytes(hashlib.blake2s(key.encode("utf-8"), salt=salt).digest()[:_HASH_SIZE], "big")


def hash_many(keys: Sequence[str], salt: bytes) -> np.ndarray:
    """Return the salted hashes of all keys as a big-endian uint64 array (see :func:`hash_string`)."""
    blake2s = hashlib.blake2s
    digests = b"".join([blake2s(k.encode("utf-8"), salt=salt).digest()[:_HASH_SIZE] for k in keys])
    return np.frombuffer(digests, dtype=">u8")


def hash_keys(keys: Sequence[str], max_tries: int = 1000) -> tuple[bytes, np.ndarray]:
    """Hash all keys with the first salt that makes every hash distinct.

    Args:
        keys: the dataset's keys in sample order.
        max_tries: how many salts to try before giving up.

    Returns:
        The salt and the hashes (big-endian uint64 array, in key order).

    Raises:
        KeyHashCollisionError: (a ``RuntimeError`` and ``ValueError``) when no salt gave distinct
            hashes, e.g. because keys repeat.
    """
    for attempt in range(max_tries):
        salt = make_salt(attempt)
        hashes = hash_many(keys, salt)
        if len(np.unique(hashes)) == len(hashes):
            return salt, hashes
    raise KeyHashCollisionError(
        f"no salt among {max_tries} tries gives distinct hashes for {len(keys)} keys; are keys unique?"
    )


# --- packing index content to bytes (the writers use these, then write and hash the bytes) ---


def pack_offsets(offsets: Sequence[int] | np.ndarray) -> bytes:
    """Return the content of a ``.offsets`` file: unsigned 64-bit big-endian integers."""
    return np.asarray(offsets, dtype=np.uint64).astype(">u8").tobytes()


def pack_keys(keys: Sequence[str]) -> bytes:
    """Return the content of a ``.keys`` file: one msgpack array of str."""
    return msgpack.packb(list(keys), use_bin_type=True)


def pack_key_hashes(keys: Sequence[str]) -> bytes:
    """Return the content of a ``.key_hashes`` file: the salt, then the hashes (see :func:`hash_keys`)."""
    salt, hashes = hash_keys(keys)
    return salt + hashes.tobytes()


def pack_filter(keys: Iterable[str], num_keys: int) -> bytes:
    """Return the content of a ``.filter`` file: a simplebloom filter holding every key.

    Args:
        keys: the dataset's keys in sample order.
        num_keys: how many keys there are (sizes the filter).
    """
    bloom = simplebloom.BloomFilter(max(2, num_keys))
    for key in keys:
        bloom += key
    return bloom.dumps()


def _write(content: bytes, path: PathLike, suffix: str) -> Path:
    target = index_path(path, suffix)
    target.write_bytes(content)
    return target


def write_offsets(offsets: Sequence[int], path: PathLike) -> Path:
    """Write sample start offsets (N+1 values: 0 … data size) and return the path written."""
    return _write(pack_offsets(offsets), path, ".offsets")


def write_keys(keys: Sequence[str], path: PathLike) -> Path:
    """Write the keys file and return the path written."""
    return _write(pack_keys(keys), path, ".keys")


def write_key_hashes(keys: Sequence[str], path: PathLike) -> Path:
    """Hash the keys (see :func:`hash_keys`), write the key hashes file and return its path."""
    return _write(pack_key_hashes(keys), path, ".key_hashes")


def write_filter(keys: Sequence[str], path: PathLike) -> Path:
    """Write a Bloom filter of the keys and return the path written."""
    return _write(pack_filter(keys, len(keys)), path, ".filter")


def md5_file(path: PathLike, chunk_size: int = 1 << 22, progress: bool | None = False) -> str:
    """Return the md5 hex digest of a file, read in large chunks.

    Args:
        path: the file.
        chunk_size: bytes per read.
        progress: show a progress bar while hashing, removed when done (``None``: when stderr is a
            terminal).
    """
    md5 = hashlib.md5()
    with open(path, "rb", buffering=0) as f:
        total = os.fstat(f.fileno()).st_size
        with progress_bar(total=total, desc=f"md5 {Path(path).name}", unit="B", enabled=progress, leave=False) as bar:
            while chunk := f.read(chunk_size):
                md5.update(chunk)
                bar.update(len(chunk))
    return md5.hexdigest()


def write_md5(path: PathLike, digests: dict[str, str] | None = None) -> Path:
    """Write the ``.md5`` file of a dataset and return its path.

    Args:
        path: the data file or any index file.
        digests: file name → md5 hex digest; missing entries are computed from the files, in the
            order data, offsets, keys, key_hashes, filter.
    """
    data = data_path(path)
    digests = dict(digests or {})
    ordered = {}
    for file in [data] + [index_path(data, s) for s in INDEX_SUFFIXES]:
        if file.name not in digests:
            if not file.exists():
                continue
            digests[file.name] = md5_file(file)
        ordered[file.name] = digests[file.name]
    return _write(md5_content(ordered), data, MD5_SUFFIX)


def md5_content(digests: dict[str, str]) -> bytes:
    """The bytes of an ``.md5`` file: one ``<digest>  <file name>`` line per entry, in the given order."""
    return "".join(f"{digest}  {name}\n" for name, digest in digests.items()).encode("utf-8")


def parse_md5(content: bytes | str, where: str) -> dict[str, str]:
    """Parse the content of an ``.md5`` file as file name → lower-case hex digest.

    Args:
        content: the file's bytes or text.
        where: the file's path or URL, named in errors.

    Raises:
        CorruptIndexError: not UTF-8, or a line is not ``<32 hex digits>  <name>``.
    """
    try:
        text = content.decode("utf-8") if isinstance(content, bytes) else content
    except UnicodeDecodeError:
        raise CorruptIndexError(f"{where}: not a text file of md5 sums (invalid UTF-8)", path=where) from None
    result = {}
    for number, line in enumerate(text.splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 32 or not name or any(c not in "0123456789abcdef" for c in digest.lower()):
            raise CorruptIndexError(
                f"{where}:{number}: expected '<md5 hex>  <file name>', got {line[:80]!r}", path=where
            )
        result[name] = digest.lower()
    return result


def load_md5(path: PathLike) -> dict[str, str]:
    """Load the ``.md5`` file as file name → hex digest.

    Raises:
        CorruptIndexError: when a line is not ``<32 hex digits>  <name>``, or the file is not a
            regular file of at most 64 KiB.
    """
    target = index_path(path, MD5_SUFFIX)
    return parse_md5(read_index_bytes(target, MAX_MD5_SIZE), str(target))


# --- untrusted index files: regular files only, sizes checked before reading ---


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "not a regular file"


def open_index_file(path: PathLike) -> BinaryIO:
    """Open an index file for reading, refusing anything but a regular file.

    The file is opened non-blocking, so a FIFO never blocks the open, then checked with
    ``fstat``: a FIFO, a device (e.g. a symlink to ``/dev/zero``), a socket or a folder is refused.

    Args:
        path: the index file (symlinks are followed).

    Raises:
        FileNotFoundError: the file is missing.
        CorruptIndexError: it is not a regular file.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise CorruptIndexError(
                f"{path}: is {_kind(mode)}, not a regular file; an index file must be a regular file: "
                "restore the dataset's index files",
                path=path,
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")  # owns the fd from here on (also if interrupted inside)


def read_index_bytes(path: PathLike, max_size: int | None = None, *, what: str = "") -> bytes:
    """Read a whole index file after checking that it is a regular file of at most ``max_size`` bytes.

    Args:
        path: the index file.
        max_size: the largest size the file may have (see :func:`index_size_limit`); ``None``: any.
        what: why that is the limit, for the error message (e.g. ``"for a data file of 7 bytes"``).

    Raises:
        FileNotFoundError: the file is missing.
        CorruptIndexError: it is not a regular file, or larger than ``max_size``.
    """
    with open_index_file(path) as f:
        size = os.fstat(f.fileno()).st_size
        check_index_size(path, size, max_size, what)
        return f.read(size)  # never more than was checked, even if the file grows meanwhile


def check_index_size(where: PathLike, size: int, max_size: int | None, what: str = "") -> None:
    """Refuse an index file of ``size`` bytes that is larger than ``max_size`` (checked before reading it).

    Args:
        where: the index file's path or URL, for the message.
        size: its size in bytes.
        max_size: the largest size it may have (see :func:`index_size_limit`); ``None``: any.
        what: why that is the limit, for the message (e.g. ``"for a data file of 7 bytes"``).

    Raises:
        CorruptIndexError: ``size`` is larger than ``max_size``.
    """
    if max_size is not None and size > max_size:
        raise CorruptIndexError(
            f"{where}: {size} bytes, more than the {max_size} an index file can have{' ' + what if what else ''}; "
            "the index is damaged: run `dings verify` or restore it",
            path=where,
        )


def _filter_size(count: int) -> int:
    """Bytes of the Bloom filter datadings writes for ``count`` keys (FORMAT.md: ``BloomFilter(max(2, N))``)."""
    n = max(2, count)
    return _BLOOM_HEADER + math.ceil(n * math.log(n) / math.log(2) ** 2 / 8) + 8


def index_size_limit(suffix: str, data_size: int, length: int | None = None) -> int:
    """The largest size an index file can have next to a data file of ``data_size`` bytes.

    Every sample takes at least one byte of the data file, so there are at most ``data_size``
    samples, and every key is stored inside its sample, so all keys together take at most
    ``data_size`` bytes.

    The md5 file and the label-names sidecar (``".labels.json"``) have fixed limits.

    Args:
        suffix: the index file's suffix (``".offsets"``, ``".keys"``, ``".key_hashes"``,
            ``".filter"``, ``".crc32"``, ``".md5"``, ``".index"``, ``".labels.json"``).
        data_size: the data file's size in bytes.
        length: the number of samples, when known (tightens the limit).

    Raises:
        ValueError: ``suffix`` is none of these.
    """
    n = data_size if length is None else min(length, data_size)
    limits = {
        ".offsets": 8 * (n + 1),
        ".key_hashes": _SALT_SIZE + _HASH_SIZE * n,
        ".crc32": 4 * n,
        ".keys": 5 + 5 * n + data_size,  # array header, a str header per key, the keys' bytes
        LEGACY_INDEX_SUFFIX: 5 + 14 * n + data_size,  # map header, str header and int per entry, keys
        ".filter": 2 * _filter_size(n),
        MD5_SUFFIX: MAX_MD5_SIZE,
        LABEL_NAMES_SUFFIX: MAX_LABEL_NAMES_SIZE,
    }
    if suffix not in limits:
        raise ValueError(f"{suffix!r} is not an index file suffix; use one of {', '.join(limits)}")
    return limits[suffix]


def _data_size(path: PathLike) -> int | None:
    """The size of the data file next to an index file, or None when there is none."""
    try:
        return os.stat(data_path(path)).st_size
    except FileNotFoundError:
        return None


def _read(path: PathLike, suffix: str, data_size: int | None = None, length: int | None = None) -> tuple[Path, bytes]:
    """Read an index file, refusing one larger than the data file (its size by default) allows."""
    target = index_path(path, suffix)
    if data_size is None:
        data_size = _data_size(path)
    if data_size is None:  # no data file here to bound the index by
        return target, read_index_bytes(target, MAX_MD5_SIZE if suffix == MD5_SUFFIX else None)
    samples = "" if length is None else f" and {length} samples"
    what = f"for a data file of {data_size} bytes{samples}"
    return target, read_index_bytes(target, index_size_limit(suffix, data_size, length), what=what)


def _offsets_count(f: BinaryIO, target: Path, data_size: int | None) -> int:
    """Check an open offsets file's size, and its last offset against the data size; return N."""
    size = os.fstat(f.fileno()).st_size
    count = offsets_count(target, size, None, data_size)
    if data_size is not None:
        f.seek(size - 8)
        offsets_count(target, size, f.read(8), data_size)
    return count


def offsets_count(where: PathLike, size: int, last: bytes | None, data_size: int | None) -> int:
    """The number of samples an offsets file of ``size`` bytes holds, checked against the data.

    The size must be a positive multiple of 8, the count at most ``data_size`` (every sample takes
    at least one byte) and the last offset (``last``, the file's last 8 bytes) ``data_size``.

    Args:
        where: the offsets file's path or URL, for messages.
        size: its size in bytes.
        last: its last 8 bytes, or None to check only the size.
        data_size: the data file's size, or None to check only the size.

    Raises:
        CorruptIndexError: the size or the last offset does not fit the data.
    """
    if size % 8 or not size:
        raise CorruptIndexError(
            f"{where}: size {size} is not a positive multiple of 8; the offsets file is truncated", path=where
        )
    count = size // 8 - 1
    if data_size is None:
        return count
    if count > data_size:
        raise CorruptIndexError(
            f"{where}: {size} bytes declare {count} samples but the data file has only {data_size} bytes "
            "(every sample takes at least one); the offsets file is damaged: run `dings verify` or restore it",
            path=where,
        )
    if last is None:
        return count
    value = int.from_bytes(last, "big")
    if len(last) != 8 or value != data_size:
        raise CorruptIndexError(
            f"{where}: offsets do not match the data file: last offset {value} differs from data file size "
            f"{data_size}; run `dings verify` to see what is damaged",
            path=where,
        )
    return count


def parse_offsets(where: PathLike, content: bytes, data_size: int | None) -> np.ndarray:
    """The sample offsets in the content of an offsets file, checked like :func:`load_offsets`.

    Args:
        where: the offsets file's path or URL, for messages.
        content: the file's bytes.
        data_size: the data file's size, or None to check only the file's size.

    Raises:
        CorruptIndexError: the content does not fit the data.
    """
    offsets_count(where, len(content), content[-8:], data_size)
    return np.frombuffer(content, dtype=">u8").astype(np.uint64)


def offsets_len(path: PathLike, data_size: int | None = None) -> int:
    """Return the number of samples from the size of the ``.offsets`` file (reads its last 8 bytes).

    The size must be a positive multiple of 8, the count at most the data file's size (every
    sample takes at least one byte) and the last offset the data file's size; all is checked
    before anything is allocated for the offsets.

    Args:
        path: the data file or any of its index files.
        data_size: the data file's size; default: the size of the data file next to the index
            (without one, only the file size is checked).

    Raises:
        FileNotFoundError: the offsets file is missing.
        CorruptIndexError: it is not a regular file, or its size or last offset does not fit the data.
    """
    target = index_path(path, ".offsets")
    if data_size is None:
        data_size = _data_size(path)
    with open_index_file(target) as f:
        return _offsets_count(f, target, data_size)


def load_offsets(path: PathLike, data_size: int | None = None) -> np.ndarray:
    """Load sample start offsets (N+1 values, first 0, last the data file size) as a uint64 array.

    Args:
        path: the data file or any of its index files.
        data_size: the data file's size; default: the size of the data file next to the index.

    Raises:
        CorruptIndexError: when the file is not a regular file, its size is not a positive
            multiple of 8, it declares more samples than the data file has bytes, or its last
            offset is not the data file's size (all checked before reading it).
    """
    target = index_path(path, ".offsets")
    if data_size is None:
        data_size = _data_size(path)
    with open_index_file(target) as f:
        count = _offsets_count(f, target, data_size)
        f.seek(0)
        content = f.read(8 * (count + 1))
    if len(content) != 8 * (count + 1):
        raise CorruptIndexError(f"{target}: the file shrank while it was read; read it again", path=target)
    return parse_offsets(target, content, data_size)


def _unpack_index(target: PathLike, content: bytes, expected: type) -> Any:
    try:
        value = msgpack.unpackb(content, raw=False, strict_map_key=False, use_list=True)
    except Exception as exc:  # msgpack raises several exception types for broken input
        raise CorruptIndexError(f"{target}: not a valid msgpack {expected.__name__}: {exc}", path=target) from None
    if not isinstance(value, expected):
        raise CorruptIndexError(
            f"{target}: expected a msgpack {expected.__name__}, found {type(value).__name__}", path=target
        )
    return value


def load_keys(path: PathLike, data_size: int | None = None, length: int | None = None) -> list[str]:
    """Load the keys in sample order.

    Args:
        path: the data file or any of its index files.
        data_size: the data file's size, which bounds the file's size; default: the size of the
            data file next to the index.
        length: the number of samples, when known (bounds the file's size more tightly).

    Raises:
        CorruptIndexError: when the file is not one msgpack array of str, or larger than the
            data allows.
    """
    target, content = _read(path, ".keys", data_size, length)
    return parse_keys(target, content)


def parse_keys(where: PathLike, content: bytes) -> list[str]:
    """The keys in the content of a keys file (see :func:`load_keys`; ``where`` names it in messages).

    Raises:
        CorruptIndexError: the content is not one msgpack array of str.
    """
    keys = _unpack_index(where, content, list)
    if not all(isinstance(k, str) for k in keys):
        raise CorruptIndexError(f"{where}: every key must be a str", path=where)
    return keys


def load_key_hashes(
    path: PathLike, data_size: int | None = None, length: int | None = None
) -> tuple[bytes, np.ndarray]:
    """Load the salt and the key hashes (big-endian uint64 array in sample order).

    Args:
        path: the data file or any of its index files.
        data_size: the data file's size, which bounds the file's size; default: the size of the
            data file next to the index.
        length: the number of samples, when known: the file must hold exactly that many hashes
            (checked before reading).

    Raises:
        CorruptIndexError: when the file is shorter than the salt, not a whole number of hashes,
            or has not one hash per sample.
    """
    target = index_path(path, ".key_hashes")
    if length is not None:
        with open_index_file(target) as f:
            size = os.fstat(f.fileno()).st_size
        if size != key_hashes_size(length):
            raise CorruptIndexError(
                f"{target}: {size} bytes, expected {key_hashes_size(length)} for {length} samples; "
                "the key hashes are damaged: run `dings verify` or restore them",
                path=target,
            )
    target, content = _read(path, ".key_hashes", data_size, length)
    return parse_key_hashes(target, content)


def key_hashes_size(length: int) -> int:
    """The size of the key hashes file of ``length`` samples (the salt and one hash per sample)."""
    return _SALT_SIZE + _HASH_SIZE * length


def parse_key_hashes(where: PathLike, content: bytes, length: int | None = None) -> tuple[bytes, np.ndarray]:
    """The salt and key hashes in the content of a key hashes file (see :func:`load_key_hashes`).

    Args:
        where: the file's path or URL, for messages.
        content: its bytes.
        length: the number of samples, when known: the file must hold exactly that many hashes.

    Raises:
        CorruptIndexError: the content is shorter than the salt, not a whole number of hashes, or
            not one hash per sample.
    """
    if length is not None and len(content) != key_hashes_size(length):
        raise CorruptIndexError(
            f"{where}: {len(content)} bytes, expected {key_hashes_size(length)} for {length} samples; "
            "the key hashes are damaged: run `dings verify` or restore them",
            path=where,
        )
    if len(content) < _SALT_SIZE or (len(content) - _SALT_SIZE) % _HASH_SIZE:
        raise CorruptIndexError(
            f"{where}: size {len(content)} is not 8 + a multiple of 8; the file is truncated", path=where
        )
    return content[:_SALT_SIZE], np.frombuffer(content, dtype=">u8", offset=_SALT_SIZE)


def load_filter(path: PathLike, data_size: int | None = None, length: int | None = None) -> simplebloom.BloomFilter:
    """Load the Bloom filter of the keys.

    Args:
        path: the data file or any of its index files.
        data_size: the data file's size, which bounds the file's size; default: the size of the
            data file next to the index.
        length: the number of samples, when known (bounds the file's size more tightly).

    Raises:
        CorruptIndexError: when the file is not a simplebloom dump, or larger than a filter of
            that many keys.
    """
    target, content = _read(path, ".filter", data_size, length)
    return parse_filter(target, content)


def parse_filter(where: PathLike, content: bytes) -> simplebloom.BloomFilter:
    """The Bloom filter in the content of a filter file (see :func:`load_filter`; ``where`` names it).

    Raises:
        CorruptIndexError: the content is not a simplebloom dump.
    """
    target = where
    # a simplebloom dump starts with b"SIMPBLOO" and its own total size (uint64, big-endian);
    # simplebloom would zero-fill a truncated file, so check the size before trusting it
    if len(content) < 16 or not content.startswith(_BLOOM_MAGIC):
        raise CorruptIndexError(f"{target}: not a Bloom filter (simplebloom dump) file", path=target)
    declared = int.from_bytes(content[8:16], "big")
    if declared != len(content):
        raise CorruptIndexError(
            f"{target}: filter declares {declared} bytes but the file has {len(content)}; it is truncated or damaged",
            path=target,
        )
    try:
        return simplebloom.BloomFilter.loads(content)
    except Exception as exc:
        raise CorruptIndexError(f"{target}: not a valid Bloom filter: {exc}", path=target) from None


def _container_len(path: PathLike, suffix: str, kind: str) -> int:
    """Read only the msgpack array/map header at the start of an index file.

    The count is checked against the file sizes before anyone allocates for it: every entry
    takes at least one byte of the index file (two for a map) and every sample at least one
    byte of the data file.
    """
    target = index_path(path, suffix)
    with open_index_file(target) as f:
        head = f.read(5)
        size = os.fstat(f.fileno()).st_size
    if not head:
        raise CorruptIndexError(f"{target}: file is empty", path=target)
    first = head[0]
    if kind == "array":
        fix, short, long_, per_entry = (0x90, 0x9F), 0xDC, 0xDD, 1
    else:
        fix, short, long_, per_entry = (0x80, 0x8F), 0xDE, 0xDF, 2
    if fix[0] <= first <= fix[1]:
        count, header = first - fix[0], 1
    elif first == short and len(head) >= 3:
        count, header = int.from_bytes(head[1:3], "big"), 3
    elif first == long_ and len(head) >= 5:
        count, header = int.from_bytes(head[1:5], "big"), 5
    else:
        raise CorruptIndexError(f"{target}: does not start with a msgpack {kind} header", path=target)
    if count * per_entry > size - header:
        raise CorruptIndexError(
            f"{target}: header declares {count} entries but the file has only {size} bytes; it is damaged", path=target
        )
    try:
        data_size = os.stat(data_path(path)).st_size
    except OSError:
        data_size = None
    if data_size is not None and count > data_size:
        raise CorruptIndexError(
            f"{target}: declares {count} samples but the data file has only {data_size} bytes; the index is damaged",
            path=target,
        )
    return count


def keys_len(path: PathLike) -> int:
    """Return the dataset length from the header of the ``.keys`` file (reads at most 5 bytes)."""
    return _container_len(path, ".keys", "array")


def legacy_index_len(path: PathLike) -> int:
    """Return the dataset length from the header of a legacy ``.index`` file (reads at most 5 bytes)."""
    return _container_len(path, LEGACY_INDEX_SUFFIX, "map")


def legacy_load_index(path: PathLike, size: int | None = None) -> tuple[list[str], np.ndarray]:
    """Load a legacy ``.index`` file (map key → start offset) as keys and N+1 offsets.

    The last offset is the data file's size, as in :func:`load_offsets`.

    Args:
        path: the data file or the ``.index`` file.
        size: the data file's size; default: the size of the data file next to the index.

    Raises:
        CorruptIndexError: when the file is not a map of str → int in ascending offset order, or
            larger than the data allows (checked before reading).
    """
    target, content = _read(path, LEGACY_INDEX_SUFFIX, size)
    if size is None:
        size = data_path(path).stat().st_size
    return parse_legacy_index(target, content, size)


def parse_legacy_index(where: PathLike, content: bytes, size: int) -> tuple[list[str], np.ndarray]:
    """Keys and N+1 offsets in the content of a legacy ``.index`` file (see :func:`legacy_load_index`).

    Args:
        where: the file's path or URL, for messages.
        content: its bytes.
        size: the data file's size (the last offset).

    Raises:
        CorruptIndexError: the content is not a map of str → int in ascending offset order.
    """
    target = where
    mapping = _unpack_index(target, content, dict)
    keys = list(mapping.keys())
    if not all(isinstance(k, str) for k in keys):
        raise CorruptIndexError(f"{target}: every key must be a str", path=target)
    values = list(mapping.values())
    if not all(type(v) is int and v >= 0 for v in values):
        raise CorruptIndexError(f"{target}: every offset must be a non-negative int", path=target)
    offsets = np.array(values + [size], dtype=np.uint64)
    if len(values) and (values[0] != 0 or np.any(np.diff(offsets.astype(np.int64)) <= 0)):
        raise CorruptIndexError(
            f"{target}: offsets must start at 0, increase strictly and stay below the data size {size}", path=target
        )
    return keys, offsets
