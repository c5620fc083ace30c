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
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from contextlib import ExitStack
from pathlib import Path
from typing import Any, ClassVar

from dings.tools import parallel_map, yield_threaded

from .catalog import DatasetInfo
from .converter import Outputs, converter_parser, prepare_conversion, shuffled

__all__ = ["Builder", "command_line", "convert"]


class Builder:
    """A dataset's converter: its facts (:attr:`info`) and how to get its items.

    Subclasses set :attr:`info` and implement :meth:`items`; the other hooks are optional. The
    default :meth:`write` runs, for every split the user wants: ``items`` → shuffled (when
    ``--shuffle``) → :meth:`read` (on the writing thread, in order) → :meth:`transform` (on
    ``threads`` workers, order kept) → :meth:`samples` → one atomic output file.

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
                workers = getattr(self.options, "threads", 1)
                results = parallel_map(
                    work, results, workers=workers, chunksize=self.chunksize, max_pending=self.max_pending
                )
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


#: common options of :func:`convert` → (the catalog's name for them, their default)
_COMMON = {"shuffle": ("shuffle", False), "seed": ("shuffle", 0), "threads": ("threads", 1)}


def _builder_of(name: str) -> tuple[DatasetInfo, type[Builder]]:
    from .registry import get, get_builder

    info = get(name)
    return info, get_builder(info.name)


def _run(info: DatasetInfo, cls: type[Builder], options: argparse.Namespace, progress: bool | None) -> Outputs:
    files, outputs = prepare_conversion(info, options, cls.source_names(options), progress)
    return cls(files, options).run(outputs)


def convert(
    name: str,
    indir: str | os.PathLike[str] | None = None,
    outdir: str | os.PathLike[str] | None = None,
    *,
    shuffle: bool = False,
    seed: int = 0,
    threads: int = 1,
    overwrite: bool = False,
    skip_verification: bool = False,
    progress: bool | None = None,
    **options: Any,
) -> Outputs:
    """Convert the dataset ``name`` from the source files in ``indir`` to ``outdir``.

    The same conversion as ``dings write NAME``; missing source files that can be downloaded are
    downloaded into ``indir`` and verified first.

    Args:
        name: dataset name or alias (see :func:`dings.sets.list_datasets`).
        indir: folder with the source files (default ``<data_dir>/<NAME>``, where
            :func:`dings.sets.prepare` downloads them).
        outdir: where the splits are written (default: ``indir``).
        shuffle: write the samples in a random order (datasets whose catalog entry lists ``shuffle``).
        seed: seed of the shuffled order.
        threads: worker count for the per-sample work (datasets that list ``threads``); 0: every CPU.
        overwrite: replace existing outputs; otherwise the user is asked on a terminal, and elsewhere
            an existing output is an error.
        skip_verification: do not check the md5 sums of the source files.
        progress: show progress bars (``None``: only on a terminal).
        options: the dataset's own options (``dings write NAME -h``), by their Python names, e.g.
            ``tile_size=500``.

    Returns:
        The :class:`~dings.sets.converter.Outputs`: ``written`` and ``skipped`` paths.

    Raises:
        TypeError: an option the dataset does not have.
        ConversionError: the dataset's extra is not installed, or an output may not be replaced.
        ValueError: damaged or unexpected source files (the message names the file).
    """
    info, cls = _builder_of(name)
    namespace = converter_parser(info).parse_args([])
    given = {"shuffle": shuffle, "seed": seed, "threads": threads}
    for key, value in given.items():
        common, default = _COMMON[key]
        if hasattr(namespace, key):
            setattr(namespace, key, value)
        elif value != default:
            raise TypeError(f"{info.name} has no {common!r} option, so {key}= cannot be given; leave it out")
    if getattr(namespace, "threads", 1) == 0:
        namespace.threads = os.cpu_count() or 1
    unknown = sorted(set(options) - set(vars(namespace)))
    if unknown:
        own = sorted(option.flags[-1].lstrip("-").replace("-", "_") for option in info.options)
        raise TypeError(f"{info.name} has no option {', '.join(unknown)}; its own options: {', '.join(own) or 'none'}")
    for key, value in options.items():
        setattr(namespace, key, value)
    namespace.indir = None if indir is None else os.fspath(indir)
    namespace.outdir = None if outdir is None else os.fspath(outdir)
    namespace.no_confirm = overwrite
    namespace.skip_verification = skip_verification
    namespace.quiet = progress is False
    return _run(info, cls, namespace, progress)


def command_line(name: str, argv: Sequence[str] | None = None) -> Outputs:
    """Run the converter of ``name`` with command-line arguments (``dings write NAME ARGS``).

    The parser comes from the catalog entry (see :func:`~dings.sets.converter.converter_parser`)
    and gives :func:`convert`'s options.

    A plugin without a :class:`Builder` whose catalog entry names a converter module (the earlier
    plugin interface) runs that module's ``main(argv)``.

    Args:
        name: dataset name or alias.
        argv: the converter's arguments (default ``sys.argv[1:]``).

    Raises:
        LookupError: the dataset has no converter.
    """
    import importlib
    import sys

    from .registry import get, get_builder

    info = get(name)
    try:
        cls = get_builder(info.name)
    except LookupError:
        if not info.converter:
            raise
        module = importlib.import_module(info.converter.partition(":")[0])
        result: Outputs = module.main(None if argv is None else list(argv))
        return result
    namespace = converter_parser(info).parse_args(sys.argv[1:] if argv is None else list(argv))
    return _run(info, cls, namespace, False if namespace.quiet else None)


def legacy_main(name: str) -> Callable[..., Outputs]:
    """The ``main(argv)`` of a datadings-style ``dings.sets.NAME_write`` module."""

    def main(argv: Sequence[str] | None = None) -> Outputs:
        """Command-line entry point (``python -m dings.sets.NAME_write --help``)."""
        return command_line(name, argv)

    return main
