"""Writers: create a dataset file with its index, checksum and md5 files, atomically.

Data and index files are written under hidden temporary names next to the target (synced) and
committed only when the writer closes without error (see :mod:`dings.format.commit`): readers see
the complete old dataset or the complete new one, also if the process is killed at any moment. An
exception or Ctrl-C inside the ``with`` block removes the temporary files and leaves an existing
dataset of the same name untouched.
"""

from __future__ import annotations

import array
import functools
import hashlib
import os
import weakref
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import msgpack
import numpy as np

from . import index
from .background import BackgroundWorker
from .checksums import pack_checksums
from .commit import (
    Commit,
    DatasetFiles,
    belongs_to,
    check_committed,
    clean_temporaries,
    deferred_interrupts,
    temp_path,
    write_synced,
)
from .errors import DuplicateKeyError, InvalidSampleError, UnsafeDataError
from .label_names import label_names_content
from .packing import _OBJECT_KIND, make_packer, object_array_field
from .paths import CHECKSUMS_SUFFIX, INDEX_SUFFIXES, LABEL_NAMES_SUFFIX, LEGACY_INDEX_SUFFIX, MD5_SUFFIX, index_path
from .progress import Progress
from .prompt import ask_overwrite
from .validation import MAX_LENGTH, check_key, explain_pack_error

__all__ = [
    "Writer",
    "FileWriter",
    "RawWriter",
    "ask_overwrite",
    "CommitOnSuccess",
    "close_together",
    "commit_datasets",
    "pack_sample",
    "packed_key",
    "prepare_output",
    "refuse_object_arrays",
    "remove_files",
]

#: packed samples are collected into chunks of at least this size before they are written
CHUNK_SIZE = 1 << 20
_MSGPACK_MAP_HEADERS = frozenset(range(0x80, 0x90)) | {0xDE, 0xDF}
#: temporary files next to the data file's temporary, by suffix
_SIDECARS = INDEX_SUFFIXES + (CHECKSUMS_SUFFIX, MD5_SUFFIX)
_KEY_ENTRY = b"\xa3key"
#: samples smaller than this get their CRC-32 inline; larger ones on the checksum thread
_INLINE_CRC = 4096
#: a chunk of at most this many pieces is handed to the threads piece by piece: they are parts of
#: batches (``write_many``) or large samples, each worth a queue entry more than a copy
_FEW_PIECES = 4


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


def refuse_object_arrays(packed: bytes | memoryview, key: str, target: object) -> None:
    """Refuse a packed sample that holds msgpack-numpy's encoding of an object array.

    Such a map may reach a writer already encoded (a dict from an untrusted source, or packed bytes
    copied from another dataset); datadings would decode it with pickle, which can execute code.

    Args:
        packed: the sample's packed bytes.
        key: its key (for the message).
        target: the file or pattern being written (for the message).

    Raises:
        UnsafeDataError: naming the target, the key and the field.
        InvalidSampleError: the bytes look like such a map but are not valid msgpack.
    """
    field = object_array_field(packed)
    if field is not None:
        raise UnsafeDataError(
            f"{target}: cannot write sample {key!r}: {field} is an encoded object-dtype array, which "
            "msgpack-numpy (and datadings) decodes with pickle and so can execute code; "
            "store it as a numeric array, str or bytes"
        )


def prepare_output(path: Path) -> None:
    """Before writing ``path``: finish or discard an interrupted commit of it and remove the
    temporary files that dead writers of it left behind."""
    check_committed(path)
    clean_temporaries(path.parent, belongs_to(path.name))


def commit_datasets(datasets: Sequence[DatasetFiles]) -> None:
    """Commit datasets as one transaction (see :class:`dings.format.commit.Commit`).

    On an error before the commit point the temporaries are removed and the old datasets stay.
    """
    transaction = Commit(datasets)
    try:
        transaction.run()
    except BaseException:
        if not transaction.committed:
            remove_files([tmp for dataset in datasets for tmp, _ in dataset.renames])
        raise


