"""What the segmentation converters and metadata modules share.

Reading archive members, class counts and median-frequency weights, the shipped metadata files and atomic JSON output. Pillow is imported only inside
the functions that decode images (through :func:`dings.sets.extras.require_extra`).
"""

from __future__ import annotations

import json
import os
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from ..extras import require_extra

__all__ = [
    "Archive",
    "Named",
    "class_fractions",
    "label_map_fractions",
    "median_frequency_weights",
    "statistics",
    "sum_fractions",
    "write_json",
]


def median_frequency_weights(counts: Sequence[float]) -> list[float]:
    """Median-frequency class weights: with ``f_i = c_i / sum(c)``, ``w_i = median(f) / f_i``.

    Args:
        counts: per-class counts (e.g. summed per-image pixel fractions), all positive.

    Returns:
        One plain float per class.

    Raises:
        ValueError: no counts, or a count that is not positive.
    """
    values = np.asarray(counts, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"median_frequency_weights: need a non-empty list of counts, got shape {values.shape}")
    if not np.all(values > 0):
        raise ValueError("median_frequency_weights: every class count must be positive (drop absent classes first)")
    frequencies = values / values.sum()
    return [float(w) for w in np.median(frequencies) / frequencies]


def class_fractions(label_map: np.ndarray) -> tuple[list[int], list[float]]:
    """Histogram of a label map's class ids divided by its pixel count (fractions summing to 1).

    Args:
        label_map: integer array of class ids (any shape).

    Returns:
        ``(ids, fractions)`` for the ids that occur, ids ascending.
    """
    array = np.asarray(label_map)
    if array.size == 0:
        return [], []
    ids, counts = np.unique(array, return_counts=True)
    return [int(i) for i in ids], [float(c) for c in counts / array.size]


def label_map_fractions(png: bytes) -> tuple[list[int], list[float]]:
    """:func:`class_fractions` of a single-channel PNG label map given as bytes."""
    from dings.tools import decode_label_map

    require_extra("PIL.Image", "segmentation", "segmentation")
    return class_fractions(decode_label_map(png))


def sum_fractions(
    per_image: Iterable[tuple[Sequence[int], Sequence[float]]],
) -> tuple[list[int], list[float]]:
    """Add up per-image class fractions (in the given order, so the sums are reproducible).

    Returns:
        ``(INDEXES, COUNTS)``: the class ids that occur in any image, ascending, and their sums.
    """
    totals: dict[int, float] = {}
    for ids, fractions in per_image:
        for i, f in zip(ids, fractions):
            totals[int(i)] = totals.get(int(i), 0.0) + float(f)
    indexes = sorted(totals)
    return indexes, [totals[i] for i in indexes]


def write_json(path: str | os.PathLike, content: Any) -> Path:
    """Write ``content`` as JSON to ``path`` atomically (``path.part``, then renamed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    try:
        with open(part, "w", encoding="utf-8") as f:
            json.dump(content, f)
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return path


class Archive:
    """Read members of a zip or tar archive by name, with one clear error for a missing member.

    Args:
        path: the archive (zip, or tar with any compression).

    Raises:
        ValueError: the file is neither a zip nor a tar archive.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        self._members: dict[str, Any] = {}
        try:
            if zipfile.is_zipfile(self.path):
                self._zip = zipfile.ZipFile(self.path)
                self._members = {i.filename: i for i in self._zip.infolist() if not i.is_dir()}
            else:
                self._tar = tarfile.open(self.path, "r:*")
                self._members = {m.name: m for m in self._tar.getmembers() if m.isfile()}
        except (OSError, tarfile.TarError, zipfile.BadZipFile, EOFError) as exc:
            self.close()
            raise ValueError(f"{self.path}: not a readable zip or tar archive ({exc}); download it again") from exc

    def names(self) -> list[str]:
        """Every file member, in archive order."""
        return list(self._members)

    def __contains__(self, name: object) -> bool:
        return name in self._members

    def read(self, name: str) -> bytes:
        """The bytes of member ``name``.

        Raises:
            ValueError: no such member, or it cannot be read.
        """
        member = self._members.get(name)
        if member is None:
            raise ValueError(f"{self.path}: member {name} is missing; check the archive or download it again")
        try:
            if self._zip is not None:
                return self._zip.read(member)
            handle = self._tar.extractfile(member) if self._tar is not None else None
            if handle is None:
                raise ValueError(f"{self.path}: member {name} is not a regular file")
            return handle.read()
        except (OSError, tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise ValueError(f"{self.path}: cannot read member {name} ({exc}); download the archive again") from exc

    def close(self) -> None:
        """Close the archive."""
        if self._zip is not None:
            self._zip.close()
        if self._tar is not None:
            self._tar.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def statistics(indexes: Sequence[int], counts: Sequence[float]) -> dict[str, list[Any]]:
    """``{"INDEXES", "COUNTS", "WEIGHTS"}`` as written or printed by the ``--calculate-weights`` options."""
    return {
        "INDEXES": list(indexes),
        "COUNTS": list(counts),
        "WEIGHTS": median_frequency_weights(counts) if counts else [],
    }


class Named:
    """Wrap ``fn(data)`` to take ``(name, data)`` items and name the member in its ``ValueError``.

    Picklable when ``fn`` is a module-level function, so it can go through ``parallel_map``.

    Args:
        fn: the per-item function.
    """

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    def __call__(self, item: tuple[str, Any]) -> Any:
        name, data = item
        try:
            return self.fn(data)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from exc
