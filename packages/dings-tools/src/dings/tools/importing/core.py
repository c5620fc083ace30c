"""The import pipeline shared by every source: load samples in threads, in order, and write them.

A source is a :class:`Source`: its items (file paths, rows, tar groups …), a ``load`` function that
turns one item into ``(origin, sample)`` (run in worker threads; ``origin`` names the file, row or
member for error messages) and, when known, the label names. :func:`run_import` shuffles, loads,
checks and writes; the output is byte-identical for any thread count.
"""

from __future__ import annotations

import functools
import glob
import importlib.util
import os
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from dings.format import (
    DuplicateKeyError,
    FileWriter,
    InvalidSampleError,
    RawWriter,
    ShardedWriter,
    check_output_not_input,
    dataset_paths,
    progress_bar,
    shard_pattern,
)
from dings.readers import MsgpackReader, is_url

from .._dataset import as_count, as_seed, temp_name
from ..extras import require
from ..image import image_decode_problem
from ..parallel import resolve_workers
from ..render import sniff_image

__all__ = [
    "CHECK_LEVELS",
    "ImportDataError",
    "ImportResult",
    "PackedRows",
    "Source",
    "check_label",
    "check_source_output",
    "image_check_level",
    "prepare_load",
    "run_import",
]

#: items handed to a worker thread at once (cuts the per-task overhead of small files)
CHUNK = 32

Loaded = tuple[str, dict]
#: bytes of an image's header that the image check looks at (the magic number is enough)
HEADER = 64
#: the magic numbers of JPEG and PNG, checked first (the full check costs more per sample)
COMMON_IMAGE_STARTS = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
#: how far an import checks images: ``decode`` every image fully (Pillow), look at its ``header``
#: (the first bytes name an image format), or ``none``
CHECK_LEVELS = ("decode", "header", "none")


class ImportDataError(ValueError):
    """A file, row or member of an import source cannot be imported; the message names it."""


@dataclass
class ImportResult:
    """What an import wrote.

    Attributes:
        paths: the data files written (one, or every shard in order).
        samples: number of samples written.
        label_names: the label names recorded next to the data (``None``: none).
    """

    paths: list[Path]
    samples: int
    label_names: list[str] | None = None

    def __str__(self) -> str:
        where = str(self.paths[0]) if len(self.paths) == 1 else f"{len(self.paths)} shards {self.paths[0]} …"
        classes = f", {len(self.label_names)} label names" if self.label_names is not None else ""
        return f"{self.samples:,} samples → {where}{classes}"


@dataclass
class PackedRows:
    """Samples of a source packed all at once (see :attr:`Source.packed`).

    Attributes:
        keys: the samples' keys.
        data: the packed samples back to back (a buffer that does not change).
        offsets: ``len(keys) + 1`` offsets of the samples in ``data``.
        origin: ``origin(i)`` names sample ``i`` for error messages (``"t.parquet row 7"``).
        error: raised once these samples are written: the error of the sample after them.
    """

    keys: list[str]
    data: Any
    offsets: np.ndarray
    origin: Callable[[int], str]
    error: ImportDataError | None = None


@dataclass
class Source:
    """Samples to import, produced lazily.

    Attributes:
        items: what ``load`` takes; a ``Sequence`` is shuffled in memory, any other iterable
            through a temporary file.
        load: ``item → (origin, sample)``; runs in worker threads; raises
            :class:`ImportDataError` naming the origin.
        name: what is imported (for the progress bar).
        total: number of items, when known.
        label_names: ``label_names[i]`` names label ``i``; ``None`` when unknown.
        reads_files: ``load`` reads files (worth threads); otherwise it only converts values in
            memory and runs on one thread unless images are recompressed (threads would only
            contend for the interpreter).
        packed: a faster way to the same samples, or ``None``: ``packed(check, threads)`` yields
            them packed in batches, with the bytes ``load`` and the writer would give, the same
            errors in the same order and the images checked as :func:`run_import` checks them
            (``check``, one of :data:`CHECK_LEVELS`; decoding in ``threads`` threads).
            Used when no per-sample work remains (no recompression) and the output is one file.
    """

    items: Iterable[Any]
    load: Callable[[Any], Loaded]
    name: str
    total: int | None = None
    label_names: list[str] | None = None
    reads_files: bool = True
    packed: Callable[[str, int], Iterable[PackedRows]] | None = None