def _checksum_chunk(offsets: list[int], checksums: array.array, job: tuple[bytes, int, list[int]]) -> None:
    """Append the CRC-32s of the samples from ``first`` on that make up ``chunk``; ``crcs`` holds
    those computed already and -1 for the others. (Not a method: the thread must not keep the
    writer alive, or a dropped writer would never clean up.)"""
    chunk, first, crcs = job
    if -1 in crcs:
        bounds = offsets[first : first + len(crcs) + 1]  # complete: the writing thread only appends later ones
        base = bounds[0]
        view = memoryview(chunk)
        crc32 = zlib.crc32
        crcs = [crc32(view[bounds[i] - base : bounds[i + 1] - base]) if c == -1 else c for i, c in enumerate(crcs)]
    checksums.extend(crcs)


def _discard(workers: list[BackgroundWorker], file: Any, temporaries: list[Path]) -> None:
    """Stop a writer's threads, close its file and remove its temporary files."""
    for worker in workers:
        worker.cancel()
    if not file.closed:
        file.close()
    remove_files(temporaries)


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
        label_names: names of the int labels (``names[i]`` names label ``i``): the label-names sidecar
            ``NAME.msgpack.labels.json`` is committed with the data, bound to it. ``None``: a
            sidecar of the dataset replaced stays (stale: it is bound to the old data).
        drop_label_names: without ``label_names``, remove the sidecar of the dataset replaced in
            the same commit.
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
        label_names: Sequence[str] | None = None,
        drop_label_names: bool = False,
        **kwargs: Any,
    ) -> None:
        self.path = Path(outfile)
        self._label_list = None if label_names is None else list(label_names)
        self._drop_label_names = drop_label_names
        if self._label_list is not None:
            label_names_content(self._label_list, None)  # a name that is not a str fails before any writing
        if self.path.is_dir():
            raise IsADirectoryError(f"{self.path}: is a directory; give the path of a .msgpack file to write")
        if self.path.parent.is_dir():
            prepare_output(self.path)  # an interrupted commit is finished first: it may create the dataset
        if self.path.exists() and not overwrite:
            ask_overwrite(self.path, "dataset")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp_data = temp_path(self.path)
        self._temp_files = [self._tmp_data] + [self._tmp_data.with_name(self._tmp_data.name + s) for s in _SIDECARS]
        self._tmp_labels = temp_path(index_path(self.path, LABEL_NAMES_SUFFIX))
        self._temp_files.append(self._tmp_labels)
        workers: list[BackgroundWorker] = []
        file = None
        self._offsets = [0]
        self._checksums = array.array("I")
        self._flushed = 0  # samples handed to the threads so far
        self._pending_crcs: list[int] = []  # -1: computed by the checksum thread
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
            # CRC-32s of large samples on a third thread (zlib releases the GIL on them); small
            # ones are cheaper inline than handed over
            self._checksummer = BackgroundWorker(
                functools.partial(_checksum_chunk, self._offsets, self._checksums), "dings-crc32"
            )
            workers.append(self._checksummer)
            self._keys: dict[str, None] = {}
            self._position = 0
            self._pending: list[bytes | memoryview] = []  # memoryviews of data that does not change
            self._pending_size = 0
            self._pending_count = 0
            if disable is not None and progress is None:
                progress = not disable
            self._progress = Progress(desc or self.path.name, total=total, enabled=progress)
            self._closed = False
        except BaseException as exc:  # e.g. Ctrl-C right after the file was created: leave nothing behind
            # at once, not when the writer is collected: a kept traceback (a notebook's last
            # error) holds this frame, and with it the writer, alive
            if file is not None:
                _discard(workers, file, self._temp_files)
            elif not isinstance(exc, FileExistsError):  # interrupted inside open(): the file may exist
                remove_files([self._tmp_data])
            raise

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
        self._pending_crcs.append(zlib.crc32(packed) if size < _INLINE_CRC else -1)
        self._position += size
        self._offsets.append(self._position)
        self._pending.append(packed)
        self._pending_size += size
        self._pending_count += 1
        if self._pending_size >= CHUNK_SIZE:
            self._flush()
        return len(self._keys)

    def _append_many(self, keys: Sequence[str], view: memoryview, bounds: np.ndarray, copy: bool) -> None:
        """Add packed samples (keys checked, each at most ``MAX_LENGTH`` bytes): sample ``i`` is
        ``view[bounds[i]:bounds[i + 1]]``. The same state as ``_append`` for each, in one step:
        chunks are flushed after the same samples, so progress updates and checksums match."""
        count = len(keys)
        if not count:
            return
        if self._closed:
            raise ValueError(f"{self.path}: writer is closed")
        self._keys.update(dict.fromkeys(keys))
        starts, ends = bounds[:-1].tolist(), bounds[1:].tolist()
        crc32 = zlib.crc32
        crcs = [crc32(view[a:b]) if b - a < _INLINE_CRC else -1 for a, b in zip(starts, ends)]
        ends_within = np.cumsum(np.diff(bounds))  # bytes of the batch up to and including each sample
        self._offsets.extend((ends_within + self._position).tolist())
        self._position += int(ends_within[-1])
        first = done = 0  # next sample to add; bytes of the batch added
        while first < count:
            # the sample whose append would fill the pending chunk: _append flushes after it
            full = int(np.searchsorted(ends_within, done + CHUNK_SIZE - self._pending_size, side="left"))
            last = min(full, count - 1)
            piece = view[starts[first] : ends[last]]
            self._pending.append(bytes(piece) if copy else piece)
            self._pending_size += ends[last] - starts[first]
            self._pending_count += last + 1 - first
            self._pending_crcs.extend(crcs[first : last + 1])
            if full < count:
                self._flush()
            first, done = last + 1, int(ends_within[last])

    def _flush(self) -> None:
        if not self._pending:
            return
        pieces = self._pending
        chunk: bytes | memoryview
        if 1 < len(pieces) <= _FEW_PIECES:  # parts of batches (write_many): handed on without a copy
            for piece in pieces:
                self._hasher.submit(piece)
                self._disk.submit(piece)
            # the checksum thread needs the chunk only for the CRC-32s left to it
            chunk = b"".join(pieces) if -1 in self._pending_crcs else b""
        else:
            # one join per ~1 MiB: measured faster than os.writev of the pieces, even for 110 kB samples
            chunk = pieces[0] if len(pieces) == 1 else b"".join(pieces)
            self._hasher.submit(chunk)
            self._disk.submit(chunk)
        self._checksummer.submit((chunk, self._flushed, self._pending_crcs))
        self._flushed += self._pending_count
        self._pending_crcs = []
        self._progress.update(self._pending_count, self._pending_size)
        self._pending = []
        self._pending_size = 0
        self._pending_count = 0

    def _finish(self) -> DatasetFiles:
        """Write the data, index and checksum files under temporary names, synced; return them."""
        if self._closed:
            raise ValueError(f"{self.path}: writer is closed")
        self._closed = True
        self._flush()
        # the index while the threads still hash and write the last chunks (they release the GIL)
        keys = list(self._keys)
        contents = {
            ".offsets": index.pack_offsets(self._offsets),
            ".keys": index.pack_keys(keys),
            ".key_hashes": index.pack_key_hashes(keys),
            ".filter": index.pack_filter(keys, len(keys)),
        }
        self._disk.finish()
        self._hasher.finish()
        self._checksummer.finish()
        os.fsync(self._file.fileno())
        self._file.close()
        digests = {self.path.name: self._md5.hexdigest()}
        pairs = [(self._tmp_data, self.path)]
        for suffix, content in contents.items():
            tmp = self._tmp_data.with_name(self._tmp_data.name + suffix)
            write_synced(tmp, content)
            final = index_path(self.path, suffix)
            digests[final.name] = hashlib.md5(content).hexdigest()
            pairs.append((tmp, final))
        md5 = index.md5_content({final.name: digests[final.name] for _, final in pairs})
        # the checksums are not in the md5 file, which stays byte-identical to datadings'
        tmp_crc = self._tmp_data.with_name(self._tmp_data.name + CHECKSUMS_SUFFIX)
        write_synced(tmp_crc, pack_checksums(self._checksums))
        pairs.append((tmp_crc, index_path(self.path, CHECKSUMS_SUFFIX)))
        # a legacy index of an older generation would describe other data
        remove = [index_path(self.path, LEGACY_INDEX_SUFFIX)]
        labels = index_path(self.path, LABEL_NAMES_SUFFIX)
        if self._label_list is not None:
            write_synced(self._tmp_labels, label_names_content(self._label_list, digests[self.path.name]))
            pairs.append((self._tmp_labels, labels))
        elif self._drop_label_names:
            remove.append(labels)
        tmp_md5 = self._tmp_data.with_name(self._tmp_data.name + MD5_SUFFIX)
        write_synced(tmp_md5, md5)
        pairs.append((tmp_md5, index_path(self.path, MD5_SUFFIX)))
        self._progress.close()
        self._cleanup.detach()  # the caller now owns the temporary files
        return DatasetFiles(self.path, pairs, remove)

    def close(self) -> None:
        """Flush the data, write index and md5 files, and move the dataset into place."""
        if self._closed:
            return
        try:
            with deferred_interrupts():  # Ctrl-C waits until the dataset is committed
                files = self._finish()
                commit_datasets([files])
        except BaseException:
            self.abort()  # removes the temporaries unless _finish handed them to the commit
            raise

    def abort(self) -> None:
        """Discard everything written so far; an existing dataset of the same name stays untouched."""
        self._closed = True
        self._progress.enabled = False
        self._cleanup()


