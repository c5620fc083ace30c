"""YFCC100m metadata: image counts per ZIP pack and the lists of rejected images.

Both are loaded on first use:

- ``COUNTS`` (``load_counts()``): ``((zip stem, image count), ...)`` sorted by stem, 9,456 packs,
  94,502,424 images; shipped in ``meta/`` (46 kB);
- ``load_rejected()``: zip stem → sorted array of rejected member indices (9,453 packs, 2,412,945
  images), from datadings' published reject list (2.5 MB, kept out of the wheel): downloaded on
  first use into ``$DINGS_DATA/YFCC100m/`` and checked against its md5 and sha256 (see
  :func:`rejected_file`). Reject files are plain msgpack maps (decoded without pickle) or text with
  ``<zip stem> <index>`` lines, optionally compressed (``.xz``, ``.gz``, ``.bz2``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..shipped import META_DIR

__all__ = [
    "COUNTS",
    "COUNTS_FILE",
    "FILES_TOTAL",
    "FILE_COUNTS",
    "PUBLISHED",
    "REJECTED_NAME",
    "REJECTED_SOURCE",
    "TOTAL_IMAGES",
    "TOTAL_REJECTED",
    "check_counts",
    "check_rejected",
    "load_counts",
    "load_rejected",
    "rejected_file",
]

#: ``[zip stem, image count]`` pairs of the image packs
COUNTS_FILE = META_DIR / "YFCC100m_counts.json.xz"
#: file name of the published reject list (a msgpack map: zip stem → ascending member indices)
REJECTED_NAME = "YFCC100m_rejected_images.msgpack.xz"
#: where the published reject list comes from, and its checksums (datadings 3.4 ships the same file)
REJECTED_SOURCE = {
    "path": REJECTED_NAME,
    "url": f"https://raw.githubusercontent.com/jfolz/datadings/master/datadings/sets/{REJECTED_NAME}",
    "md5": "31ccf40d2b43707de4d49ed72d080c66",
    "sha256": "02e487107dccf2efb9eb4ba9ca43617e5a8ef9b6404a7556a36d586fde9fe2c4",
    "instructions": f"copy {REJECTED_NAME} from a datadings 3.4 installation (datadings/sets/)",
}
#: ``rejected=PUBLISHED``: the published reject list (see :func:`rejected_file`)
PUBLISHED = "published"
#: images in all packs, and rejected ones, according to the shipped files
TOTAL_IMAGES = 94_502_424
TOTAL_REJECTED = 2_412_945

_STEM = re.compile(r"[0-9a-f]{10}\Z")


def check_counts(
    counts: Mapping[str, int] | Iterable[tuple[str, int]], source: str = "counts"
) -> tuple[tuple[str, int], ...]:
    """Validate image counts and return them as ``((stem, count), ...)`` sorted by stem.

    Args:
        counts: zip stem → number of image members, as a mapping or pairs.
        source: what to name in error messages (e.g. the file).

    Raises:
        ValueError: a stem that is not 10 lowercase hex characters, a count that is not an int >= 0,
            or a stem given twice.
    """
    pairs = list(counts.items()) if isinstance(counts, Mapping) else list(counts)
    seen: dict[str, int] = {}
    for pair in pairs:
        try:
            stem, count = pair
        except (TypeError, ValueError):
            raise ValueError(f"{source}: expected [zip stem, image count] pairs, got {pair!r}") from None
        if not isinstance(stem, str) or not _STEM.match(stem):
            raise ValueError(f"{source}: {stem!r} is not a zip stem (10 lowercase hex characters)")
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
            raise ValueError(f"{source}: image count {count!r} of {stem} is not an integer >= 0")
        if stem in seen:
            raise ValueError(f"{source}: {stem} is listed twice")
        seen[stem] = int(count)
    return tuple(sorted(seen.items()))


@lru_cache(maxsize=1)
def load_counts() -> tuple[tuple[str, int], ...]:
    """Return the shipped ``((zip stem, image count), ...)``, sorted by stem."""
    from dings.tools import load_json

    return check_counts(load_json(COUNTS_FILE), str(COUNTS_FILE))


def check_rejected(rejected: Mapping[Any, Any], source: str = "rejected") -> dict[str, np.ndarray]:
    """Validate a reject map and return it with sorted, unique ``int64`` index arrays.

    Args:
        rejected: zip stem → iterable of member indices.
        source: what to name in error messages.

    Raises:
        ValueError: a stem that is not a string, or an index that is not an int >= 0.
    """
    result: dict[str, np.ndarray] = {}
    for stem, indices in rejected.items():
        if not isinstance(stem, str):
            raise ValueError(f"{source}: zip stem {stem!r} is not a string")
        try:
            values = np.asarray(indices if isinstance(indices, (list, np.ndarray)) else list(indices))
        except (TypeError, OverflowError):
            values = np.asarray([None])  # not a list of numbers: refused below
        if values.ndim != 1 or (values.size and (values.dtype.kind not in "iu" or values.min() < 0)):
            raise ValueError(
                f"{source}: the rejected images of {stem} must be a list of integers >= 0, got {indices!r:.60}"
            )
        values = values.astype(np.int64)
        # the shipped lists are ascending already: sort only when needed
        result[stem] = values if np.all(values[1:] > values[:-1]) else np.unique(values)
    return result


def _read_text_rejects(text: str, source: str) -> dict[str, list[int]]:
    rejected: dict[str, list[int]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split()
        try:
            stem, index = fields
            rejected.setdefault(stem, []).append(int(index))
        except ValueError:
            raise ValueError(f"{source} line {number}: expected '<zip stem> <index>', got {line.strip()!r}") from None
    return rejected


def _load_one(path: Path) -> dict[str, np.ndarray]:
    from dings.format import unpackb
    from dings.tools import open_comp

    with open_comp(path, "rb") as f:
        data = f.read()
    if ".msgpack" in path.suffixes:
        try:
            # plain msgpack: the format's unpacker decodes no pickled objects
            content = unpackb(data)
        except Exception as exc:
            raise ValueError(f"{path}: not a msgpack reject map ({exc}); use the shipped file or a text list") from None
        if not isinstance(content, dict):
            raise ValueError(f"{path}: expected a msgpack map of zip stem -> indices, got {type(content).__name__}")
    else:
        try:
            content = _read_text_rejects(data.decode("utf-8"), str(path))
        except UnicodeDecodeError:
            raise ValueError(f"{path}: not a text reject list ('<zip stem> <index>' lines)") from None
    return check_rejected(content, str(path))


def rejected_file(data_dir: str | os.PathLike | None = None, progress: bool | None = None) -> Path:
    """The published reject list in ``<data_dir>/YFCC100m/``, downloaded there on first use.

    The file is checked against its md5 and sha256 every time (2.5 MB, milliseconds); a download
    that does not match is refused.

    Args:
        data_dir: the data directory (default ``$DINGS_DATA``, see :func:`dings.sets.data_dir`).
        progress: show download progress (``None``: on a terminal).

    Raises:
        dings.tools.download.DownloadError: the download failed (offline: copy the file there by hand).
        dings.tools.ChecksumMismatchError: the file is not the published list.
    """
    import hashlib

    from dings.tools import ChecksumMismatchError, prepare_indir

    from ..locations import data_dir as default_data_dir

    spec = {k: v for k, v in REJECTED_SOURCE.items() if k != "sha256"}
    located = prepare_indir({"rejected": spec}, default_data_dir(data_dir) / "YFCC100m", progress=progress)
    path = Path(located["rejected"]["path"])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != REJECTED_SOURCE["sha256"]:
        raise ChecksumMismatchError(
            f"{path}: sha256 is {digest}, expected {REJECTED_SOURCE['sha256']}; delete it and run again"
        )
    return path


@lru_cache(maxsize=4)
def _published_rejected(path: Path) -> dict[str, np.ndarray]:
    return _load_one(path)


def load_rejected(*paths: str | os.PathLike) -> dict[str, np.ndarray]:
    """Load reject files and merge them: zip stem → sorted unique member indices.

    Args:
        paths: msgpack maps (``*.msgpack``, ``*.msgpack.xz`` …) or text lists of ``<zip stem> <index>``
            lines, or :data:`PUBLISHED`; none means the published list (downloaded on first use, see
            :func:`rejected_file`; cached: do not modify the arrays).

    Raises:
        FileNotFoundError: a file does not exist.
        ValueError: a file's content is not a reject list (the message names the file).
    """
    if not paths:
        paths = (PUBLISHED,)
    loaded = [_published_rejected(rejected_file()) if p == PUBLISHED else _load_one(Path(p)) for p in paths]
    if len(loaded) == 1:
        return loaded[0]
    merged: dict[str, list[np.ndarray]] = {}
    for one in loaded:
        for stem, indices in one.items():
            merged.setdefault(stem, []).append(indices)
    return {stem: np.unique(np.concatenate(parts)) for stem, parts in merged.items()}


def __getattr__(name: str) -> Any:
    # COUNTS is loaded on first access (PEP 562)
    if name == "COUNTS":
        return load_counts()
    if name == "FILE_COUNTS":  # datadings' name: a list of [zip stem, image count] lists
        return [list(pair) for pair in load_counts()]
    if name == "FILES_TOTAL":  # datadings' name: images in all packs
        return sum(count for _, count in load_counts())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
