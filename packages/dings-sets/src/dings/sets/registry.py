"""The dataset registry: every dataset, built-in or plugin, from the ``dings.sets`` entry-point group.

dings-sets registers its own datasets the same way a plugin does, in its ``pyproject.toml``::

    [project.entry-points."dings.sets"]
    MYSET = "my_package.myset:MYSET"

where ``MYSET`` is a :class:`~dings.sets.builder.Builder` subclass (a converter), or a
:class:`~dings.sets.catalog.DatasetInfo` or a module defining ``INFO`` (a catalog entry only).
"""

from __future__ import annotations

import difflib
import os
from dataclasses import replace
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .catalog import DOMAINS, DatasetInfo
from .locations import data_dir

if TYPE_CHECKING:
    from .builder import Builder

__all__ = [
    "ENTRY_POINT_GROUP",
    "UnknownDatasetError",
    "data_dir",
    "get",
    "get_builder",
    "list_datasets",
    "orphans",
    "prepare",
    "search",
    "vocabulary",
]

ENTRY_POINT_GROUP = "dings.sets"


class UnknownDatasetError(KeyError):
    """No registered dataset has this name (a ``KeyError`` whose message reads well)."""

    def __str__(self) -> str:
        return str(self.args[0])


def _load(entry: Any) -> tuple[DatasetInfo, type | None]:
    from .builder import Builder

    value = entry.load()
    if isinstance(value, type) and issubclass(value, Builder) and isinstance(getattr(value, "info", None), DatasetInfo):
        declared: DatasetInfo = value.info
        if declared.converter is None:  # the entry point says where the converter is
            declared = replace(declared, converter=f"{value.__module__}:{value.__qualname__}")
        return declared, value
    info = value if isinstance(value, DatasetInfo) else getattr(value, "INFO", None)
    if not isinstance(info, DatasetInfo):
        raise TypeError(
            f"entry point {entry.name} = {entry.value} in group {ENTRY_POINT_GROUP!r} must name a "
            "dings.sets.Builder subclass, a dings.sets.DatasetInfo or a module defining INFO; fix or "
            "uninstall that package (after editing dings-sets' entry points: python3 -m hatch env prune)"
        )
    return info, None


@lru_cache(maxsize=1)
def _entries() -> tuple[dict[str, DatasetInfo], dict[str, type]]:
    found: dict[str, DatasetInfo] = {}
    builders: dict[str, type] = {}
    sources: dict[str, str] = {}
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name, e.value)):
        info, cls = _load(entry)
        if sources.get(info.name) == entry.value:
            continue  # the same distribution seen twice on sys.path
        if info.name in found:
            raise ValueError(
                f"entry point {entry.value} registers {info.name}, which {sources[info.name]} already registers; "
                "rename it (or uninstall one of the packages)"
            )
        found[info.name] = info
        sources[info.name] = entry.value
        if cls is not None:
            builders[info.name] = cls
    return found, builders


def _registry() -> dict[str, DatasetInfo]:
    return _entries()[0]


def get_builder(name: str) -> type[Builder]:
    """Return the converter (a :class:`~dings.sets.builder.Builder` subclass) of the dataset ``name``.

    Raises:
        UnknownDatasetError: no such dataset.
        LookupError: the dataset is in the catalog only, without a converter.
    """
    info = get(name)
    found = _entries()[1].get(info.name)
    if found is None:
        raise LookupError(
            f"{info.name}: has no converter yet; `dings sets --show {info.name}` shows what the catalog knows"
        )
    return found


def reload() -> None:
    """Forget the cached registry (after installing a plugin in a running process)."""
    _entries.cache_clear()


def list_datasets(domain: str | None = None) -> list[DatasetInfo]:
    """Return every registered dataset (built-in and plugins), sorted by domain then name.

    Args:
        domain: only datasets of this domain.
    """
    if domain is not None and domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; choose one of {', '.join(DOMAINS)}")
    infos = [i for i in _registry().values() if domain is None or i.domain == domain]
    return sorted(infos, key=lambda i: (DOMAINS.index(i.domain), i.name.lower()))