def close_together(writers: Sequence[Writer]) -> None:
    """Close several writers as one commit: all their datasets appear, or none of them.

    On any error every writer is aborted (nothing of the new datasets appears).

    Args:
        writers: open writers; none may have been closed.
    """
    files: list[DatasetFiles] = []
    committing = False
    try:
        with deferred_interrupts():  # Ctrl-C waits until the datasets are committed
            for writer in writers:
                files.append(writer._finish())
            committing = True
            commit_datasets(files)  # removes the temporaries itself if it fails
    except BaseException:
        for writer in writers:
            writer.abort()
        if not committing:
            remove_files([tmp for dataset in files for tmp, _ in dataset.renames])
        raise


class FileWriter(Writer):
    """Writes sample dicts; each needs a unique str ``"key"``. See :class:`Writer` for arguments.

    Args:
        allow_unsafe: also write object-dtype arrays (stored with pickle). Off by default.
    """

    def __init__(
        self,
        outfile: str | os.PathLike,
        buffering: int = 0,
        overwrite: bool = False,
        *,
        allow_unsafe: bool = False,
        **kwargs: Any,
    ) -> None:
        self._pack = make_packer(allow_unsafe=allow_unsafe).pack  # first: the files exist once the base is set up
        self._allow_unsafe = allow_unsafe
        super().__init__(outfile, buffering, overwrite, **kwargs)

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
            UnsafeDataError: an object-dtype array without ``allow_unsafe``, also one that is
                already encoded as msgpack-numpy's map (``{b"nd": …, b"kind": b"O", …}``).
        """
        key, packed = pack_sample(self._pack, sample)
        if not self._allow_unsafe:  # one regex scan of the bytes; samples that match are decoded
            refuse_object_arrays(packed, key, self.path)
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
    """Writes samples that are already packed. See :class:`Writer` for arguments.

    Args:
        allow_unsafe: also write samples that hold msgpack-numpy's encoding of an object array
            (which datadings decodes with pickle). Off by default.
    """

    def __init__(
        self,
        outfile: str | os.PathLike,
        buffering: int = 0,
        overwrite: bool = False,
        *,
        allow_unsafe: bool = False,
        **kwargs: Any,
    ) -> None:
        self._allow_unsafe = allow_unsafe
        super().__init__(outfile, buffering, overwrite, **kwargs)

    def write(self, key: str, data: bytes | bytearray | memoryview) -> int:
        """Write one packed sample.

        Args:
            key: the sample's unique key (must equal the ``"key"`` inside ``data``).
            data: one packed msgpack map, e.g. from :func:`packb` or a reader's raw output.

        Returns:
            The number of samples written so far.

        Raises:
            InvalidSampleError: ``data`` is not a packed map or holds another key.
            DuplicateKeyError: the key was written before.
            UnsafeDataError: ``data`` holds an encoded object-dtype array, without ``allow_unsafe``.
        """
        self._check_new_key(key)
        data = bytes(data)
        if not data or data[0] not in _MSGPACK_MAP_HEADERS:
            raise InvalidSampleError(f"cannot write sample {key!r}: data is not a packed msgpack map")
        try:
            inner = packed_key(data)
            if not self._allow_unsafe:
                refuse_object_arrays(data, key, self.path)
        except InvalidSampleError as exc:
            raise InvalidSampleError(f"{self.path}: cannot write sample {key!r}: {exc}") from None
        if inner != key:
            raise InvalidSampleError(
                f"{self.path}: cannot write sample {key!r}: its packed bytes hold the key {inner!r}; the key must match"
            )
        return self._append(key, data)

    def write_many(
        self,
        keys: Sequence[str],
        data: Any,
        offsets: Sequence[int] | np.ndarray,
        *,
        copy: bool = True,
    ) -> int:
        """Write many packed samples at once: sample ``i`` is ``data[offsets[i]:offsets[i + 1]]``.

        The result is exactly that of ``write(keys[i], data[offsets[i]:offsets[i + 1]])`` for each
        ``i`` in order (same files, checksums, progress updates), with per-batch instead of
        per-sample checks: keys are checked for type and uniqueness as one set, and each sample's
        map header and packed ``"key"`` with numpy. A sample that fails a check goes through
        :meth:`write`, which raises its error; the samples before it are written, as with single
        writes.

        Args:
            keys: the samples' unique keys (each must equal the ``"key"`` packed in its sample).
            data: the packed samples, back to back: any C-contiguous buffer (bytes, numpy array …).
            offsets: ``len(keys) + 1`` non-decreasing positions in ``data``.
            copy: ``False``: ``data`` does not change until the writer is closed, so it is handed to
                the writing threads without a copy. A ``bytes`` object is never copied.

        Returns:
            The number of samples written so far.

        Raises:
            ValueError: ``offsets`` do not fit ``keys`` and ``data``; the writer is closed.
            InvalidSampleError, DuplicateKeyError: as :meth:`write`, for the first bad sample.
        """
        view = memoryview(data).cast("B")
        bounds = np.asarray(offsets, dtype=np.int64)
        count = len(keys)
        if bounds.shape != (count + 1,) or (
            count and (bounds[0] < 0 or bounds[-1] > len(view) or bool(np.any(np.diff(bounds) < 0)))
        ):
            raise ValueError(
                f"{self.path}: write_many needs {count + 1} non-decreasing offsets within the {len(view)} bytes of data"
            )
        copy = copy and type(data) is not bytes
        done = 0
        for bad in (*np.flatnonzero(self._suspects(keys, view, bounds)).tolist(), count):
            self._append_many(keys[done:bad], view, bounds[done : bad + 1], copy)
            if bad < count:
                self.write(keys[bad], view[bounds[bad] : bounds[bad + 1]])  # raises, unless a false alarm
            done = bad + 1
        return len(self._keys)

    def _suspects(self, keys: Sequence[str], view: memoryview, bounds: np.ndarray) -> np.ndarray:
        """Which samples :meth:`write` might refuse (a superset): wrong key type, a key written
        before or twice, no map header, a packed ``"key"`` that is not the first entry as a str of
        up to 255 bytes equal to the key, more than ``MAX_LENGTH`` bytes, a ``"kind": "O"`` entry
        (an encoded object array, unless ``allow_unsafe``); all when closed."""
        count = len(keys)
        suspect = np.zeros(count, dtype=bool)
        if self._closed:
            suspect[:] = True
            return suspect
        strings = set(map(type, keys)) <= {str}
        if not strings or len(dict.fromkeys(keys)) != count or not self._keys.keys().isdisjoint(keys):
            seen: set[str] = set()
            for i, key in enumerate(keys):  # only when a key is bad: find which
                if type(key) is not str or key in self._keys or key in seen:
                    suspect[i] = True
                else:
                    seen.add(key)
        # the keys' UTF-8 bytes; keys that have none (lone surrogates) are suspects
        joined = "".join(keys) if strings else ""
        if strings and joined.isascii():
            key_bytes = joined.encode("ascii")
            key_sizes = np.fromiter(map(len, keys), dtype=np.int64, count=count)
        else:
            encoded: list[bytes] = []
            for i, key in enumerate(keys):
                try:
                    encoded.append(key.encode("utf-8") if type(key) is str else b"")
                except UnicodeEncodeError:
                    encoded.append(b"")
                    suspect[i] = True
            key_bytes = b"".join(encoded)
            key_sizes = np.fromiter(map(len, encoded), dtype=np.int64, count=count)
        if not count:
            return suspect
        buf = np.frombuffer(view, dtype=np.uint8)
        last = max(len(buf) - 1, 0)

        def at(positions: np.ndarray) -> np.ndarray:
            return buf[np.minimum(positions, last)] if len(buf) else np.zeros(len(positions), dtype=np.uint8)

        starts, ends = bounds[:-1], bounds[1:]
        sizes = ends - starts
        first = at(starts)
        head = np.where(first == 0xDE, 3, np.where(first == 0xDF, 5, 1))
        ok = (sizes > 0) & (sizes <= MAX_LENGTH) & (((first >= 0x81) & (first <= 0x8F)) | (head > 1))
        entry = starts + head
        for i, byte in enumerate(_KEY_ENTRY):
            ok &= at(entry + i) == byte
        tag = at(entry + 4)
        fixstr = (tag >= 0xA0) & (tag <= 0xBF)
        length = np.where(fixstr, tag.astype(np.int64) - 0xA0, at(entry + 5).astype(np.int64))
        begin = entry + np.where(fixstr, 5, 6)
        ok &= (fixstr | (tag == 0xD9)) & (entry + 6 <= ends) & (begin + length <= ends) & (length == key_sizes)
        # compare the packed key bytes with the keys' bytes, all at once
        key_starts = np.cumsum(key_sizes) - key_sizes
        shift = np.repeat(begin - key_starts, key_sizes)
        differ = at(np.arange(len(key_bytes), dtype=np.int64) + shift) != np.frombuffer(key_bytes, dtype=np.uint8)
        counts = np.concatenate(([0], np.cumsum(differ)))
        ok &= counts[key_starts + key_sizes] == counts[key_starts]
        if not self._allow_unsafe:
            found = [match.start() for match in _OBJECT_KIND.finditer(view)]
            if found:
                owners = np.searchsorted(bounds, found, side="right") - 1
                suspect[owners[(owners >= 0) & (owners < count)]] = True
        return suspect | ~ok


def packed_key(data: bytes) -> Any:
    """Return the ``"key"`` value of a packed sample without decoding the rest (``None`` if absent).

    A sample written by dings starts with its key: that case reads a few bytes only.

    Raises:
        InvalidSampleError: ``data`` is not a packed msgpack map.
    """
    head = {0xDE: 3, 0xDF: 5}.get(data[0], 1) if data else 1
    if data[0] != 0x80 and data[head : head + 4] == _KEY_ENTRY:
        first = data[head + 4] if len(data) > head + 4 else None
        start = head + 5
        if first is not None and 0xA0 <= first <= 0xBF:
            size = first - 0xA0
        elif first == 0xD9 and len(data) > start:
            size, start = data[start], start + 1
        else:
            size = None
        if size is not None and start + size <= len(data):
            try:
                return data[start : start + size].decode("utf-8")
            except UnicodeDecodeError:
                pass  # reported by the full parse below
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=max(len(data), 1))
    unpacker.feed(data)
    try:
        found = None
        for _ in range(unpacker.read_map_header()):
            name = unpacker.unpack()
            if type(name) is str and name == "key":
                found = unpacker.unpack()
            else:
                unpacker.skip()
        return found
    except Exception as exc:  # msgpack raises several types for data that is not a map
        raise InvalidSampleError(f"packed sample is not a valid msgpack map ({type(exc).__name__}: {exc})") from None
