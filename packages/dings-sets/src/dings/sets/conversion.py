"""Running a dataset's converter: from Python (:func:`convert`) and from the command line."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from typing import Any

from .builder import Builder
from .catalog import DatasetInfo
from .converter import Outputs, converter_parser, prepare_conversion
from .registry import get, get_builder

__all__ = ["command_line", "convert", "legacy_main"]


#: common options of :func:`convert` → (the catalog's name for them, their default)
_COMMON = {
    "shuffle": ("shuffle", False),
    "seed": ("shuffle", 0),
    "threads": ("threads", 1),
    "engine": ("threads", "local"),
    "address": ("threads", None),
}


def _builder_of(name: str) -> tuple[DatasetInfo, type[Builder]]:
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
    engine: str = "local",
    address: str | None = None,
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
        engine: where that work runs: ``"local"`` (``threads`` processes) or ``"ray"`` (the tasks
            of a Ray cluster; needs ``dings-tools[ray]``). Both write the same bytes.
        address: the Ray cluster for ``engine="ray"`` (default: a running one, else a local one).
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
    if engine not in ("local", "ray"):
        raise ValueError(f"engine must be 'local' or 'ray', got {engine!r}")
    given = {"shuffle": shuffle, "seed": seed, "threads": threads, "engine": engine, "address": address}
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


def command_line(name: str, argv: Sequence[str] | None = None, *, prog: str | None = None) -> Outputs:
    """Run the converter of ``name`` with command-line arguments (``dings write NAME ARGS``).

    The parser comes from the catalog entry (see :func:`~dings.sets.converter.converter_parser`)
    and gives :func:`convert`'s options.

    A plugin without a :class:`Builder` whose catalog entry names a converter module (the earlier
    plugin interface) runs that module's ``main(argv)``.

    Args:
        name: dataset name or alias.
        argv: the converter's arguments (default ``sys.argv[1:]``).
        prog: the command shown in the usage line (default ``dings write NAME``).

    Raises:
        LookupError: the dataset has no converter.
    """
    import importlib
    import sys

    info = get(name)
    try:
        cls = get_builder(info.name)
    except LookupError:
        if not info.converter:
            raise
        module = importlib.import_module(info.converter.partition(":")[0])
        result: Outputs = module.main(None if argv is None else list(argv))
        return result
    namespace = converter_parser(info, prog).parse_args(sys.argv[1:] if argv is None else list(argv))
    return _run(info, cls, namespace, False if namespace.quiet else None)


def legacy_main(name: str) -> Callable[..., Outputs]:
    """The ``main(argv)`` of a datadings-style ``dings.sets.NAME_write`` module."""

    def main(argv: Sequence[str] | None = None) -> Outputs:
        """Command-line entry point (``python -m dings.sets.NAME_write --help``)."""
        return command_line(name, argv, prog=f"python -m dings.sets.{name}_write")

    return main
