"""Converters that only describe their data: a :class:`Builder` declares a dataset's facts and yields
its items per split; the framework owns the loop (which splits are wanted, shuffling, worker
threads, writing, progress).

A dataset module defines one subclass and registers it in the ``dings.sets`` entry-point group::

    class CIFAR10(Builder):
        info = INFO  # the catalog entry: sources, splits, options

        def items(self, split):  # what gets shuffled, in source order
            return [...]

        def transform(self):  # optional: per-item work run on -t/--threads workers
            return encode_item

Then ``dings.sets.convert("CIFAR10", indir, outdir, shuffle=True, seed=1, threads=4)`` converts it
from Python and ``dings write CIFAR10 INDIR -o OUTDIR --shuffle`` from the command line; both
build the same options from the catalog entry.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from contextlib import ExitStack
from pathlib import Path
from typing import Any, ClassVar

from dings.tools import parallel_map, ray_map, yield_threaded

from .catalog import DatasetInfo
from .converter import Outputs, shuffled

__all__ = ["Builder"]


class Builder:
    """A dataset's converter: its facts (:attr:`info`) and how to get its items.

    Subclasses set :attr:`info` and implement :meth:`items`; the other hooks are optional. The
    default :meth:`write` runs, for every split the user wants: ``items`` → shuffled (when
    ``--shuffle``) → :meth:`read` (on the writing thread, in order) → :meth:`transform` (on
    ``threads`` workers or Ray tasks, order kept, see :meth:`map`) → :meth:`samples` → one atomic output file.

    Args:
        files: source file name (from ``info.sources``) → its path in the input folder.
        options: the parsed options: the common ones (``shuffle``, ``seed``, ``threads``, …) and the
            dataset's own (``info.options``), as attributes.
    """

    #: the catalog entry
    info: ClassVar[DatasetInfo]
    #: items sent to a worker at a time by :meth:`transform`
    chunksize: ClassVar[int] = 16
    #: bound on items handed to workers and not yet written (``None``: the pool's default)
    max_pending: int | None = None
    #: without :meth:`transform`: read this many items ahead in a background thread (0: none)
    prefetch: ClassVar[int] = 0

    def __init__(self, files: Mapping[str, Path], options: argparse.Namespace) -> None:
        self.files = dict(files)
        self.options = options
        self.stack = ExitStack()

    @classmethod
    def source_names(cls, options: argparse.Namespace) -> list[str]:
        """The source files these options need (default: every one of ``info.sources``)."""
        return [source.name for source in cls.info.sources]

    def open(self) -> None:
        """Open what every split reads (register it on :attr:`stack`) and check the inputs before
        anything is written. The default does nothing."""

    def splits(self) -> list[str]:
        """The splits to write, in order (default: every split of ``info``)."""
        return [split.name for split in self.info.splits]

    def items(self, split: str) -> Iterable[Any]:
        """The items of ``split`` in source order; a sequence when the dataset can be shuffled."""
        raise NotImplementedError(f"{type(self).__name__} must define items(split)")

    def read(self, item: Any) -> Any:
        """Turn an item into the input of :meth:`transform` (default: unchanged); runs in order on the
        writing thread, so it may read shared open archives."""
        return item

    def transform(self) -> Callable[[Any], Any] | None:
        """The per-item work run on ``threads`` workers, or ``None`` (the items are the samples).

        Return a module-level function or a :func:`functools.partial` of one: it may be sent to
        worker processes.
        """
        return None

    def samples(self, split: str, results: Iterator[Any]) -> Iterable[dict[str, Any]]:
        """The samples of ``split`` from the transformed items (default: unchanged); runs on the
        writing thread."""
        return results

    def total(self, split: str, items: Iterable[Any]) -> int | None:
        """The number of samples of ``split``, for the progress bar (default: ``len(items)`` if known)."""
        return len(items) if isinstance(items, Sized) else None

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any], chunksize: int | None = None) -> Iterator[Any]:
        """``fn`` over ``items``, results in input order, on the engine the user chose: ``threads``
        worker processes here (``--engine local``, the default) or tasks of a Ray cluster (``--engine
        ray``, ``--address``). Converters that run their own loop use this for their per-item work."""
        size = chunksize or self.chunksize
        if getattr(self.options, "engine", "local") == "ray":
            return ray_map(fn, items, chunksize=size, address=getattr(self.options, "address", None))
        workers = getattr(self.options, "threads", 1)
        return parallel_map(fn, items, workers=workers, chunksize=size, max_pending=self.max_pending)

    def write_split(self, outputs: Outputs, split: str) -> None:
        """Write one split through the hooks above (the user has already agreed to write it)."""
        items = self.items(split)
        if getattr(self.options, "shuffle", False):
            items = shuffled(list(items), self.options.seed)
        total = self.total(split, items)
        results: Iterator[Any] = map(self.read, items)
        work = self.transform()
        with ExitStack() as stack:
            if work is not None:
                results = self.map(work, results)
            elif self.prefetch:
                name = f"{self.info.name} {split}"
                results = stack.enter_context(yield_threaded(results, maxsize=self.prefetch, name=name))  # type: ignore[arg-type]
            outputs.write(split, self.samples(split, results), total=total)

    def write(self, outputs: Outputs) -> None:
        """Write every wanted split; override for converters that fill several splits in one pass or
        write something else on request (and call ``super().write(outputs)`` for the splits)."""
        for split in self.splits():
            if outputs.wanted(split):
                self.write_split(outputs, split)

    def run(self, outputs: Outputs) -> Outputs:
        """Open the inputs, write, and close what was opened; returns ``outputs``."""
        with self.stack:
            self.open()
            self.write(outputs)
        return outputs
