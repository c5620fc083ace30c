"""SharedMemoryReader: a dataset loaded into shared memory once per machine.

The first process on a machine copies the dataset into a folder in ``/dev/shm`` (a RAM-backed
file system); every other process — DataLoader workers, other ranks, other jobs — finds it there
and memory-maps the same pages. N processes therefore hold one copy, and reading never touches
the original storage (useful for network file systems or when the page cache gets evicted).

Coordination uses one lock file next to the folder. Each process using the copy holds a shared
``flock`` on it; the one process that copies holds an exclusive POSIX record lock on it meanwhile
(the others wait for it), and the folder appears by an atomic rename, so a half-copied dataset is
never used. When the last process closes its reader (or
exits), it removes the folder and the lock file, unless ``keep=True``. If every process dies
abruptly, the folder stays until a later process that uses it closes cleanly.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import secrets
import shutil
import weakref
from pathlib import Path
from typing import Any, cast

from dings.format import CorruptIndexError, index_size_limit, open_index_file, progress_bar
from dings.readers import MsgpackReader

__all__ = ["SharedMemoryReader"]

_INDEX_SUFFIXES = (".offsets", ".keys", ".key_hashes", ".filter", ".md5", ".index")
_COPY_BLOCK = 8 << 20


def _same_file(fd: int, path: Path) -> bool:
    try:
        here, there = os.fstat(fd), os.stat(path)
    except FileNotFoundError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


class _Lease:
    """One process's hold on a shared copy: the lock file descriptor and what to remove at the end."""

    def __init__(self, fd: int, lock_path: Path, folder: Path, keep: bool) -> None:
        self.fd = fd
        self.lock_path = lock_path
        self.folder = folder
        self.keep = keep
        self.pid = os.getpid()
        self.released = False

    def release(self) -> None:
        """Give up the hold; the last holder removes the copy (unless ``keep``). Only in the owning process."""
        if self.released or os.getpid() != self.pid:
            return
        self.released = True
        try:
            if not self.keep:
                try:
                    fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return  # another process still uses the copy; it cleans up
                if _same_file(self.fd, self.lock_path):
                    shutil.rmtree(self.folder, ignore_errors=True)
                    self.lock_path.unlink(missing_ok=True)
        finally:
            os.close(self.fd)


def _check_sizes(data: Path, files: list[Path]) -> None:
    """Refuse index files larger than the data file allows, before anything is copied."""
    data_size = data.stat().st_size
    for file in files:
        size, limit = file.stat().st_size, index_size_limit(file.name[len(data.name) :], data_size)
        if size > limit:
            raise CorruptIndexError(
                f"{file}: {size} bytes, more than the {limit} it can have for a data file of {data_size} bytes; "
                "the index is damaged: run `dings verify` or restore it",
                path=file,
            )


def _copy_file(source: Path, target: Path, progress: Any) -> None:
    # only regular files: a FIFO or a device (a symlink to /dev/zero) is refused, never copied
    with open_index_file(source) as src, open(target, "xb") as dst:
        while True:
            block = src.read(_COPY_BLOCK)
            if not block:
                break
            dst.write(block)
            progress.update(len(block))