def ordered_map(fn: Callable[[Any], Any], items: Iterable[Any], threads: int) -> Generator[Any, None, None]:
    """``map(fn, items)`` computed by ``threads`` threads, in input order, with bounded memory.

    Closing the iterator early cancels what is queued and waits for the chunks already running.
    """
    if threads <= 1:
        yield from map(fn, items)
        return
    source = iter(items)

    def run(chunk: list[Any]) -> list[Any]:
        return [fn(item) for item in chunk]

    pool = ThreadPoolExecutor(threads, thread_name_prefix="dings-import")
    pending: deque[Future] = deque()

    def submit() -> None:
        chunk = list(islice(source, CHUNK))
        if chunk:
            pending.append(pool.submit(run, chunk))

    try:
        for _ in range(3 * threads):
            submit()
        while pending:
            results = pending.popleft().result()
            submit()
            yield from results
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


def image_check_level(check_images: bool | str) -> str:
    """The level of :data:`CHECK_LEVELS` that ``check_images`` asks for.

    ``True`` is ``"decode"`` where Pillow is installed (the extra ``image``), else ``"header"``;
    ``False`` is ``"none"``.

    Raises:
        ValueError: ``check_images`` is no level.
        ImportError: ``"decode"`` without Pillow.
    """
    if check_images is True:
        return "decode" if importlib.util.find_spec("PIL") is not None else "header"
    if check_images is False:
        return "none"
    if check_images not in CHECK_LEVELS:
        raise ValueError(f"check_images must be True, False, 'decode', 'header' or 'none', got {check_images!r}")
    if check_images == "decode":
        require("PIL.Image", "image", "check_images='decode'")
    return str(check_images)


def image_problem(origin: str, image: bytes | bytearray | memoryview, level: str = "header") -> ImportDataError | None:
    """The error of an image that is not an image file (by its first bytes) or, with ``level``
    ``"decode"``, does not decode fully (a truncated file); else ``None``."""
    if not (bytes(image[:8]).startswith(COMMON_IMAGE_STARTS) or sniff_image(memoryview(image)[:HEADER]) is not None):
        return ImportDataError(f"{origin}: unreadable image (not a JPEG, PNG, GIF, BMP, TIFF or WebP file)")
    if level == "decode":
        reason = image_decode_problem(image)
        if reason is not None:
            return ImportDataError(
                f"{origin}: damaged image, it does not decode ({reason}); replace or remove it, "
                "or import it undecoded with --check header (check_images='header')"
            )
    return None


def prepare_load(
    load: Callable[[Any], Loaded], level: str, recompress: int | None, max_size: int | None
) -> Callable[[Any], Loaded]:
    """Wrap ``load`` with the per-sample image work (checks at ``level``, recompression) done in
    the threads."""
    check = "header" if recompress is not None and level == "decode" else level  # recompressing decodes

    def prepared(item: Any) -> Loaded:
        origin, sample = load(item)
        image = sample.get("image")
        if isinstance(image, (bytes, bytearray, memoryview)):
            if check != "none":
                problem = image_problem(origin, image, check)
                if problem is not None:
                    raise problem
            if recompress is not None:
                from ..image import recompress_jpeg

                try:
                    sample["image"] = recompress_jpeg(bytes(image), quality=recompress, max_size=max_size)
                except ValueError as exc:
                    raise ImportDataError(f"{origin}: unreadable image ({exc})") from None
        return origin, sample

    return prepared


