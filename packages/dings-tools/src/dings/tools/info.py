"""``info``: length, files, md5 state and a schema summary of a dataset."""

from __future__ import annotations

import numbers
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from dings.format import (
    CorruptIndexError,
    DamagedDataError,
    VerificationReport,
    check_md5,
    data_path,
    index_path,
    load_md5,
    progress_bar,
)
from dings.readers import open_dataset, resolve_dataset

from ._dataset import DatasetSpec, as_count, human_size
from .render import sniff_image

__all__ = ["DatasetSummary", "KeySummary", "info"]

#: index files reported by :func:`info`, in the order of FORMAT.md (``.index`` is the legacy one)
INDEX_FILES = (".offsets", ".keys", ".key_hashes", ".filter", ".crc32", ".md5", ".index")
#: the most common shapes/dtypes/labels shown by ``str()`` (``to_dict`` has all)
SHOWN = 5


@dataclass
class KeySummary:
    """What one sample key holds in the samples looked at.

    Attributes:
        count: samples that have this key.
        types: value type name → count (``"str"``, ``"bytes"``, ``"int"``, ``"ndarray"``, …).
        dtypes: numpy dtype → count, for arrays and numpy scalars.
        shapes: array shape → count.
        images: image format → count, for bytes that are encoded images.
        min_length: shortest str/bytes/list/map (characters, bytes or items), if any.
        max_length: longest likewise.
    """

    count: int = 0
    types: Counter = field(default_factory=Counter)
    dtypes: Counter = field(default_factory=Counter)
    shapes: Counter = field(default_factory=Counter)
    images: Counter = field(default_factory=Counter)
    min_length: int | None = None
    max_length: int | None = None

    def add(self, value: Any) -> None:
        """Count one value."""
        self.count += 1
        if isinstance(value, np.ndarray):
            self.types["ndarray"] += 1
            self.dtypes[str(value.dtype)] += 1
            self.shapes[tuple(value.shape)] += 1
            return
        if isinstance(value, np.generic):
            self.types[f"numpy.{type(value).__name__}"] += 1
            self.dtypes[str(value.dtype)] += 1
            return
        self.types[type(value).__name__] += 1
        if isinstance(value, (str, bytes, bytearray, memoryview, list, tuple, dict)):
            length = len(value)
            self.min_length = length if self.min_length is None else min(self.min_length, length)
            self.max_length = length if self.max_length is None else max(self.max_length, length)
            if isinstance(value, (bytes, bytearray, memoryview)):
                image = sniff_image(value)
                if image is not None:
                    self.images[image.format] += 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: counters become maps with str keys (shapes as ``"(32, 32, 3)"``)."""
        return {
            "count": self.count,
            "types": dict(self.types.most_common()),
            "dtypes": dict(self.dtypes.most_common()),
            "shapes": {_shape(s): n for s, n in self.shapes.most_common()},
            "images": dict(self.images.most_common()),
            "min_length": self.min_length,
            "max_length": self.max_length,
        }

    def describe(self) -> str:
        """One line: types, dtypes, shapes, image formats and lengths."""
        parts = [_top(self.types)]
        if self.dtypes:
            parts.append("dtype " + _top(self.dtypes))
        if self.shapes:
            parts.append("shape " + _top(Counter({_shape(s): n for s, n in self.shapes.items()})))
        if self.images:
            parts.append("images " + _top(self.images))
        if self.min_length is not None:
            span = (
                f"{self.min_length}" if self.min_length == self.max_length else f"{self.min_length}–{self.max_length}"
            )
            parts.append(f"length {span}")
        return "; ".join(parts)


def _shape(shape: tuple) -> str:
    return str(tuple(shape))


def _top(counter: Counter) -> str:
    common = counter.most_common(SHOWN)
    text = ", ".join(f"{name} ×{n}" for name, n in common)
    if len(counter) > SHOWN:
        text += f", … ({len(counter)} distinct)"
    return text


@dataclass
class DatasetSummary:
    """Result of :func:`info`. ``str(info)`` is a readable summary, :meth:`to_dict` a JSON-able one.

    Attributes:
        path: the data file (for a set of shards: the spec it was opened by; a URL as ``str``).
        length: number of samples (of every shard together).
        files: file name → size in bytes, for the data file and every index file found; for a
            set, ``*.msgpack (N files)`` → their total size, and so for each index file kind.
        index_files: index file suffix (``".offsets"`` … ``".md5"``, legacy ``".index"``) → exists.
        md5: ``"ok"``, ``"mismatch"``, ``"missing"`` (no md5 file), ``"unreadable"`` or
            ``"not checked"``.
        md5_problems: what the md5 check found, one line each.
        scanned: number of samples the schema summary looked at (the first ones).
        keys: sample key → :class:`KeySummary`, in order of first appearance.
        labels: numeric ``"label"`` value → count, sorted by label; ``None`` if no sample had one.
        label_names: the names of the labels from ``NAME.msgpack.labels.json``, or ``None``.
        shards: number of data files (1 for a single file).
    """

    path: Path | str
    length: int
    files: dict[str, int] = field(default_factory=dict)
    index_files: dict[str, bool] = field(default_factory=dict)
    md5: str = "not checked"
    md5_problems: list[str] = field(default_factory=list)
    scanned: int = 0
    keys: dict[str, KeySummary] = field(default_factory=dict)
    labels: dict[Any, int] | None = None
    label_names: list[str] | None = None
    shards: int = 1

    @property
    def total_size(self) -> int:
        """Bytes of all files of the dataset."""
        return sum(self.files.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (``json.dumps(info.to_dict())`` works); label keys become str."""
        return {
            "path": str(self.path),
            "length": self.length,
            "files": dict(self.files),
            "total_size": self.total_size,
            "index_files": dict(self.index_files),
            "md5": self.md5,
            "md5_problems": list(self.md5_problems),
            "scanned": self.scanned,
            "keys": {str(k): v.to_dict() for k, v in self.keys.items()},
            "labels": None if self.labels is None else {str(k): n for k, n in self.labels.items()},
            "label_names": None if self.label_names is None else list(self.label_names),
            "shards": self.shards,
        }

    def __str__(self) -> str:
        lines = [f"{self.path}", f"  samples: {self.length:,}"]
        if self.shards > 1:
            lines.append(f"  shards: {self.shards:,}")
        files = ", ".join(f"{name} ({human_size(size)})" for name, size in self.files.items())
        lines.append(f"  files: {files}; total {human_size(self.total_size)}")
        present = [s.lstrip(".") for s, ok in self.index_files.items() if ok]
        absent = [s.lstrip(".") for s, ok in self.index_files.items() if not ok and s != ".index"]
        lines.append(
            f"  index files: {' '.join(present) or 'none'}" + (f" (missing: {' '.join(absent)})" if absent else "")
        )
        lines.append(f"  md5: {self.md5}" + (" (dings verify hashes every file)" if self.md5 == "not checked" else ""))
        lines.extend(f"    - {problem}" for problem in self.md5_problems)
        lines.append(f"  keys (in the first {self.scanned:,} of {self.length:,} samples):")
        width = max((len(str(k)) for k in self.keys), default=0)
        for name, summary in self.keys.items():
            seen = "" if summary.count == self.scanned else f" (in {summary.count:,} samples)"
            lines.append(f"    {str(name):<{width}}  {summary.describe()}{seen}")
        if self.labels is not None:
            counts = ", ".join(f"{self._label_text(label)}: {n:,}" for label, n in list(self.labels.items())[:50])
            more = f", … ({len(self.labels)} labels)" if len(self.labels) > 50 else ""
            counted = (
                ""
                if self.scanned >= self.length
                else f"; counted in the first {self.scanned:,} of {self.length:,} samples (--samples all counts all)"
            )
            lines.append(f"  labels ({len(self.labels)} distinct): {counts}{more}{counted}")
        elif self.label_names is not None:
            lines.append(
                f"  label names ({len(self.label_names)}): {', '.join(self.label_names[:50])}"
                + (", …" if len(self.label_names) > 50 else "")
            )
        return "\n".join(lines)

    def _label_text(self, label: Any) -> str:
        names = self.label_names
        if names is not None and isinstance(label, int) and 0 <= label < len(names):
            return f"{label} ({names[label]})"
        return str(label)