class SharedMemoryReader(MsgpackReader):
    """A :class:`~dings.readers.MsgpackReader` over a copy of a dataset in shared memory.

    Args:
        source: a dataset file (the data file or any of its index files) or a ``MsgpackReader``.
        name: name of the copy; by default derived from the file's path, size and modification
            time, so a changed file gets a new copy.
        directory: where copies live; ``/dev/shm`` is RAM-backed on Linux.
        keep: leave the copy in place when the last user closes (later jobs attach instantly;
            remove it yourself with :meth:`remove`).
        progress: show a progress line while copying.
        allow_unsafe: passed to :class:`~dings.readers.MsgpackReader`.

    Raises:
        FileNotFoundError: ``directory`` or the source dataset does not exist.
        TypeError: ``source`` is another kind of reader.
        ValueError: ``name`` contains characters other than letters, digits, ``.``, ``_`` and ``-``.

    Reads, copies (``copy.copy``) and forked DataLoader workers all map the same shared pages.
    Only the process that created the reader gives up its hold, on :meth:`close` or at exit.
    """

    def __init__(
        self,
        source: str | os.PathLike | MsgpackReader,
        *,
        name: str | None = None,
        directory: str | os.PathLike = "/dev/shm",
        keep: bool = False,
        progress: bool = False,
        allow_unsafe: bool = False,
    ) -> None:
        directory = Path(directory)
        if not directory.is_dir():
            raise FileNotFoundError(
                f"{directory}: shared-memory directory not found; pass directory= an existing tmpfs folder"
            )
        source_path = self._source_path(source)
        if name is None:
            stat = source_path.stat()
            digest = hashlib.blake2s(
                f"{source_path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode(), digest_size=8
            ).hexdigest()
            name = f"{source_path.name.removesuffix('.msgpack')}-{digest}"
        if not re.fullmatch(r"[A-Za-z0-9._-]+", name) or name.startswith("."):
            raise ValueError(
                f"name {name!r} may only contain letters, digits, '.', '_' and '-' (and not start with '.')"
            )
        self.folder = directory / f"dings-{name}"
        self._lease = self._attach(directory, name, source_path, keep, progress)
        self._release = weakref.finalize(self, self._lease.release)
        try:
            super().__init__(self.folder / source_path.name, allow_unsafe=allow_unsafe)
        except BaseException:
            self._release()
            raise
        self._owner = True

    @staticmethod
    def _source_path(source: str | os.PathLike | MsgpackReader) -> Path:
        if isinstance(source, MsgpackReader):
            return source.path
        if not isinstance(source, (str, os.PathLike)):
            raise TypeError(
                f"SharedMemoryReader copies dataset files: pass a path or a MsgpackReader, not {type(source).__name__}"
            )
        with MsgpackReader(source) as reader:  # checks the files and finds the data file's name
            return reader.path

    def _attach(self, directory: Path, name: str, source_path: Path, keep: bool, progress: bool) -> _Lease:
        lock_path = directory / f"dings-{name}.lock"
        data_file = self.folder / source_path.name
        while True:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_SH)  # a user: the last user to leave removes the copy
                if not _same_file(fd, lock_path):  # removed by a last user meanwhile: start over
                    os.close(fd)
                    continue
                if not data_file.is_file():
                    # one process copies while the others wait (a POSIX record lock, independent of flock)
                    fcntl.lockf(fd, fcntl.LOCK_EX)
                    try:
                        if not data_file.is_file():
                            self._stage(directory, source_path, progress)
                    finally:
                        fcntl.lockf(fd, fcntl.LOCK_UN)
                return _Lease(fd, lock_path, self.folder, keep)
            except BaseException:
                os.close(fd)
                raise

    def _stage(self, directory: Path, source_path: Path, progress: bool) -> None:
        temporary = directory / f".{self.folder.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
        temporary.mkdir()
        try:
            shutil.rmtree(self.folder, ignore_errors=True)  # an incomplete copy left by a crash
            files = [source_path.with_name(source_path.name + s) for s in _INDEX_SUFFIXES]
            files = [f for f in files if f.exists()]
            _check_sizes(source_path, files)
            files.append(source_path)  # the data file last
            total = sum(f.stat().st_size for f in files)
            meter = progress_bar(
                total=total, desc=f"copying {source_path.name} to {directory}", unit="B", enabled=progress
            )
            for file in files:
                _copy_file(file, temporary / file.name, meter)
            meter.close()
            os.rename(temporary, self.folder)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise

    def close(self) -> None:
        """Unmap the data; the reader that attached also gives up its hold on the copy."""
        super().close()
        if getattr(self, "_owner", False):
            self._release()

    def __copy__(self) -> SharedMemoryReader:
        clone = cast(SharedMemoryReader, super().__copy__())  # MsgpackReader.__copy__ keeps the type
        clone._owner = False
        return clone

    @staticmethod
    def remove(name: str, directory: str | os.PathLike = "/dev/shm") -> bool:
        """Remove the shared copy ``name`` (as in ``folder`` ``dings-<name>``) if no process uses it.

        Returns:
            True if it was removed, False if it is in use or does not exist.
        """
        directory = Path(directory)
        lock_path = directory / f"dings-{name}.lock"
        folder = directory / f"dings-{name}"
        try:
            fd = os.open(lock_path, os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        try:
            if not _same_file(fd, lock_path):
                return False
            shutil.rmtree(folder, ignore_errors=True)
            lock_path.unlink(missing_ok=True)
            return True
        finally:
            os.close(fd)

    def __repr__(self) -> str:
        return f"SharedMemoryReader({str(self.path)!r})"
