"""ZipFileReader: samples from the members of a ZIP archive, read in place without extracting."""

from __future__ import annotations

import os
import posixpath
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from dings.format import DamagedDataError

from .list_reader import ListReader, noop
from .patterns import FileListEntry, GlobPattern, collect_samples, pattern_list

__all__ = ["ZipFileReader", "MAX_MEMBER_SIZE"]

#: the default limit of a member's uncompressed size (1 GiB): a small archive cannot expand into all memory
MAX_MEMBER_SIZE = 1 << 30
#: bytes decompressed per read
_CHUNK = 1 << 20


class _Archive:
    """A ZIP archive's member list as a :class:`~dings.readers.patterns.FileSource`."""

    ordered = True  # glob matches keep the archive's member order, as in datadings

    def __init__(self, path: str, names: list[str]) -> None:
        self.path = path
        self.members = [name for name in names if not name.endswith("/")]
        self.member_set = set(self.members)

    def describe(self) -> str:
        return self.path

    def read_file_list(self, pattern: str) -> list[str] | None:
        # file lists are files on disk (as in datadings); their entries name members
        if not os.path.isfile(pattern):
            return None
        try:
            with open(pattern, encoding="utf-8-sig") as f:
                return f.readlines()
        except UnicodeDecodeError:
            raise ValueError(f"{pattern}: is a file, so it was read as a file list, but it is not UTF-8 text") from None

    def list_entry_path(self, root_dir: str, entry: FileListEntry, source: str) -> str:
        name = posixpath.join(root_dir, entry.path) if root_dir else entry.path
        if name not in self.member_set:
            raise FileNotFoundError(
                f"{source} line {entry.line}: {name!r} is not a member of {self.path}; "
                "fix the list or root_dir (member names are relative to the archive root, '/'-separated)"
            )
        return name

    def files(self, glob: GlobPattern) -> Iterator[tuple[str, ...]]:
        prefix = glob.base + "/" if glob.base else ""
        depth = glob.max_depth
        for name in self.members:
            if name.startswith(prefix):
                parts = tuple(name[len(prefix) :].split("/"))
                if depth is None or len(parts) <= depth:
                    yield parts

    def join(self, base: str, parts: tuple[str, ...]) -> str:
        return "/".join((base, *parts)) if base else "/".join(parts)


