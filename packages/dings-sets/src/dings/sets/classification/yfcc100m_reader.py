"""YFCC100mReader: the YFCC100m images read in place from their ZIP image packs, rejects skipped."""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
from dings.readers import Reader

from ..samples import ImageData
from .yfcc100m_counts import COUNTS_FILE, PUBLISHED, check_counts, check_rejected, load_counts, load_rejected

__all__ = ["RejectedImageError", "YFCC100mReader", "image_members"]

#: image members are ``<folder>/<lowercase hex name>``; everything else in a pack is ignored
_IMAGE = re.compile(r"/[0-9a-f]+\Z")

Validator = Callable[[bytes], "bytes | None"]
Counts = Mapping[str, int] | Iterable[tuple[str, int]] | str | os.PathLike | None
Rejected = Mapping[str, Iterable[int]] | str | os.PathLike | Sequence[str | os.PathLike] | None


class RejectedImageError(ValueError):
    """The validator rejected the image at an index that was read directly."""


def image_members(pack: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """Return the image members of an open pack in central-directory order (the reject lists' indices)."""
    return [info for info in pack.infolist() if _IMAGE.search(info.filename)]


class YFCC100mReader(Reader):
    """The images of the YFCC100m pre-release, read from its ZIP image packs without conversion.

    Samples are ``{"key": "<zip stem>/<hex name>", "image": <bytes>}`` (the member's raw bytes), in
    the order of the packs (sorted by stem) and of the members in each pack, leaving out the
    images listed as rejected (damaged, placeholder or blank images; see ``INFO``). Sequential
    reading (iteration, ranges, :meth:`slice`) opens each pack once; random access opens the
    pack of the sample (the last one stays open).

    With a ``validator``, iteration, :meth:`slice`, :meth:`next` and :meth:`rawnext` skip the
    images it rejects (so fewer than ``len(reader)`` samples may come) and log them to
    ``error_file``; reading a rejected image by index (``reader[i]``, :meth:`get`, and augments that
    read by index) raises :class:`RejectedImageError`.

    Args:
        image_packs_dir: folder with the ``<10 hex>.zip`` image packs.
        validator: ``validator(data) -> bytes | None``: the image bytes to use, or ``None`` to reject.
        rejected: images to leave out: a map zip stem → member indices, a reject file (msgpack map
            or ``<zip stem> <index>`` text lines, optionally compressed), several such files, or
            ``None``/``{}`` for none. Default: the published list, downloaded into
            ``$DINGS_DATA/YFCC100m/`` on first use and verified (see :func:`~dings.sets.YFCC100m_counts.rejected_file`).
        counts: image count per pack (map or ``(stem, count)`` pairs, or a JSON file of pairs);
            default: the shipped counts of all 9,456 packs. ``None`` counts the images of the packs
            present in ``image_packs_dir`` (opens every pack once).
        error_file: a text file that gets ``<zip stem> <index>`` lines for images the validator
            rejects (appended; usable as a reject file later).
        progress: show progress while counting packs (``counts=None``).

    Raises:
        FileNotFoundError: the folder or a pack listed in ``counts`` is missing.
        ValueError: bad counts or reject lists (the message names the source).
        TypeError: ``validator`` is not callable.
    """

    def __init__(
        self,
        image_packs_dir: str | os.PathLike,
        validator: Validator | None = None,
        rejected: Rejected = PUBLISHED,
        counts: Counts = COUNTS_FILE,
        error_file: str | os.PathLike | None = None,
        progress: bool = False,
    ) -> None:
        self.path = Path(image_packs_dir)
        if not self.path.is_dir():
            raise FileNotFoundError(f"{self.path}: no such folder; pass the folder with the YFCC100m ZIP image packs")
        if validator is not None and not callable(validator):
            raise TypeError(f"validator must be callable (bytes -> bytes or None), got {validator!r}")
        self._validator = validator
        self._error_path = None if error_file is None else Path(error_file)
        self._error: IO[str] | None = None
        self._zip: tuple[int, zipfile.ZipFile, list[zipfile.ZipInfo], dict[str, int] | None] | None = None
        self._pid = -1
        pairs = self._counts(counts, progress)
        self._stems = [stem for stem, _ in pairs]
        self._pack_index = {stem: z for z, stem in enumerate(self._stems)}
        self._sizes = np.array([count for _, count in pairs], dtype=np.int64)
        missing = [s for s in self._stems if not (self.path / f"{s}.zip").is_file()]
        if missing:
            raise FileNotFoundError(
                f"{self.path}: {len(missing)} of the {len(self._stems)} image packs in the counts are missing "
                f"(e.g. {missing[0]}.zip); add them, or pass counts=None to read only the packs present"
            )
        reject_map = self._rejects(rejected)
        empty = np.zeros(0, dtype=np.int64)
        # per pack: rejected indices below its count, and (index - rank) to map valid ranks to indices
        self._rejected = [reject_map.get(stem, empty) for stem in self._stems]
        self._rejected = [r[r < size] for r, size in zip(self._rejected, self._sizes)]
        self._shift = [r - np.arange(len(r)) for r in self._rejected]
        valid = self._sizes - np.array([len(r) for r in self._rejected], dtype=np.int64)
        self._starts = np.concatenate([[0], np.cumsum(valid)]).astype(np.int64)

    # --- construction helpers ---

    def _counts(self, counts: Counts, progress: bool) -> tuple[tuple[str, int], ...]:
        if counts is None:
            return self._scan(progress)
        if isinstance(counts, (str, os.PathLike)):
            if Path(counts) == COUNTS_FILE:
                return load_counts()
            from dings.tools import load_json

            return check_counts(load_json(counts), os.fspath(counts))
        return check_counts(counts)

    def _scan(self, progress: bool) -> tuple[tuple[str, int], ...]:
        from dings.tools import progress_bar

        stems = sorted(p.name[:-4] for p in self.path.iterdir() if re.fullmatch(r"[0-9a-f]{10}\.zip", p.name))
        pairs = []
        for stem in progress_bar(stems, desc="counting images", unit="pack", enabled=progress):
            with self._open_pack(stem) as pack:
                pairs.append((stem, len(image_members(pack))))
        return check_counts(pairs, str(self.path))

    @staticmethod
    def _rejects(rejected: Rejected) -> dict[str, np.ndarray]:
        if rejected is None:
            return {}
        if isinstance(rejected, Mapping):
            return check_rejected(rejected)
        if isinstance(rejected, (str, os.PathLike)):
            return load_rejected(rejected)
        return load_rejected(*rejected) if rejected else {}

    # --- packs ---

    def _open_pack(self, stem: str) -> zipfile.ZipFile:
        path = self.path / f"{stem}.zip"
        try:
            return zipfile.ZipFile(path)
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: image pack not found; it is listed in the counts") from None
        except zipfile.BadZipFile as exc:
            raise ValueError(f"{path}: not a ZIP file ({exc}); obtain the pack again") from None

    def _members_of(self, z: int, pack: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
        members = image_members(pack)
        if len(members) != self._sizes[z]:
            raise ValueError(
                f"{self.path / (self._stems[z] + '.zip')}: holds {len(members)} images but the counts say "
                f"{self._sizes[z]}; obtain the pack again, or pass counts=None to count the packs present"
            )
        return members

    def _cached(
        self, z: int, by_name: bool = False
    ) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo], dict[str, int] | None]:
        """The open pack ``z`` for random access (kept open until another pack is needed)."""
        cached = self._zip
        if cached is None or cached[0] != z or self._pid != os.getpid():
            if cached is not None and self._pid == os.getpid():
                cached[1].close()
            pack = self._open_pack(self._stems[z])
            try:
                members = self._members_of(z, pack)
            except BaseException:
                pack.close()
                raise
            cached = self._zip = (z, pack, members, None)
            self._pid = os.getpid()
        if by_name and cached[3] is None:
            cached = self._zip = (*cached[:3], {info.filename: m for m, info in enumerate(cached[2])})
        return cached[1], cached[2], cached[3]

    def _locate(self, index: int) -> tuple[int, int]:
        """Pack and member index of sample ``index`` (valid, non-negative)."""
        z = int(np.searchsorted(self._starts, index, side="right")) - 1
        rank = index - int(self._starts[z])
        return z, rank + int(np.searchsorted(self._shift[z], rank, side="right"))

    def _validate(self, z: int, m: int, data: bytes) -> bytes | None:
        if self._validator is None:
            return data
        checked = self._validator(data)
        if checked is None:
            self._log_reject(z, m)
        return checked

    def _log_reject(self, z: int, m: int) -> None:
        if self._error_path is None:
            return
        if self._error is None:
            self._error = open(self._error_path, "a", encoding="utf-8")
        self._error.write(f"{self._stems[z]} {m}\n")
        self._error.flush()

    def _items(self, begin: int, end: int) -> Iterator[tuple[int, str, bytes | None]]:
        """Yield ``(index, key, bytes or None if the validator rejected it)`` for ``begin … end - 1``."""
        index = begin
        while index < end:
            z, _ = self._locate(index)
            stop = min(end, int(self._starts[z + 1]))
            keep = np.ones(int(self._sizes[z]), dtype=bool)
            keep[self._rejected[z]] = False
            first = index - int(self._starts[z])
            with self._open_pack(self._stems[z]) as pack:
                members = self._members_of(z, pack)
                for m in np.flatnonzero(keep)[first : first + stop - index].tolist():
                    info = members[m]
                    yield index, info.filename, self._validate(z, m, pack.read(info))
                    index += 1

    # --- the Reader interface ---

    def __len__(self) -> int:
        return int(self._starts[-1])

    def find_key(self, index: int) -> str:
        z, m = self._locate(self._normalize(index))
        return self._cached(z)[1][m].filename

    def find_index(self, key: str) -> int:
        stem = key.split("/", 1)[0] if isinstance(key, str) else None
        if stem not in self._pack_index:
            raise KeyError(f"no sample has key {key!r}: keys are '<zip stem>/<hex name>' of a pack in the counts")
        z = self._pack_index[stem]
        names = self._cached(z, by_name=True)[2]
        if key not in names:  # type: ignore[operator]
            raise KeyError(f"no sample has key {key!r}: {stem}.zip has no such image")
        m = names[key]  # type: ignore[index]
        rejected = self._rejected[z]
        position = int(np.searchsorted(rejected, m))
        if position < len(rejected) and rejected[position] == m:
            raise KeyError(f"no sample has key {key!r}: it is a rejected image")
        return int(self._starts[z]) + m - position

    def read_sample(self, index: int, *, raw: bool = False, copy: bool = True) -> Any:
        """Return sample ``index`` (valid, non-negative); a rejected image raises RejectedImageError."""
        z, m = self._locate(index)
        pack, members, _ = self._cached(z)
        info = members[m]
        data = self._validate(z, m, pack.read(info))
        if data is None:
            raise RejectedImageError(f"{info.filename} (index {index}): rejected by the validator")
        return self._pack(ImageData(info.filename, data), raw)

    def read_range(self, start: int, stop: int, *, raw: bool = False, copy: bool = True) -> Iterator[Any]:
        """Yield samples ``start`` … ``stop - 1`` (valid bounds); a rejected image raises RejectedImageError."""
        for index, key, data in self._items(start, stop):
            if data is None:
                raise RejectedImageError(f"{key} (index {index}): rejected by the validator")
            yield self._pack(ImageData(key, data), raw)

    def _valid(self, begin: int, end: int, yield_key: bool, raw: bool, track: bool) -> Iterator[Any]:
        position = begin
        try:
            for index, key, data in self._items(begin, end):
                position = index + 1
                if data is None:
                    continue
                sample = self._pack(ImageData(key, data), raw)
                yield (key, sample) if yield_key else sample
        finally:
            if track:
                self._position = position

    def iter(
        self,
        start: int | None = None,
        stop: int | None = None,
        yield_key: bool = False,
        raw: bool = False,
        copy: bool = True,
        chunk_size: int = 16,
    ) -> Iterator[Any]:
        """Iterate like :meth:`dings.readers.Reader.iter`, skipping images the validator rejects."""
        begin, end = self._bounds(self._resume() if start is None else start, stop)
        return self._valid(begin, end, yield_key, raw, track=True)

    def slice(
        self,
        start: int | None,
        stop: int | None = None,
        yield_key: bool = False,
        raw: bool = False,
        copy: bool = True,
    ) -> list:
        """Samples ``start`` … ``stop - 1`` as a list, without those the validator rejects."""
        begin, end = self._bounds(0 if start is None else start, stop)
        return list(self._valid(begin, end, yield_key, raw, track=False))

    def next(self) -> Any:
        """Return the next sample the validator accepts and advance the read position past it."""
        return self._next(raw=False)

    def rawnext(self) -> bytes:
        """Like :meth:`next`, as packed msgpack bytes."""
        return self._next(raw=True)

    def _next(self, raw: bool) -> Any:
        while self._position < len(self):
            index = self._position
            self._position += 1
            try:
                return self.get(index, raw=raw)
            except RejectedImageError:
                continue
        raise StopIteration

    def close(self) -> None:
        """Close the open pack and the error file; reading again reopens them."""
        if self._zip is not None and self._pid == os.getpid():
            self._zip[1].close()
        self._zip = None
        if self._error is not None:
            self._error.close()
        self._error = None

    def __copy__(self) -> YFCC100mReader:
        clone = super().__copy__()
        clone._zip = None
        clone._error = None
        return clone

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_zip"] = None
        state["_error"] = None
        return state

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"YFCC100mReader({os.fspath(self.path)!r}, <{len(self)} samples>)"