def check_label(origin: str, sample: dict, label_names: list[str] | None) -> None:
    """Refuse a label that is no int inside ``label_names`` (when there are names); the message names ``origin``."""
    label = sample.get("label")
    if label is None or label_names is None:
        return
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
        raise ImportDataError(f"{origin}: label {label!r} is not an int, but the dataset has label names")
    if not 0 <= int(label) < len(label_names):
        raise ImportDataError(
            f"{origin}: label {int(label)} is outside the class list (0 … {len(label_names) - 1}, {len(label_names)} classes)"
        )


def check_source_output(
    output: str | os.PathLike,
    shard_size: int | None,
    inputs: Iterable[str | os.PathLike],
    roots: Iterable[str | os.PathLike | None] = (),
    labels: Any = None,
) -> None:
    """Refuse, also with ``overwrite``, an output whose files are, contain or are inside an input.

    Args:
        output: the dataset to write (``NAME.msgpack``; with ``shard_size`` its shards).
        shard_size: whether (and how) the output is sharded.
        inputs: the files and folders the source reads (URLs are skipped).
        roots: folders relative paths start from; the output may be inside one (``None`` skipped).
        labels: the ``labels`` argument of the import; a path is an input as well.

    Raises:
        dings.format.OutputIsInputError: naming the output and the input.
    """
    written = [shard_pattern(output)] if shard_size is not None else [output, *dataset_paths(output)]
    local = [p for p in inputs if not is_url(os.fspath(p))]
    if isinstance(labels, (str, os.PathLike)):
        local.append(labels)
    check_output_not_input(written, local, roots=[r for r in roots if r is not None and not is_url(os.fspath(r))])


def _check_target(output: Path, shard_size: int | None, overwrite: bool) -> None:
    """Refuse an output that is a folder, or exists without ``overwrite``: once, before any work is done
    (the writers then replace what is there)."""
    first = output if shard_size is None else Path(shard_pattern(output).format(0, index=0))
    if shard_size is None and output.is_dir():
        raise IsADirectoryError(f"{output}: is a directory; give the path of a .msgpack file to write")
    if not overwrite and first.exists():
        what = "dataset" if shard_size is None else "sharded dataset"
        raise FileExistsError(
            f"{first}: {what} exists; pass overwrite=True (-y/--no-confirm on the command line) to replace it"
        )


def _open_writer(output: Path, shard_size: int | None, label_names: list[str] | None) -> FileWriter | ShardedWriter:
    """A writer that commits the label names with the data (bound to it, see :class:`FileWriter`); the
    output was checked by :func:`run_import`."""
    if shard_size is None:
        return FileWriter(output, overwrite=True, progress=False, label_names=label_names, drop_label_names=True)
    return ShardedWriter(
        output, max_samples=shard_size, overwrite=True, progress=False, label_names=label_names, drop_label_names=True
    )


def _write(
    loaded: Iterable[Loaded],
    output: Path,
    shard_size: int | None,
    label_names: list[str] | None,
    bar: Any,
) -> tuple[list[Path], int]:
    """Write ``(origin, sample)`` pairs; return the data files (committed only on success) and the count."""
    with _open_writer(output, shard_size, label_names) as writer:
        for origin, sample in loaded:
            check_label(origin, sample, label_names)
            try:
                writer.write(sample)
            except DuplicateKeyError:
                key = sample.get("key")
                raise ImportDataError(f"{origin}: duplicate key {key!r} (an earlier sample has the same key)") from None
            except InvalidSampleError as exc:
                raise ImportDataError(f"{origin}: {exc}") from None
            bar.update()
    return (list(writer.shards) if isinstance(writer, ShardedWriter) else [output]), writer.written


