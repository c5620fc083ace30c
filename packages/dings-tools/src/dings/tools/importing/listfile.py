"""Import a list file: CSV, TSV or JSON lines with a path column and optional label and extra columns."""

from __future__ import annotations

import contextlib
import csv
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from dings.format import parse_json

from .classes import ClassList, Labels
from .core import ImportDataError, ImportResult, Loaded, Source, check_source_output, run_import
from .files import FileRoot, read_file
from .kinds import (
    KEY_COLUMN,
    LABEL_COLUMN,
    ROOT,
    SourceKind,
    SourceOption,
    file_and_root,
    partition_items,
    register_source_kind,
)

__all__ = ["LIST_SUFFIXES", "import_list", "list_source", "read_list"]

LIST_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson")
#: path columns looked for, in this order, when none is named
PATH_COLUMNS = ("path", "file", "filename", "filepath", "image", "image_path")
#: the longest CSV/TSV field read, in characters (the csv module's default is 128 KiB)
CSV_FIELD_LIMIT = 16 << 20


def read_list(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """Read the rows of a list file as dicts; return the column names and the rows.

    CSV (``,``) and TSV (tab) files need a header line, and a field may hold up to
    :data:`CSV_FIELD_LIMIT` characters; JSON-lines files hold one object a line.

    Raises:
        ImportDataError: a malformed line, a field over the limit or JSON nested too deeply (the
            message names file and line), or text that is not UTF-8.
    """
    try:
        return _read_rows(path, path.suffix.lower())
    except UnicodeDecodeError as exc:
        raise ImportDataError(f"{path}: not UTF-8 text ({exc.reason}); save the list as UTF-8") from None


def _read_rows(path: Path, suffix: str) -> tuple[list[str], list[dict[str, Any]]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        if suffix in (".jsonl", ".ndjson"):
            rows = []
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                row = parse_json(line, f"{path}:{number}", ImportDataError)
                if not isinstance(row, dict):
                    raise ImportDataError(f"{path}:{number}: not a JSON object but {type(row).__name__}")
                rows.append(row)
            columns = list(dict.fromkeys(k for row in rows for k in row))
            return columns, rows
        lines = _Counted(f)
        reader = csv.DictReader(lines, delimiter="\t" if suffix == ".tsv" else ",")
        with _field_limit(CSV_FIELD_LIMIT):
            try:
                columns = list(reader.fieldnames or [])
                rows = []
                for row in reader:
                    if None in row or any(v is None for v in row.values()):
                        raise ImportDataError(
                            f"{path}:{reader.line_num}: {len(columns)} columns in the header, another number in this line"
                        )
                    rows.append(row)
            except csv.Error as exc:
                raise ImportDataError(f"{path}:{lines.count}: not a valid {suffix[1:].upper()} line ({exc})") from None
        return columns, rows


class _Counted:
    """The lines of a file, counting those read (the :mod:`csv` reader's count lags on errors)."""

    def __init__(self, lines: Iterable[str]) -> None:
        self.lines = iter(lines)
        self.count = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.count += 1
        return line


@contextlib.contextmanager
def _field_limit(limit: int) -> Iterator[None]:
    """Let the :mod:`csv` module read fields of up to ``limit`` characters for a while.

    The limit is process-wide: it is raised (never lowered) and then restored.
    """
    before = csv.field_size_limit()
    csv.field_size_limit(max(before, limit))
    try:
        yield
    finally:
        csv.field_size_limit(before)


def list_source(
    list_file: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    path_column: str | None = None,
    label_column: str | None = "label",
    key_column: str | None = None,
    labels: Labels = None,
) -> Source:
    """The samples of a list file (see :func:`import_list`), not yet read."""
    path = Path(list_file)
    columns, rows = read_list(path)
    if path_column is None:
        path_column = next((c for c in PATH_COLUMNS if c in columns), None)
        if path_column is None:
            raise ImportDataError(
                f"{path}: no path column ({', '.join(PATH_COLUMNS)}); columns are {', '.join(columns) or 'none'}; pass --path-column"
            )
    if key_column is None and "key" in columns:
        key_column = "key"
    for wanted, option in ((path_column, "--path-column"), (key_column, "--key-column")):
        if wanted is not None and wanted not in columns:
            raise ImportDataError(
                f"{path}: no column {wanted!r} (columns: {', '.join(columns) or 'none'}); check {option}"
            )
    label_key = label_column if label_column is not None and label_column in columns else None
    files = FileRoot(Path(root) if root is not None else path.parent, confined=root is not None)
    classes = ClassList.collect((r.get(label_key) for r in rows), labels) if label_key is not None else ClassList(None)
    reserved = {path_column, key_column, label_key}
    items = []
    for number, row in enumerate(rows, 1):
        origin = f"{path} row {number}"
        file = row.get(path_column)
        if not isinstance(file, str) or not file:
            raise ImportDataError(f"{origin}: empty or missing {path_column!r}")
        sample: dict[str, Any] = {"key": str(row[key_column]) if key_column else file}
        if label_key is not None and row.get(label_key) not in (None, ""):
            sample["label"] = classes.label(row[label_key], origin)
        sample.update((k, v) for k, v in row.items() if k not in reserved)
        items.append((origin, files.path(file, origin), sample))

    def load(item: tuple[str, Path, dict[str, Any]]) -> Loaded:
        origin, file, fields = item
        sample = dict(fields)
        sample["image"] = read_file(file, f"{origin}: {file}")
        return f"{origin} ({file})", sample

    return Source(items, load, path.name, len(items), classes.names)


def import_list(
    list_file: str | os.PathLike,
    output: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    path_column: str | None = None,
    label_column: str | None = "label",
    key_column: str | None = None,
    labels: Labels = None,
    **options: Any,
) -> ImportResult:
    """Import the files named in a CSV, TSV or JSON-lines list.

    Each row is a sample: the file in the path column becomes ``image`` (its bytes), the label
    column ``label`` (class names become ints in sorted order and are recorded as label names;
    numbers stay numbers), every other column a field as it is (CSV values are str, JSON values
    keep their type). The key is the path as written in the list (or the key column).

    Args:
        list_file: ``.csv``, ``.tsv``, ``.jsonl`` or ``.ndjson`` (CSV and TSV need a header line).
        output: the dataset to write.
        root: the folder relative paths start from (default: the list file's folder). When
            given, every path must lie inside it, after following ``..`` and symbolic links;
            absolute paths too (a path outside is refused naming the row). Without it the
            paths are trusted as written: pass ``root`` for a list from someone else.
        path_column: the column of file paths (default: the first of ``path``, ``file``,
            ``filename``, ``filepath``, ``image``, ``image_path``).
        label_column: the column of labels (``None``: no labels).
        key_column: a column of unique keys (default: ``key`` if there is one, else the paths).
        labels: the class list (a file with one name a line, or the names).
        options: see :func:`import_samples`.

    Raises:
        ImportDataError: a missing column, an unreadable file or image, a file that is not a
            regular file (a FIFO, a device such as ``/dev/zero``), a path outside ``root``, a
            duplicate key or a label outside the class list; the message names the list file and
            row (or line).
    """
    check_source_output(output, options.get("shard_size"), [list_file], [root or Path(list_file).parent], labels=labels)
    source = list_source(
        list_file, root=root, path_column=path_column, label_column=label_column, key_column=key_column, labels=labels
    )
    return run_import(source, output, **options)


LIST = register_source_kind(
    SourceKind(
        "list",
        detect=lambda text: text.lower().endswith(LIST_SUFFIXES) and os.path.isfile(text),
        source=list_source,
        importer=import_list,
        partition=partition_items,
        inputs=file_and_root,
        suffixes=LIST_SUFFIXES,
        options=(
            ROOT,
            SourceOption("--path-column", "path_column", "the column of file paths (default: path, file, filename …)"),
            LABEL_COLUMN,
            KEY_COLUMN,
        ),
    )
)
