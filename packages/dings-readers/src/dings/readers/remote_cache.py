"""The local cache of remote datasets: one folder per URL, md5-verified files, LRU eviction under a size limit.

Layout: ``<cache root>/<first 16 hex digits of sha256(url)>/`` holds the dataset's files under their
own names (``train.msgpack.md5``, ``train.msgpack.offsets``, …, and ``train.msgpack`` once the
data file is cached), plus ``url`` (the URL, for people looking at the folder), ``generation`` (the
remote data file's ETag or Last-Modified and size the files belong to), ``verified.json``
(size, modification time and md5 of each data file when it was last verified) and ``.used``
(touched whenever the dataset is opened or read; its time orders eviction).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from dings.format import md5_file, parse_json

__all__ = ["DEFAULT_CACHE_LIMIT", "DatasetCache", "cache_limit", "cache_root", "evict", "folder_size"]

#: cache size limit when neither ``cache_limit`` nor ``$DINGS_CACHE_LIMIT`` is given: 20 GiB
DEFAULT_CACHE_LIMIT = 20 << 30
_USED = ".used"
_STAMPS = "verified.json"
_GENERATION = "generation"
_LOCK = ".lock"
_STALE_PART = 24 * 3600  # temporary files older than this (seconds) belong to crashed processes


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The cache folder: ``cache_dir``, else ``$DINGS_CACHE``, else ``~/.cache/dings``."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("DINGS_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "dings"


def cache_limit(limit: int | None = None) -> int:
    """The size limit in bytes: ``limit``, else ``$DINGS_CACHE_LIMIT``, else :data:`DEFAULT_CACHE_LIMIT`.

    Raises:
        ValueError: the limit is negative or ``$DINGS_CACHE_LIMIT`` is not an integer.
    """
    if limit is None:
        env = os.environ.get("DINGS_CACHE_LIMIT")
        if not env:
            return DEFAULT_CACHE_LIMIT
        try:
            limit = int(env)
        except ValueError:
            raise ValueError(
                f"DINGS_CACHE_LIMIT={env!r} is not a number of bytes; set e.g. DINGS_CACHE_LIMIT=10000000000"
            ) from None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValueError(f"cache_limit must be a number of bytes >= 0, got {limit!r}")
    return limit


def _temp(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.part")


def write_atomic(target: Path, content: bytes) -> None:
    """Write ``content`` to a temporary file next to ``target`` and rename it into place."""
    tmp = _temp(target)
    try:
        tmp.write_bytes(content)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class DatasetCache:
    """The cache folder of one remote dataset.

    Args:
        root: the cache root (see :func:`cache_root`).
        url: the dataset's data file URL.
        name: the data file's name (``train.msgpack``).
    """

    def __init__(self, root: Path, url: str, name: str) -> None:
        self.root = root
        self.url = url
        self.name = name
        self.folder = root / hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
        self.folder.mkdir(parents=True, exist_ok=True)
        marker = self.folder / "url"
        if not marker.is_file():
            write_atomic(marker, (url + "\n").encode("utf-8"))
        self.touch()

    def file(self, suffix: str = "") -> Path:
        """Path of the dataset file ``name + suffix`` in the folder."""
        return self.folder / (self.name + suffix)

    def temp(self, suffix: str = "") -> Path:
        """A unique temporary path for ``name + suffix`` (renamed into place when complete)."""
        return _temp(self.file(suffix))

    def touch(self) -> None:
        """Mark the dataset as just used (eviction removes the least recently used first)."""
        try:
            (self.folder / _USED).touch()
        except OSError:
            pass

    def clear(self) -> None:
        """Remove the dataset's cached files (the dataset changed remotely)."""
        for path in self.folder.iterdir():
            if path.name not in ("url", _USED, _GENERATION, _LOCK) and not path.name.endswith(".part"):
                path.unlink(missing_ok=True)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold an exclusive lock on the folder (processes download its data file one at a time)."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - no flock (Windows): downloads may overlap, each verified
            yield
            return
        fd = os.open(self.folder / _LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def generation(self) -> str | None:
        """The remote generation the cached files belong to (None when unknown)."""
        try:
            return (self.folder / _GENERATION).read_text(encoding="utf-8").strip() or None
        except (OSError, ValueError):
            return None

    def use_generation(self, tag: str) -> None:
        """Key the folder by the remote generation ``tag``: files of another generation are removed.

        The new tag is written before anything is removed or fetched, so a reader of the old
        generation that finds its tag after loading a file knows the file is its own.
        """
        if self.generation() != tag:
            write_atomic(self.folder / _GENERATION, (tag + "\n").encode("utf-8"))
            self.clear()

    # --- data files, trusted only once their md5 matched ---

    def _stamps(self) -> dict:
        try:
            return parse_json((self.folder / _STAMPS).read_bytes(), str(self.folder / _STAMPS))
        except (OSError, ValueError):  # parse_json's DamagedDataError is a ValueError
            return {}

    def _stamp(self, path: Path, digest: str) -> None:
        stamps = self._stamps()
        info = path.stat()
        stamps[path.name] = [info.st_size, info.st_mtime_ns, digest]
        write_atomic(self.folder / _STAMPS, json.dumps(stamps).encode("utf-8"))

    def trusted(self, digest: str) -> bool:
        """Whether the cached data file exists and matches ``digest``.

        A file verified before is trusted while its size and modification time are unchanged;
        otherwise it is hashed again, and removed when it does not match.
        """
        path = self.file()
        try:
            info = path.stat()
        except OSError:
            return False
        stamp = self._stamps().get(path.name)
        if stamp == [info.st_size, info.st_mtime_ns, digest]:
            return True
        if md5_file(path) == digest:
            self._stamp(path, digest)
            return True
        path.unlink(missing_ok=True)
        return False

    def store(self, tmp: Path, digest: str) -> bool:
        """Check the complete temporary data file ``tmp`` against ``digest`` and move it into place.

        Returns:
            True when it matched and is now the cached data file; False (and ``tmp`` removed) otherwise.
        """
        try:
            if md5_file(tmp) != digest:
                return False
            os.replace(tmp, self.file())
            self._stamp(self.file(), digest)
            return True
        finally:
            tmp.unlink(missing_ok=True)


def folder_size(folder: Path) -> int:
    """Bytes of the regular files in ``folder`` (temporary files included)."""
    total = 0
    for path in folder.iterdir():
        try:
            if path.is_file():
                total += path.stat().st_size
        except OSError:
            pass
    return total


def _last_used(folder: Path) -> float:
    try:
        return (folder / _USED).stat().st_mtime
    except OSError:
        return 0.0


def _data_files(folder: Path) -> Iterable[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(".msgpack") and not p.name.startswith(".")]


def evict(root: Path, limit: int, keep: Path | None = None) -> int:
    """Delete cached files until the cache holds at most ``limit`` bytes; return the bytes it holds then.

    Least recently used datasets go first: their data files in a first round, whole folders
    (index files too) in a second. The folder ``keep`` (the dataset in use) is never emptied.
    Temporary files older than a day (left by crashed processes) are removed too.
    """
    if not root.is_dir():
        return 0
    folders = [p for p in root.iterdir() if p.is_dir() and (p / "url").is_file()]
    now = time.time()
    for folder in folders:
        for part in folder.glob(".*.part"):
            try:
                if now - part.stat().st_mtime > _STALE_PART:
                    part.unlink(missing_ok=True)
            except OSError:
                pass
    sizes = {folder: folder_size(folder) for folder in folders}
    total = sum(sizes.values())
    order = sorted((f for f in folders if f != keep), key=_last_used)
    for folder in order:  # first round: data files of the least recently used datasets
        if total <= limit:
            return total
        for data in _data_files(folder):
            try:
                size = data.stat().st_size
                data.unlink()
            except OSError:
                continue
            total -= size
            sizes[folder] -= size
    for folder in order:  # second round: whole datasets
        if total <= limit:
            return total
        shutil.rmtree(folder, ignore_errors=True)
        total -= sizes[folder]
    return total
