"""The registry of import source kinds: what ``dings import``, :func:`import_source`,
:func:`import_partitioned` and :func:`detect_source` know.

A kind is one :class:`SourceKind` object, declared in the module of its importer and registered
there with :func:`register_source_kind`: how to detect it, how to build its samples (a
:class:`~dings.tools.importing.core.Source`), how to cut it into partitions for ``--engine`` (or
that it cannot), and which command-line options it takes. Adding a kind is one file that
registers one object; nothing else lists the kinds.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from .core import ImportResult, Loaded, Source, check_source_output, run_import

__all__ = [
    "IMAGE_COLUMN",
    "KEY_COLUMN",
    "LABEL_COLUMN",
    "ROOT",
    "Partitions",
    "SourceKind",
    "SourceOption",
    "detect_source",
    "file_and_root",
    "get_source_kind",
    "partition_items",
    "refuse_shuffle",
    "register_source_kind",
    "source_kinds",
    "unregister_source_kind",
]

#: the keyword arguments of :func:`run_import`; an import's other options go to its source
_RUN_OPTIONS = frozenset(
    name for name, p in inspect.signature(run_import).parameters.items() if p.kind is p.KEYWORD_ONLY
)


@dataclass(frozen=True)
class SourceOption:
    """A command-line option of a source kind (``dings import --layout flat``).

    Attributes:
        flag: the option (``"--layout"``); kinds that take the same option share one object.
        keyword: the keyword argument of the kind's source it sets (``"layout"``).
        help: one line for ``--help`` (the CLI prefixes the kinds that take it).
        type: converts the text (``int``, …); ``None``: str.
        choices: the allowed values.
        default: the value when not given; ``None`` (or an empty list) leaves the keyword out.
        metavar: the value's name in ``--help``.
        repeat: the option may be given several times; the value is the list of them.
    """

    flag: str
    keyword: str
    help: str
    type: Callable[[str], Any] | None = None
    choices: tuple[str, ...] | None = None
    default: Any = None
    metavar: str | None = None
    repeat: bool = False

    @property
    def dest(self) -> str:
        """The attribute of the parsed command line (``--label-column`` → ``label_column``)."""
        return self.flag.lstrip("-").replace("-", "_")


@dataclass
class Partitions:
    """A source cut into partitions, each written by one task (see :func:`import_partitioned`).

    Attributes:
        payloads: one per partition: what a task needs to produce its samples (picklable).
        opener: ``payload → (items, load)``, run in the task (picklable for Ray).
        label_names: the label names of the whole source, or ``None``.
    """

    payloads: list[Any]
    opener: Callable[[Any], tuple[Iterable[Any], Callable[[Any], Loaded]]]
    label_names: list[str] | None


@dataclass(frozen=True)
class SourceKind:
    """One kind of import source: everything the CLI and the import functions need to know of it.

    Attributes:
        name: what ``--from`` and ``import_source(kind=…)`` call it.
        detect: ``source → bool``: whether a path, pattern or URL is of this kind.
        source: ``(source, *, labels, **options) → Source``: the samples, not yet read.
        options: the command-line options it takes (their keywords go to ``source``/``importer``).
        importer: ``(source, output, **options) → ImportResult``; default: check that the output
            is none of the ``inputs``, then :func:`run_import` of ``source``.
        partition: ``(kind, source, size, *, shuffle, seed, labels, options) → Partitions`` for
            ``--engine``; ``None``: the kind cannot be imported in partitions.
        inputs: ``(source, options) → (inputs, roots)``: the local files and folders it reads and
            the folders its relative paths start from, which the output must not overwrite;
            default: ``source`` itself.
        fallback: detection asks it only when no other kind claims the source (a folder is any
            folder that is not a more specific kind of folder).
        suffixes: file name endings it detects, named when no kind claims a file.
        names: it also takes names that are no file (a dataset name in a cache).
    """

    name: str
    detect: Callable[[str], bool]
    source: Callable[..., Source] | None = None
    options: tuple[SourceOption, ...] = ()
    importer: Callable[..., ImportResult] | None = None
    partition: Callable[..., Partitions] | None = None
    inputs: Callable[[str, Mapping[str, Any]], tuple[list[Any], list[Any]]] | None = None
    fallback: bool = False
    suffixes: tuple[str, ...] = ()
    names: bool = False

    def __post_init__(self) -> None:
        if self.source is None and self.importer is None:
            raise ValueError(f"source kind {self.name!r}: give a source or an importer")

    def import_(self, source: str | os.PathLike, output: str | os.PathLike, **options: Any) -> ImportResult:
        """Import ``source`` of this kind (see :func:`dings.tools.import_source`)."""
        if self.importer is not None:
            return self.importer(source, output, **options)
        if self.source is None:  # not reached: __post_init__ refuses a kind without both
            raise ValueError(f"source kind {self.name!r}: give a source or an importer")
        run = {k: v for k, v in options.items() if k in _RUN_OPTIONS}
        given = {k: v for k, v in options.items() if k not in _RUN_OPTIONS}
        inputs, roots = self.read_paths(os.fspath(source), given)
        check_source_output(output, run.get("shard_size"), inputs, roots, labels=given.get("labels"))
        return run_import(self.source(source, **given), output, **run)

    def read_paths(self, source: str, options: Mapping[str, Any]) -> tuple[list[Any], list[Any]]:
        """The local files and folders this source reads, and the folders its paths start from."""
        return self.inputs(source, options) if self.inputs is not None else ([source], [])


_KINDS: dict[str, SourceKind] = {}


def register_source_kind(kind: SourceKind, *, replace: bool = False) -> SourceKind:
    """Make ``kind`` known to ``dings import``, :func:`import_source`, :func:`detect_source` and,
    when it can partition, :func:`import_partitioned`.

    Args:
        kind: the kind.
        replace: replace a registered kind of the same name (otherwise ``ValueError``).

    Returns:
        ``kind`` (``FOLDER = register_source_kind(SourceKind(…))``).
    """
    if kind.name in _KINDS and not replace:
        raise ValueError(f"a source kind {kind.name!r} is registered already; pass replace=True to replace it")
    _KINDS[kind.name] = kind
    return kind


def unregister_source_kind(name: str) -> None:
    """Forget the source kind ``name`` (unknown names are ignored)."""
    _KINDS.pop(name, None)


def source_kinds() -> tuple[SourceKind, ...]:
    """The registered source kinds, in the order they were registered."""
    return tuple(_KINDS.values())


def get_source_kind(name: str) -> SourceKind:
    """The registered source kind ``name``.

    Raises:
        ValueError: no such kind; the message lists the known ones.
    """
    kind = _KINDS.get(name)
    if kind is None:
        raise ValueError(f"unknown source kind {name!r}; choose from {', '.join(_KINDS)}")
    return kind


def detect_source(source: str | os.PathLike) -> str:
    """Tell what kind ``source`` is (the name of a registered :class:`SourceKind`): a folder, list
    file, table, WebDataset shards, a saved HF dataset or a dings dataset (a data file, shard
    pattern, manifest, or a folder of shards or a partitioned set) …

    Raises:
        FileNotFoundError: nothing is there (and no kind claims it, as it does a URL or a brace
            pattern); the message says which ``--from`` takes a name.
        ValueError: a file of a kind that cannot be imported.
    """
    text = os.fspath(source)
    kinds = source_kinds()
    for kind in [k for k in kinds if not k.fallback] + [k for k in kinds if k.fallback]:
        if kind.detect(text):
            return kind.name
    if Path(text).exists():
        known = ", ".join(s for kind in kinds for s in kind.suffixes)
        raise ValueError(f"{text}: cannot tell what kind of source this is (known: {known}); pass --from")
    named = " or ".join(f"--from {k.name}" for k in kinds if k.names)
    hint = f"; for a dataset name pass {named}" if named else ""
    raise FileNotFoundError(f"{text}: no such file or folder{hint}")


class _Items:
    """A partition whose payload is the items themselves; ``load`` reads one."""

    def __init__(self, load: Callable[[Any], Loaded]) -> None:
        self.load = load

    def __call__(self, payload: Sequence[Any]) -> tuple[Iterable[Any], Callable[[Any], Loaded]]:
        return payload, self.load


def partition_items(
    kind: SourceKind,
    source: str,
    size: int,
    *,
    shuffle: bool,
    seed: int,
    labels: Any,
    options: Mapping[str, Any],
) -> Partitions:
    """Partitions of ``size`` items of a kind whose source lists its items up front (files of a
    folder, rows of a list), shuffled first with ``shuffle``; each task loads its items."""
    if kind.source is None:
        raise ValueError(f"source kind {kind.name!r}: partition_items needs its source")
    src = kind.source(source, labels=labels, **options)
    items = list(src.items)
    if shuffle:
        items = [items[int(i)] for i in np.random.default_rng(seed).permutation(len(items))]
    payloads = [items[i : i + size] for i in range(0, len(items), size)]
    return Partitions(payloads, _Items(src.load), src.label_names)


def refuse_shuffle(kind: SourceKind) -> NoReturn:
    """Raise the error of ``--shuffle`` with ``--engine`` for a kind that reads partitions in order."""
    raise ValueError(
        f"--shuffle is not available for a {kind.name} source with --engine; import without an engine, "
        "or shuffle later (dings shuffle)"
    )


def file_and_root(source: str, options: Mapping[str, Any]) -> tuple[list[Any], list[Any]]:
    """``inputs`` of a file whose relative paths start from the option ``root`` (default: its folder)."""
    return [source], [options.get("root") or Path(source).parent]


#: options several kinds take (one object each, so that the CLI adds each once)
ROOT = SourceOption(
    "--root",
    "root",
    "folder that relative file paths start from (default: the list's or table's folder); when given, every "
    "path, absolute ones too, must lie inside it after following .. and symlinks: pass it for lists from others",
)
IMAGE_COLUMN = SourceOption("--image-column", "image_column", "the image column (default: image, img …)")
LABEL_COLUMN = SourceOption("--label-column", "label_column", "the label column (default %(default)s)", default="label")
KEY_COLUMN = SourceOption(
    "--key-column", "key_column", "a column of unique keys (default: key, else paths or row numbers)"
)
