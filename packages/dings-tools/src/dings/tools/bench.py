"""``bench``: how fast a dataset file or a directory tree can be read (tensorpack's TestDataSpeed)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dings.format import MANIFEST_SUFFIX, data_path, index_path, progress_bar
from dings.readers import DirectoryReader, MsgpackReader, Reader, ShardedReader, Shuffler, is_url

from ._dataset import as_count, human_size, open_reader

__all__ = ["BenchResult", "bench", "open_bench_reader"]

#: the progress bar is updated once per this many samples, to keep its cost out of the timing
_UPDATE_EVERY = 256


@dataclass
class BenchResult:
    """Result of :func:`bench`.

    Attributes:
        source: what was read (the reader's description).
        samples: samples read.
        nbytes: bytes read: packed sample bytes for msgpack datasets and raw reads, file
            content (``"data"``) bytes for a directory tree read decoded.
        seconds: wall time of the reading loop.
        raw: samples were not decoded.
        shuffle: samples were read in random order.
    """

    source: str
    samples: int
    nbytes: int
    seconds: float
    raw: bool
    shuffle: bool

    @property
    def samples_per_second(self) -> float:
        """Samples read per second."""
        return self.samples / self.seconds if self.seconds > 0 else float("inf")

    @property
    def mb_per_second(self) -> float:
        """Megabytes (10**6 bytes) read per second."""
        return self.nbytes / 1e6 / self.seconds if self.seconds > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, with the two rates."""
        return {
            "source": self.source,
            "samples": self.samples,
            "nbytes": self.nbytes,
            "seconds": self.seconds,
            "raw": self.raw,
            "shuffle": self.shuffle,
            "samples_per_second": self.samples_per_second,
            "mb_per_second": self.mb_per_second,
        }

    def __str__(self) -> str:
        mode = ", ".join(m for m, on in (("raw", self.raw), ("shuffled", self.shuffle)) if on) or "decoded"
        return (
            f"{self.source} ({mode}): {self.samples:,} samples, {human_size(self.nbytes)} in {self.seconds:.2f} s: "
            f"{self.samples_per_second:,.0f} samples/s, {self.mb_per_second:,.1f} MB/s"
        )


def _is_msgpack(path: str) -> bool:
    """Whether ``path`` names a dings dataset: a data or index file, a shard pattern, a manifest, a URL,
    or a folder that holds ``.msgpack`` files or a manifest."""
    if is_url(path) or path.endswith((".msgpack", MANIFEST_SUFFIX)):
        return True
    if os.path.isdir(path):
        return any(name.endswith((".msgpack", MANIFEST_SUFFIX)) for name in os.listdir(path))
    data = data_path(path)
    if data.name.endswith(".msgpack"):
        return True
    return data.is_file() and (index_path(data, ".offsets").exists() or index_path(data, ".index").exists())


def open_bench_reader(
    path: str | os.PathLike,
    *,
    separator: str = "\t",
    root_dir: str | os.PathLike = "",
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> Reader:
    """Open what :func:`bench` reads: a msgpack dataset, or else a :class:`DirectoryReader`.

    Args:
        path: a dataset: ``NAME.msgpack`` (or an index file), a shard pattern, a folder of shards or
            a partitioned set, a manifest or a URL (its samples are read, never its index files);
            else a directory (every file below it) or a DirectoryReader search pattern
            (``"images/{LABEL}/*.jpg"``) or file list.
        separator: DirectoryReader only: column separator of file lists.
        root_dir: DirectoryReader only: prefix for relative paths in file lists.
        include: DirectoryReader only: patterns a file must match.
        exclude: DirectoryReader only: patterns that skip a file.
    """
    text = os.fspath(path)
    if _is_msgpack(text):
        return open_reader(text)[0]
    pattern = os.path.join(text, "**") if os.path.isdir(text) else text
    return DirectoryReader(pattern, include=include, exclude=exclude, separator=separator, root_dir=root_dir)


def bench(
    path: str | os.PathLike | Reader,
    raw: bool = False,
    shuffle: bool = False,
    *,
    limit: int | None = None,
    seed: int | None = None,
    separator: str = "\t",
    root_dir: str | os.PathLike = "",
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    progress: bool | None = True,
) -> BenchResult:
    """Read a dataset once and measure samples/s and MB/s.

    Args:
        path: a msgpack dataset, a directory tree or DirectoryReader pattern (see
            :func:`open_bench_reader`), or an open reader.
        raw: do not decode samples (representative of multi-process loading, where workers
            decode).
        shuffle: read in a uniformly random order (:class:`dings.readers.Shuffler`).
        limit: read at most this many samples; ``None`` reads all.
        seed: seed of the random order; ``None`` is the readers' fixed default.
        separator: DirectoryReader only: column separator of file lists.
        root_dir: DirectoryReader only: prefix for relative paths in file lists.
        include: DirectoryReader only: patterns a file must match.
        exclude: DirectoryReader only: patterns that skip a file.
        progress: show a progress bar with the live rate.

    Returns:
        A :class:`BenchResult`; ``str(result)`` is the line to print.

    Raises:
        FileNotFoundError: the dataset, its index or the directory is missing.
        ValueError: ``limit`` is negative.
    """
    if limit is not None:
        limit = as_count(limit, "limit")
        if limit < 0:
            raise ValueError(f"limit must not be negative, got {limit}")
    if isinstance(path, Reader):
        base, owned = path, False
    else:
        base = open_bench_reader(path, separator=separator, root_dir=root_dir, include=include, exclude=exclude)
        owned = True
    try:
        reader: Reader = Shuffler(base, seed) if shuffle else base
        count = len(reader) if limit is None else min(limit, len(reader))
        files = isinstance(base, DirectoryReader) and not raw
        samples = 0
        nbytes = 0
        bar = progress_bar(
            total=count,
            desc=f"bench {getattr(base, 'path', '') or type(base).__name__}",
            unit="samples",
            enabled=progress,
        )
        start = time.perf_counter()
        for item in reader.iter(start=0, stop=count, raw=raw, copy=False):
            if raw:
                nbytes += len(item)
            elif files:
                nbytes += len(item.get("data", b""))
            samples += 1
            if not samples % _UPDATE_EVERY:
                bar.update(_UPDATE_EVERY)
        seconds = time.perf_counter() - start
        bar.update(samples % _UPDATE_EVERY)
        bar.close()
        if not raw and not files:
            nbytes = _packed_size(reader, base, samples)
        source = repr(base)
        if owned and isinstance(base, ShardedReader):
            source = f"{os.fspath(path)} ({len(base.shards):,} shards)"  # type: ignore[arg-type]  # a path when owned
        return BenchResult(source, samples, nbytes, seconds, raw, shuffle)
    finally:
        if owned:
            base.close()


def _packed_size(reader: Reader, base: Reader, samples: int) -> int:
    """Packed bytes of the first ``samples`` samples of ``reader`` (measured after the timing)."""
    if isinstance(base, MsgpackReader) and samples == len(base):
        return int(base.offsets[-1])  # the whole data file, in any order
    if isinstance(base, ShardedReader) and samples == len(base):
        return sum(_packed_size(shard, shard, len(shard)) for shard in base.shards)
    return sum(len(reader.get(i, raw=True, copy=False)) for i in range(samples))
