"""Refusing outputs that would overwrite an input: one rule for every command that reads and writes.

An output overlaps an input when, with symlinks resolved, it is the same path (or the same file
through a hard link), a folder that contains the input, or a path inside an input folder.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Iterable
from pathlib import Path

from .errors import OutputIsInputError
from .label_names import LABEL_NAMES_SUFFIX
from .paths import DATASET_SUFFIXES, JOURNAL_SUFFIX, data_path, index_path

__all__ = ["check_output_not_input", "dataset_paths", "find_overlap"]

PathLike = str | os.PathLike


def dataset_paths(path: PathLike) -> list[Path]:
    """Every file of the dataset ``path`` (its data file or any index file): ``NAME.msgpack`` and
    ``NAME.msgpack.<suffix>`` for the index, md5, checksum, legacy index, journal and label files."""
    data = data_path(path)
    return [data] + [index_path(data, s) for s in (*DATASET_SUFFIXES, JOURNAL_SUFFIX, LABEL_NAMES_SUFFIX)]


def _resolved(path: PathLike) -> Path:
    return Path(os.path.realpath(os.fspath(path)))


def _same_file(a: Path, b: Path) -> bool:
    """Hard links: two names of one existing file."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _shard_regex(pattern: str) -> re.Pattern[str] | None:
    """The file names a ``str.format`` shard pattern's name stands for, or ``None`` for a plain name."""
    parts = []
    fields = False
    for literal, field_name, _spec, _conv in string.Formatter().parse(pattern):
        parts.append(re.escape(literal))
        if field_name is not None:
            parts.append(r"\d+")
            fields = True
    if not fields:
        return None
    return re.compile("".join(parts) + r"(\..*)?\Z")


def _relation(output: PathLike, source: Path, *, contained_ok: bool) -> str | None:
    """How ``output`` overlaps the resolved ``source`` (``"is also an input"`` …), or ``None``."""
    text = os.fspath(output)
    regex = _shard_regex(os.path.basename(text)) if "{" in text else None
    if regex is not None:  # shards: only files of the same folder whose name fits the pattern
        folder = _resolved(os.path.dirname(text) or ".")
        return "has a shard name of an input" if source.parent == folder and regex.match(source.name) else None
    target = _resolved(output)
    if target == source or _same_file(target, source):
        return "is also an input"
    if source.is_relative_to(target):
        return "contains an input"
    if not contained_ok and target.is_relative_to(source):
        return "is inside an input"
    return None


def _find(
    outputs: Iterable[PathLike], inputs: Iterable[PathLike], roots: Iterable[PathLike]
) -> tuple[Path, Path, str] | None:
    checks = [(Path(p), _resolved(p), False) for p in inputs] + [(Path(p), _resolved(p), True) for p in roots]
    for output in outputs:
        for source, resolved, contained_ok in checks:
            relation = _relation(output, resolved, contained_ok=contained_ok)
            if relation is not None:
                return Path(output), source, relation
    return None


def find_overlap(
    outputs: Iterable[PathLike], inputs: Iterable[PathLike], *, roots: Iterable[PathLike] = ()
) -> tuple[Path, Path] | None:
    """Find an output that is, contains or is inside an input.

    Args:
        outputs: the paths a command writes: files, folders, or shard patterns
            (``out/train-{index:05d}.msgpack``: every file whose name fits). Pass all files of an
            output dataset (:func:`dataset_paths`).
        inputs: the paths it reads: files and folders. Pass all files of an input dataset.
        roots: folders files are read from, but that outputs may be written into (a list file's
            ``root``): only an output that is or contains one overlaps.

    Returns:
        The first overlapping ``(output, input)`` pair as given, or ``None``.
    """
    found = _find(outputs, inputs, roots)
    return None if found is None else found[:2]


def check_output_not_input(
    outputs: Iterable[PathLike], inputs: Iterable[PathLike], *, roots: Iterable[PathLike] = ()
) -> None:
    """Refuse to write an output that is, contains or is inside an input (see :func:`find_overlap`).

    Commands call this before they write anything, also when overwriting is allowed.

    Raises:
        OutputIsInputError: naming both paths.
    """
    found = _find(outputs, inputs, roots)
    if found is not None:
        output, source, relation = found
        raise OutputIsInputError(
            f"{output}: {relation} ({source}); writing it would destroy the input, "
            "so choose another output path (-y does not change this)"
        )