class ZipFileReader(ListReader):
    """Read the members of a ZIP file as samples (datadings' ``ZipFileReader``).

    Works exactly like :class:`DirectoryReader`, with the archive's root in place of the
    working directory, except that a glob's matches keep the archive's member order (as in
    datadings) instead of being sorted: glob patterns (default ``"{LABEL}/**"``: every file, labelled by its
    top-level directory) match member names, ``path`` is the member name, and ``data`` holds
    the member's bytes, decompressed only when the sample is read. Nothing is extracted to disk.
    File lists are text files on disk whose paths name members (below ``root_dir`` inside the
    archive); every listed member must exist.

    Archives are untrusted: a member whose declared uncompressed size exceeds
    ``max_member_size`` is refused before a byte of it is decompressed (a small ZIP can declare,
    and expand to, GiB), and a member that decompresses to more than it declares (a lying
    header) or fails its CRC check raises :class:`dings.format.DamagedDataError` naming the
    archive and the member.

    The archive stays open while the reader is used. A copy (``copy.copy``), an unpickled
    reader and a reader used in a forked process (e.g. a DataLoader worker) each open their own
    handle, so they never share a file position.

    Args:
        path: the ZIP file.
        patterns: one search pattern or several (member-name globs or file lists).
        labels: labels in the order that defines numeric labels, or the path of a file with one
            label per line; ``None`` natural-sorts the labels found.
        numeric_labels: replace labels by their index in the list of labels.
        initfun: ``initfun(sample)`` changes each sample in place once, during construction.
        convertfun: ``convertfun(sample)`` changes a shallow copy (with ``data``) in place every
            time a sample is returned.
        include: :func:`fnmatch.fnmatch` patterns matched against the member name; if given, a
            member must match one.
        exclude: :func:`fnmatch.fnmatch` patterns; a member matching any is skipped.
        separator: column separator of file lists.
        root_dir: prefix (inside the archive) for relative paths in file lists.
        max_member_size: the largest uncompressed member read, in bytes (default
            :data:`MAX_MEMBER_SIZE`, 1 GiB); ``None`` for no limit (only for archives you trust).

    Raises:
        FileNotFoundError: ``path`` does not exist, or a file list names a missing member.
        zipfile.BadZipFile: ``path`` is not a ZIP file.
        ValueError: a malformed pattern or file list, ``max_member_size`` is not positive, and
            the errors of :class:`ListReader`.
        dings.format.DamagedDataError: (when a sample is read) its member is larger than
            ``max_member_size``, expands beyond its declared size, or is damaged.

    Warns:
        UserWarning: a glob pattern matched no member.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        patterns: str | os.PathLike | Sequence[str | os.PathLike] = "{LABEL}/**",
        labels: Iterable | str | os.PathLike | None = None,
        numeric_labels: bool = True,
        initfun: Callable[[dict], Any] = noop,
        convertfun: Callable[[dict], Any] = noop,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        separator: str = "\t",
        root_dir: str | os.PathLike = "",
        max_member_size: int | None = MAX_MEMBER_SIZE,
    ) -> None:
        if max_member_size is not None and (type(max_member_size) is not int or max_member_size < 1):
            raise ValueError(f"max_member_size must be a positive int (bytes) or None, got {max_member_size!r}")
        self.max_member_size = max_member_size
        self.path = os.fspath(path)
        # an absolute path keeps working for copies and workers if the working directory changes
        self._abspath = os.path.abspath(self.path)
        self._zip: zipfile.ZipFile | None = None
        self._pid = -1
        self.patterns = pattern_list(patterns)
        try:
            archive = _Archive(self.path, self._zipfile().namelist())
            samples = collect_samples(archive, self.patterns, separator, root_dir, include, exclude)
            super().__init__(samples, labels, numeric_labels, initfun, convertfun)
        except BaseException:
            self.close()
            raise

    def _zipfile(self) -> zipfile.ZipFile:
        """The open archive; opened again in a new process so forks never share a file position."""
        if self._zip is None or self._pid != os.getpid():
            try:
                self._zip = zipfile.ZipFile(self._abspath)
            except FileNotFoundError:
                raise FileNotFoundError(f"{self.path}: ZIP file not found; check the path") from None
            except zipfile.BadZipFile as error:
                raise zipfile.BadZipFile(f"{self.path}: not a ZIP file ({error}); check the path") from None
            self._pid = os.getpid()
        return self._zip

    def _load(self, index: int, sample: dict) -> None:
        if "data" in sample:
            return
        name = sample["path"]
        try:
            member = self._zipfile().getinfo(name)
        except KeyError:
            raise FileNotFoundError(
                f"{self.path}: member {name!r} of sample {index} (key {sample['key']!r}) not found; "
                "if the archive changed, create the reader again"
            ) from None
        sample["data"] = self._read_member(member, index, sample["key"])

    def _read_member(self, member: zipfile.ZipInfo, index: int, key: Any) -> bytes:
        """The bytes of ``member``: at most its declared size, which must be within the limit."""
        where = f"{self.path}: member {member.filename!r} of sample {index} (key {key!r})"
        declared = member.file_size
        if self.max_member_size is not None and declared > self.max_member_size:
            raise DamagedDataError(
                f"{where} declares {declared} bytes uncompressed, more than max_member_size={self.max_member_size}; "
                "raise max_member_size only if you trust the archive",
                path=self.path,
                index=index,
            )
        chunks = []
        total = 0
        try:
            with self._zipfile().open(member) as stream:
                while chunk := stream.read(_CHUNK):
                    total += len(chunk)
                    if total > declared:
                        raise DamagedDataError(
                            f"{where} expands beyond the {declared} bytes its header declares; the archive is damaged",
                            path=self.path,
                            index=index,
                        )
                    chunks.append(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
            raise DamagedDataError(
                f"{where} cannot be read ({exc}); the archive is damaged or uses an unsupported feature",
                path=self.path,
                index=index,
            ) from None
        return b"".join(chunks)

    def close(self) -> None:
        """Close the archive; reading again reopens it."""
        if self._zip is not None:
            self._zip.close()
        self._zip = None

    def __copy__(self) -> ZipFileReader:
        clone = super().__copy__()
        clone._zip = None  # opened on first read
        return clone

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_zip"] = None
        return state

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"ZipFileReader({self.path!r}, <{len(self)} samples>)"
