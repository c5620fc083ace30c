"""Writers: create a dataset file with its index and md5 files, atomically.

Data and index files are written under hidden temporary names next to the target and renamed into
place only when the writer closes without error. An exception or Ctrl-C inside the ``with`` block
removes the temporary files and leaves an existing dataset of the same name untouched.
"""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
import sys
import weakref
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Callable

from . import index
from .errors import DuplicateKeyError, InvalidSampleError
from .background import BackgroundWorker
from .packing import make_packer
from .paths import INDEX_SUFFIXES, MD5_SUFFIX, index_path
from .progress import Progress
from .validation import MAX_LENGTH, check_key, explain_pack_error

__all__ = ["Writer", "FileWriter", "RawWriter", "ask_overwrite", "CommitOnSuccess", "commit", "pack_sample", "remove_files"]

#: packed samples are collected into chunks of at least this size before they are written
CHUNK_SIZE = 1 << 20
_MSGPACK_MAP_HEADERS = frozenset(range(0x80, 0x90)) | {0xDE, 0xDF}


def remove_files(paths: list[Path]) -> None:
    """Remove files, ignoring those that do not exist."""
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to the file descriptor ``fd``, retrying partial writes."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _discard(workers: list[BackgroundWorker], file: Any, temporaries: list[Path]) -> None:
    """Stop a writer's threads, close its file and remove its temporary files."""
    for worker in workers:
        worker.cancel()
    if not file.closed:
        file.close()
    remove_files(temporaries)


def ask_overwrite(path: Path, what: str = "file") -> None:
    """Decide what to do about an existing output when ``overwrite`` is false.

    An interactive user is asked yes/no/abort: yes returns (overwrite), no raises
    ``FileExistsError``, abort raises ``KeyboardInterrupt``. Without a terminal on stdin it raises
    ``FileExistsError`` at once instead of waiting for an answer that never comes.

    Args:
        path: the existing output.
        what: how to call it in the messages.
    """
    stdin = sys.stdin
    if stdin is None or not stdin.isatty():
        raise FileExistsError(f"{path}: {what} exists; pass overwrite=True (-y/--no-confirm on the command line) to replace it")
    while True:
        answer = input(f"{path}: {what} exists. Overwrite? [y]es/[n]o/[a]bort: ").strip().lower()
        if answer in ("y", "yes"):
            return
        if answer in ("n", "no"):
            raise FileExistsError(f"{path}: {what} exists and was kept")
        if answer in ("a", "abort"):
            raise KeyboardInterrupt(f"aborted instead of overwriting {path}")


def _create(tmp: Path, final: Path) -> Any:
    """Open the new temporary file ``tmp``; an error names ``final``, the path the user gave."""
    try:
        return open(tmp, "xb", buffering=0)
    except FileExistsError:
        raise
    except OSError as exc:
        raise type(exc)(exc.errno, f"cannot write here ({exc.strerror})", str(final)) from None