def _file_sizes(result: DatasetSummary, shards: list[Path], manifest: Path | None) -> None:
    """Sizes of the files (one file: each by name; a set: per kind, ``*.msgpack (6 files)``) and index files."""
    for suffix in ("", *INDEX_FILES):
        files = [index_path(shard, suffix) if suffix else shard for shard in shards]
        present = [file for file in files if file.is_file()]
        if suffix:
            result.index_files[suffix] = len(present) == len(files)
        if not present:
            continue
        size = sum(file.stat().st_size for file in present)
        if len(shards) == 1:
            result.files[present[0].name] = size
        else:
            result.files[f"*.msgpack{suffix} ({len(present):,} files)"] = size
    if manifest is not None and manifest.is_file():
        result.files[manifest.name] = manifest.stat().st_size


#: md5 states from best to worst; a set gets the worst state of its shards
_MD5_STATES = ("not checked", "ok", "missing", "unreadable", "mismatch")


def _md5_state(result: DatasetSummary, data: Path, progress: bool | None) -> None:
    md5_path = index_path(data, ".md5")
    state = "ok"
    if not md5_path.exists():
        state = "missing"
    else:
        try:
            load_md5(md5_path)
        except (CorruptIndexError, UnicodeDecodeError, OSError) as exc:
            state = "unreadable"
            result.md5_problems.append(f"{md5_path}: {exc}")
        else:
            report = VerificationReport(data)
            check_md5(report, data, progress=progress)
            state = "ok" if report.ok else "mismatch"
            result.md5_problems.extend(report.problems)
    if _MD5_STATES.index(state) > _MD5_STATES.index(result.md5):
        result.md5 = state