def _write_packed(
    batches: Iterable[PackedRows], output: Path, bar: Any, label_names: list[str] | None = None
) -> tuple[list[Path], int]:
    """Write batches of packed samples; the same files and errors as :func:`_write` of their samples."""
    with RawWriter(output, overwrite=True, progress=False, label_names=label_names, drop_label_names=True) as writer:
        for rows in batches:
            before = writer.written
            try:
                writer.write_many(rows.keys, rows.data, rows.offsets, copy=False)
            except DuplicateKeyError:
                index = writer.written - before
                raise ImportDataError(
                    f"{rows.origin(index)}: duplicate key {rows.keys[index]!r} (an earlier sample has the same key)"
                ) from None
            except InvalidSampleError as exc:
                raise ImportDataError(f"{rows.origin(writer.written - before)}: {exc}") from None
            bar.update(len(rows.keys))
            if rows.error is not None:
                raise rows.error
    return [output], writer.written


def _packed_to(
    packed: Callable[[str, int], Iterable[PackedRows]], check: str, threads: int, bar: Any, output: Path
) -> None:
    """Write a source's packed samples to the new file ``output``."""
    _write_packed(packed(check, threads), output, bar)


def _shuffled_via_file(write: Callable[[Path], object], output: Path, seed: int, bar: Any) -> Iterator[Loaded]:
    """Shuffle a stream of any length: ``write`` it to a hidden temporary dataset, read it back permuted."""
    temp = temp_name(output, "unshuffled.msgpack")
    try:
        write(temp)
        bar.reset()
        with MsgpackReader(temp) as reader:
            for index in np.random.default_rng(seed).permutation(len(reader)):
                sample = reader.get(int(index))
                yield f"sample {sample['key']!r}", sample
    finally:
        for path in temp.parent.glob(glob.escape(temp.name) + "*"):
            path.unlink(missing_ok=True)


def run_import(
    source: Source,
    output: str | os.PathLike,
    *,
    shuffle: bool = False,
    seed: int | None = None,
    threads: int = 1,
    shard_size: int | None = None,
    recompress: int | None = None,
    max_size: int | None = None,
    check_images: bool | str = True,
    overwrite: bool = False,
    progress: bool | None = True,
) -> ImportResult:
    """Load, check and write the samples of ``source``; record its label names next to the data.

    See :func:`dings.tools.import_samples` for the arguments.
    """
    target = Path(output)
    level = image_check_level(check_images)
    workers = resolve_workers(as_count(threads, "threads"))
    if not source.reads_files and recompress is None and level != "decode":
        workers = 1
    if shard_size is not None and as_count(shard_size, "shard_size") < 1:
        raise ValueError(f"shard_size must be at least 1, got {shard_size!r}")
    seed = as_seed(seed)
    _check_target(target, shard_size, overwrite)
    items = source.items
    if shuffle and isinstance(items, Sequence):
        items = [items[int(i)] for i in np.random.default_rng(seed).permutation(len(items))]
    load = prepare_load(source.load, level, recompress, max_size)
    # the columnar fast path writes one unsharded file: the output, or the temporary one of a shuffle
    packed = source.packed if recompress is None else None
    with progress_bar(total=source.total, desc=f"import {source.name}", unit="samples", enabled=progress) as bar:
        if packed is not None and shard_size is None and not shuffle:
            paths, count = _write_packed(packed(level, workers), target, bar, source.label_names)
            return ImportResult(paths, count, source.label_names)
        loaded: Iterable[Loaded] = ordered_map(load, items, workers)
        if shuffle and not isinstance(source.items, Sequence):
            stream = loaded
            write_temp: Callable[[Path], object]
            if packed is not None:
                write_temp = functools.partial(_packed_to, packed, level, workers, bar)
            else:
                write_temp = functools.partial(_write, stream, shard_size=None, label_names=source.label_names, bar=bar)
            loaded = _shuffled_via_file(write_temp, target, seed, bar)
        try:
            paths, count = _write(loaded, target, shard_size, source.label_names, bar)
        finally:
            close = getattr(loaded, "close", None)
            if close is not None:
                close()
    return ImportResult(paths, count, source.label_names)