def get(name: str) -> DatasetInfo:
    """Return the dataset called ``name`` or one of its aliases (case does not matter).

    Raises:
        UnknownDatasetError: no such dataset; the message suggests close names.
    """
    wanted = name.lower()
    names: dict[str, DatasetInfo] = {}
    for info in _registry().values():
        for alias in info.names:
            names[alias.lower()] = info
    if wanted in names:
        return names[wanted]
    close = difflib.get_close_matches(wanted, list(names), n=3, cutoff=0.6)
    suggestion = f"; did you mean {', '.join(dict.fromkeys(names[c].name for c in close))}?" if close else ""
    raise UnknownDatasetError(f"unknown dataset {name!r}{suggestion} (`dings sets` lists them all)")


_FIELDS = {"tag": "tags", "task": "tasks", "domain": "domains"}


def _field_values(info: DatasetInfo, field: str) -> tuple[str, ...]:
    return (info.domain,) if field == "domain" else tuple(info.tags if field == "tag" else info.tasks)


def _word_match(value: str, candidate: str) -> bool:
    """``value`` is ``candidate`` or whole hyphen-separated words of it (``classification`` in ``image-classification``)."""
    return f"-{value}-" in f"-{candidate.lower()}-"


def _matches(info: DatasetInfo, term: str) -> bool:
    field, sep, value = term.partition(":")
    if sep and field in _FIELDS:
        return any(_word_match(value.lower(), v) for v in _field_values(info, field))
    term = term.lower()
    texts = (*info.names, info.description, info.domain, *info.tags, *info.tasks)
    return any(term in text.lower() for text in texts)


def vocabulary() -> dict[str, list[str]]:
    """The values ``tag:``, ``task:`` and ``domain:`` terms can take: ``{"tags": [...], "tasks": [...], "domains": [...]}``."""
    infos = list_datasets()
    return {
        plural: sorted({v.lower() for info in infos for v in _field_values(info, field)})
        for field, plural in _FIELDS.items()
    }


def search(query: str) -> list[DatasetInfo]:
    """Return the datasets matching every term of ``query``.

    A term is ``tag:X``, ``task:X`` or ``domain:X`` (case-insensitive; X is a value or whole words of
    one, so ``task:classification`` finds ``image-classification``), or text found in a name,
    alias, description, domain, tag or task. An empty query matches everything.

    Raises:
        ValueError: a ``tag:``, ``task:`` or ``domain:`` term matches no dataset at all; the message
            lists the values there are (see :func:`vocabulary`).
    """
    terms = query.split()
    infos = list_datasets()
    for term in terms:
        field, sep, value = term.partition(":")
        if sep and field in _FIELDS and not any(_matches(info, term) for info in infos):
            known = vocabulary()[_FIELDS[field]]
            raise ValueError(f"no dataset has {field} {value!r}; {_FIELDS[field]}: {', '.join(known)}")
    return [info for info in infos if all(_matches(info, t) for t in terms)]


def prepare(
    name: str,
    data_dir_path: str | os.PathLike | None = None,
    *,
    files: list[str] | None = None,
    skip_verification: bool = False,
    progress: bool | None = True,
) -> dict[str, Any]:
    """Download and verify a dataset's source files into ``<data_dir>/<NAME>``.

    Args:
        name: dataset name or alias.
        data_dir_path: data directory (see :func:`data_dir`).
        files: only these source files (default: all).
        skip_verification: do not check md5 sums.
        progress: show download and hashing progress.

    Returns:
        A JSON-able dict: ``dataset`` (every catalog fact), ``indir`` and ``files`` (name → path).
    """
    from dings.tools import prepare_indir

    info = get(name)
    indir = data_dir(data_dir_path) / info.name
    sources = info.sources if files is None else [info.source(f) for f in files]
    wanted = {s.name: {"path": s.name, "url": s.url, "md5": s.md5, "instructions": s.instructions} for s in sources}
    indir.mkdir(parents=True, exist_ok=True)
    prepared = prepare_indir(wanted, indir, skip_verification=skip_verification, progress=progress)
    paths = {k: str(v["path"] if isinstance(v, dict) else v) for k, v in prepared.items()}
    return {"dataset": info.to_dict(), "indir": str(indir), "files": paths}


def orphans(data_dir_path: str | os.PathLike | None = None) -> list[Path]:
    """Return folders in the data directory whose name matches no registered dataset or alias."""
    root = data_dir(data_dir_path)
    if not root.is_dir():
        return []
    known = {alias.lower() for info in _registry().values() for alias in info.names}
    return sorted(p for p in root.iterdir() if p.is_dir() and p.name.lower() not in known)