def _numeric_label(value: Any) -> int | float | None:
    if isinstance(value, bool) or isinstance(value, np.bool_):
        return None
    if isinstance(value, np.generic) and np.issubdtype(value.dtype, np.number):
        value = value.item()
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return value  # type: ignore[return-value]
    return None


def info(
    path: DatasetSpec,
    samples: int | Literal["all"] = 1000,
    *,
    check_md5: bool = False,
    progress: bool | None = True,
) -> DatasetSummary:
    """Describe a dataset: length, file sizes, index files, md5 state and a schema summary.

    The schema summary looks at the first ``samples`` samples: for every key its value types,
    dtypes, shapes, image formats (sniffed from bytes) and lengths, and for a numeric
    ``"label"`` the count per label (what emloop calls stream info, tensorpack ``PrintData``).

    Args:
        path: the dataset: a data file (``NAME.msgpack``, or any of its index files), a shard
            pattern, a folder, a manifest or a list of them; a set is described as a whole.
        samples: how many samples to look at, or ``"all"``.
        check_md5: hash every file and compare with the md5 file (reads the whole dataset, as
            :func:`verify` does); by default only whether the md5 file exists is reported
            (``"missing"`` or ``"not checked"``), so ``info`` stays fast on big datasets.
        progress: show progress bars while hashing and reading samples.

    Returns:
        A :class:`DatasetSummary`.

    Raises:
        FileNotFoundError: the data file or its index is missing.
        ValueError: ``samples`` is negative or neither an integer nor ``"all"``.
        dings.format.CorruptIndexError: the index cannot be read (use :func:`verify` to diagnose).
    """
    if samples == "all":
        limit = None
    else:
        limit = as_count(samples, "samples")
        if limit < 0:
            raise ValueError(f"samples must be 'all' or a non-negative integer, got {samples!r}")
    resolved = resolve_dataset(path)
    remote = resolved.is_remote()
    shards = [Path(shard) if remote else data_path(shard) for shard in resolved.shards]
    data = shards[0]
    reader = open_dataset(resolved)
    try:
        length = len(reader)
        if len(shards) == 1:
            result = DatasetSummary(resolved.shards[0] if remote else data, length)
        else:
            result = DatasetSummary(resolved.spec if remote else Path(resolved.spec), length, shards=len(shards))
        if not remote:
            _file_sizes(result, shards, None if resolved.manifest is None else Path(resolved.manifest))
            if check_md5:
                for shard in shards:
                    _md5_state(result, shard, progress)
            elif not all(index_path(shard, ".md5").is_file() for shard in shards):
                result.md5 = "missing"
        try:
            result.label_names = resolved.label_names()
        except DamagedDataError as exc:  # a damaged sidecar: the rest of the report still helps
            warnings.warn(str(exc), stacklevel=2)
        stop = length if limit is None else min(limit, length)
        labels: Counter = Counter()
        has_label = False
        bar = progress_bar(
            reader.iter(start=0, stop=stop), total=stop, desc=f"scan {data.name}", unit="samples", enabled=progress
        )
        for sample in bar:
            result.scanned += 1
            for key, value in sample.items():
                summary = result.keys.get(key)
                if summary is None:
                    summary = result.keys[key] = KeySummary()
                summary.add(value)
            if "label" in sample:
                label = _numeric_label(sample["label"])
                if label is not None:
                    has_label = True
                    labels[label] += 1
        bar.close()
        if has_label:
            result.labels = dict(sorted(labels.items()))
        return result
    finally:
        reader.close()