class CommitOnSuccess(ABC):
    """Context-manager protocol of all writers: ``close()`` (commit) when the block succeeds,
    ``abort()`` (discard) when it raises."""

    @abstractmethod
    def close(self) -> None:
        """Commit what was written."""

    @abstractmethod
    def abort(self) -> None:
        """Discard what was written."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class Writer(CommitOnSuccess):
    """Base of all writers: collects packed samples, then writes index and md5 files on close.

    Use it as a context manager; the dataset appears only when the block ends without error::

        with FileWriter("train.msgpack") as writer:
            for sample in samples:
                writer.write(sample)

    Args:
        outfile: path of the data file (``NAME.msgpack``); missing parent folders are created.
        buffering: accepted for datadings compatibility; dings always writes in large chunks.
        overwrite: replace an existing dataset without asking. When false, an interactive user is
            asked (see :func:`ask_overwrite`); without a terminal, ``FileExistsError`` is raised.
        progress: show a progress line; ``None`` shows it when stderr is a terminal.
        desc: label of the progress line (default: the file name).
        total: expected number of samples, shown in the progress line.
        disable: datadings' name for ``progress=False``.
        kwargs: other datadings progress-bar options; accepted and ignored.
    """

    def __init__(
        self,
        outfile: str | os.PathLike,
        buffering: int = 0,
        overwrite: bool = False,
        *,
        progress: bool | None = None,
        desc: str | None = None,
        total: int | None = None,
        disable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        self.path = Path(outfile)
        if self.path.is_dir():
            raise IsADirectoryError(f"{self.path}: is a directory; give the path of a .msgpack file to write")
        if self.path.exists() and not overwrite:
            ask_overwrite(self.path, "dataset")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        token = f".{self.path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
        self._tmp_data = self.path.with_name(token)
        self._temp_files = [self._tmp_data] + [self.path.with_name(token + s) for s in INDEX_SUFFIXES + (MD5_SUFFIX,)]
        workers: list[BackgroundWorker] = []
        file = None
        try:
            file = self._file = _create(self._tmp_data, self.path)
            # discards everything if the writer is garbage-collected or the interpreter exits unclosed
            self._cleanup = weakref.finalize(self, _discard, workers, self._file, self._temp_files)
            # chunks go to two threads: one hashes, one writes; both release the GIL while they work
            self._md5 = hashlib.md5()
            self._hasher = BackgroundWorker(self._md5.update, "dings-md5")
            workers.append(self._hasher)
            self._disk = BackgroundWorker(functools.partial(write_all, self._file.fileno()), "dings-write")
            workers.append(self._disk)
        except BaseException as exc:  # e.g. Ctrl-C right after the file was created: leave nothing behind
            if file is not None:
                _discard(workers, file, self._temp_files)
            elif not isinstance(exc, FileExistsError):  # interrupted inside open(): the file may exist
                remove_files([self._tmp_data])
            raise
        self._keys: dict[str, None] = {}
        self._offsets = [0]
        self._position = 0
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._pending_count = 0
        if disable is not None and progress is None:
            progress = not disable
        self._progress = Progress(desc or self.path.name, total=total, enabled=progress)
        self._closed = False

    @property
    def written(self) -> int:
        """Number of samples written so far."""
        return len(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    @abstractmethod
    def write(self, *args: Any) -> int:
        """Write one sample; returns the number of samples written so far."""

    def _check_new_key(self, key: Any) -> None:
        if type(key) is not str:
            raise InvalidSampleError(f"sample key {key!r} is a {type(key).__name__}; keys must be str")
        if key in self._keys:
            raise DuplicateKeyError(f"{self.path}: key {key!r} was already written; keys must be unique")

    def _append(self, key: str, packed: bytes) -> int:
        """Add one packed sample (its key already checked)."""
        if self._closed:
            raise ValueError(f"{self.path}: writer is closed")
        size = len(packed)
        if size > MAX_LENGTH:
            raise InvalidSampleError(f"cannot write sample {key!r}: it packs to {size} bytes, more than 2**32-1")
        self._keys[key] = None
        self._position += size
        self._offsets.append(self._position)
        self._pending.append(packed)
        self._pending_size += size
        self._pending_count += 1
        if self._pending_size >= CHUNK_SIZE:
            self._flush()
        return len(self._keys)

    def _flush(self) -> None:
        if not self._pending:
            return
        # one join per ~1 MiB: measured faster than os.writev of the pieces, even for 110 kB samples
        chunk = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._hasher.submit(chunk)
        self._disk.submit(chunk)
        self._progress.update(self._pending_count, self._pending_size)
        self._pending = []
        self._pending_size = 0
        self._pending_count = 0

    def _finish(self) -> list[tuple[Path, Path]]:
        """Write the data and index files under temporary names; return (temporary, final) pairs."""
        if self._closed:
            raise ValueError(f"{self.path}: writer is closed")
        self._closed = True
        self._flush()
        self._disk.finish()
        self._hasher.finish()
        self._file.close()
        keys = list(self._keys)
        contents = {
            ".offsets": index.pack_offsets(self._offsets),
            ".keys": index.pack_keys(keys),
            ".key_hashes": index.pack_key_hashes(keys),
            ".filter": index.pack_filter(keys, len(keys)),
        }
        digests = {self.path.name: self._md5.hexdigest()}
        pairs = [(self._tmp_data, self.path)]
        for suffix, content in contents.items():
            tmp = self._tmp_data.with_name(self._tmp_data.name + suffix)
            with open(tmp, "xb") as f:
                f.write(content)
            final = index_path(self.path, suffix)
            digests[final.name] = hashlib.md5(content).hexdigest()
            pairs.append((tmp, final))
        md5_text = "".join(f"{digests[final.name]}  {final.name}\n" for _, final in pairs)
        tmp_md5 = self._tmp_data.with_name(self._tmp_data.name + MD5_SUFFIX)
        with open(tmp_md5, "x", encoding="utf-8", newline="\n") as f:
            f.write(md5_text)
        pairs.append((tmp_md5, index_path(self.path, MD5_SUFFIX)))
        self._progress.close()
        self._cleanup.detach()  # the caller now owns the temporary files
        return pairs

    def close(self) -> None:
        """Flush the data, write index and md5 files, and move the dataset into place."""
        if self._closed:
            return
        try:
            pairs = self._finish()
        except BaseException:
            self.abort()
            raise
        try:
            commit(pairs)
        except BaseException:
            remove_files([tmp for tmp, _ in pairs])
            raise

    def abort(self) -> None:
        """Discard everything written so far; an existing dataset of the same name stays untouched."""
        self._closed = True
        self._progress.enabled = False
        self._cleanup()


def commit(pairs: list[tuple[Path, Path]]) -> None:
    """Rename temporary files to their final names, the md5 file last.

    The md5 file is what makes a dataset look complete: until it is renamed, any older md5 file no
    longer matches the new data, so a crash part-way never leaves a dataset that verifies.
    """
    for tmp, final in pairs:
        os.replace(tmp, final)


class FileWriter(Writer):
    """Writes sample dicts; each needs a unique str ``"key"``. See :class:`Writer` for arguments.

    Args:
        allow_unsafe: also write object-dtype arrays (stored with pickle). Off by default.
    """

    def __init__(self, outfile: str | os.PathLike, buffering: int = 0, overwrite: bool = False, *, allow_unsafe: bool = False, **kwargs: Any) -> None:
        super().__init__(outfile, buffering, overwrite, **kwargs)
        self._pack = make_packer(allow_unsafe=allow_unsafe).pack

    def write(self, sample: dict) -> int:
        """Pack and write one sample.

        Args:
            sample: a dict with a unique str ``"key"``; values may be anything msgpack and
                msgpack-numpy can hold.

        Returns:
            The number of samples written so far.

        Raises:
            InvalidSampleError: missing, non-str or reserved key, or a value msgpack cannot hold
                (the message names the sample key and the value). Nothing is written for it.
            DuplicateKeyError: the key was written before.
            UnsafeDataError: an object-dtype array without ``allow_unsafe``.
        """
        key, packed = pack_sample(self._pack, sample)
        self._check_new_key(key)
        return self._append(key, packed)


def pack_sample(pack: Callable[[Any], bytes], sample: dict) -> tuple[str, bytes]:
    """Check a sample's key and pack it; errors name the key and the offending value.

    Args:
        pack: a packer's ``pack`` method (see :func:`make_packer`).
        sample: the sample to pack.

    Returns:
        The sample's key and its packed bytes.
    """
    key = check_key(sample)
    try:
        return key, pack(sample)
    except Exception as exc:
        raise explain_pack_error(sample, key, exc) from exc


class RawWriter(Writer):
    """Writes samples that are already packed. See :class:`Writer` for arguments."""

    def write(self, key: str, data: bytes | bytearray | memoryview) -> int:
        """Write one packed sample.

        Args:
            key: the sample's unique key (must equal the ``"key"`` inside ``data``).
            data: one packed msgpack map, e.g. from :func:`packb` or a reader's raw output.

        Returns:
            The number of samples written so far.
        """
        self._check_new_key(key)
        data = bytes(data)
        if not data or data[0] not in _MSGPACK_MAP_HEADERS:
            raise InvalidSampleError(f"cannot write sample {key!r}: data is not a packed msgpack map")
        return self._append(key, data)
