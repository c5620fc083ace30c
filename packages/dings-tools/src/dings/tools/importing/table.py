"""Import a table: Parquet, Arrow or Feather (pyarrow, extra ``table``); also used for Hugging Face data.

Each row is a sample. Binary columns stay bytes; the image column (bytes, a path, or a Hugging Face
``Image`` struct ``{bytes, path}``) becomes ``image``; numeric list columns become numpy arrays;
everything else is kept as pyarrow gives it.

A table whose columns need no per-row work (bytes, str, int, float and bool columns; int labels or
class names) takes a columnar fast path, :func:`table_packer`: record batches are packed with numpy
and Arrow (:mod:`.columnar`) and written with ``RawWriter.write_many``, byte-identical to the
row-by-row path and with the same errors.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from dings.format import packb, parse_json

from ..extras import require
from ..image import image_decode_problem
from .classes import ClassList, Labels
from .columnar import RowPacker, bin_headers, bools, floats, ints, map_headers, str_headers
from .core import (
    COMMON_IMAGE_STARTS,
    ImportDataError,
    ImportResult,
    Loaded,
    PackedRows,
    Source,
    check_source_output,
    image_problem,
    ordered_map,
    run_import,
)
from .files import FileRoot, read_file
from .kinds import (
    IMAGE_COLUMN,
    KEY_COLUMN,
    LABEL_COLUMN,
    ROOT,
    Partitions,
    SourceKind,
    file_and_root,
    refuse_shuffle,
    register_source_kind,
)

__all__ = ["TABLE_SUFFIXES", "import_table", "table_packer", "table_samples", "table_source"]

TABLE_SUFFIXES = (".parquet", ".pq", ".arrow", ".feather", ".ipc")
#: image columns looked for, in this order, when none is named
IMAGE_COLUMNS = ("image", "img", "jpg", "jpeg", "png", "webp", "path", "file", "filename")
#: the schema metadata key under which dings keeps the label names of an exported table
METADATA_KEY = b"dings"
#: a label left out of its sample (null, or Hugging Face's -1 "no label")
_MISSING = object()
#: the fast path packs record batches in groups of about this many rows, or bytes of the table
GROUP_ROWS = 8192
GROUP_BYTES = 16 << 20
#: top-level fields the writer refuses (msgpack-numpy's): a table with such a column takes the slow path
_RESERVED = ("nd", "complex")


def _open(path: Path, batch_size: int) -> tuple[Any, int, Callable[[], Iterator[Any]]]:
    """Schema, row count and a batch iterator factory of a Parquet or Arrow IPC/Feather file."""
    pa = require("pyarrow", "table", "importing a table")
    if path.suffix.lower() in (".parquet", ".pq"):
        pq = require("pyarrow.parquet", "table", "importing a Parquet table")
        try:
            parquet = pq.ParquetFile(path)
        except (OSError, pa.ArrowException) as exc:
            raise ImportDataError(f"{path}: not a readable Parquet file ({exc})") from None
        return parquet.schema_arrow, parquet.metadata.num_rows, lambda: parquet.iter_batches(batch_size=batch_size)
    ipc = require("pyarrow.ipc", "table", "importing an Arrow table")
    try:
        reader = ipc.open_file(path)
    except (OSError, pa.ArrowException):
        try:
            table = ipc.open_stream(path).read_all()
        except (OSError, pa.ArrowException) as exc:
            raise ImportDataError(f"{path}: not a readable Arrow/Feather file ({exc})") from None
        return table.schema, table.num_rows, lambda: iter(table.to_batches(batch_size))
    count = sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))
    return reader.schema, count, lambda: (reader.get_batch(i) for i in range(reader.num_record_batches))


def _is_image_struct(kind: Any) -> bool:
    pa = require("pyarrow", "table")
    return pa.types.is_struct(kind) and {kind.field(i).name for i in range(kind.num_fields)} >= {"bytes", "path"}


def _numeric_leaf(kind: Any) -> np.dtype | None:
    """The numpy dtype of a (nested) list column of numbers, else None."""
    pa = require("pyarrow", "table")
    depth = 0
    while pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        kind = kind.value_type
        depth += 1
    if depth and (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)):
        return np.dtype(kind.to_pandas_dtype())
    return None


def metadata_label_names(schema: Any, label_column: str | None) -> list[str] | None:
    """Label names kept in a table's schema metadata by dings, or a Hugging Face ``ClassLabel``."""
    meta = schema.metadata or {}
    try:
        if METADATA_KEY in meta:
            names = parse_json(meta[METADATA_KEY], "the table's metadata").get("label_names")
        elif b"huggingface" in meta and label_column is not None:
            info = parse_json(meta[b"huggingface"], "the table's metadata").get("info", {})
            feature = info.get("features", {}).get(label_column, {})
            names = feature.get("names") if feature.get("_type") == "ClassLabel" else None
        else:
            return None
    except (ValueError, AttributeError):
        return None
    return [str(n) for n in names] if isinstance(names, list) else None


def _columns(
    names: list[str], where: str, image_column: str | None, label_column: str | None, key_column: str | None
) -> tuple[str | None, str | None, str | None]:
    """The image, label and key columns of a table with columns ``names`` (``None``: none)."""
    if key_column is None and "key" in names:
        key_column = "key"
    if image_column is None:
        image_column = next((c for c in IMAGE_COLUMNS if c in names), None)
    for wanted, option in ((image_column, "--image-column"), (key_column, "--key-column")):
        if wanted is not None and wanted not in names:
            raise ImportDataError(f"{where}: no column {wanted!r} (columns: {', '.join(names)}); check {option}")
    if label_column is not None and label_column not in names:
        label_column = None
    return image_column, label_column, key_column


def _fields(
    names: list[str], image_column: str | None, label_column: str | None, key_column: str | None
) -> dict[str, str]:
    """The output field of every column, in column order after the key."""
    return {
        name: "image" if name == image_column else "label" if name == label_column else name
        for name in names
        if name != key_column
    }


def table_samples(
    schema: Any,
    batches: Iterable[Any],
    where: str,
    *,
    files: FileRoot,
    image_column: str | None,
    label_column: str | None,
    key_column: str | None,
    classes: ClassList,
    total: int,
) -> tuple[Iterator[tuple[int, dict[str, Any]]], Callable[[tuple[int, dict[str, Any]]], Loaded], bool]:
    """Rows of Arrow record batches as ``(row number, fields)`` items, the ``load`` that makes
    samples, and whether ``load`` reads image files (a column of paths)."""
    pa = require("pyarrow", "table")
    names = list(schema.names)
    image_column, label_column, key_column = _columns(names, where, image_column, label_column, key_column)
    kinds = {name: schema.field(name).type for name in names}
    arrays = {name: _numeric_leaf(kind) for name, kind in kinds.items()}
    structs = {name for name, kind in kinds.items() if _is_image_struct(kind)}
    path_column = image_column is not None and (
        pa.types.is_string(kinds[image_column]) or pa.types.is_large_string(kinds[image_column])
    )
    width = len(str(max(total - 1, 0)))

    fields = _fields(names, image_column, label_column, key_column)

    def labels_of(values: list[Any], first: int) -> list[Any]:
        out = []
        for offset, value in enumerate(values):
            if value is None or (classes.names is not None and value == -1 and isinstance(value, int)):
                out.append(_MISSING)  # no label (Hugging Face writes -1)
            else:
                out.append(classes.label(value, f"{where} row {first + offset}"))
        return out

    def arrays_of(values: list[Any], name: str, first: int) -> list[Any]:
        dtype = arrays[name]
        try:
            return [None if v is None else np.asarray(v, dtype=dtype) for v in values]
        except (ValueError, TypeError) as exc:
            raise ImportDataError(
                f"{where} rows {first}…{first + len(values) - 1}: column {name!r} is not a regular array ({exc})"
            ) from None

    def convert(name: str, values: list[Any], first: int) -> list[Any]:
        if name == label_column:
            return labels_of(values, first)
        if name in structs:  # a Hugging Face Image: its bytes, else its path (read by load)
            return [v if v is None else v["bytes"] if v.get("bytes") is not None else v.get("path") for v in values]
        if arrays[name] is not None:
            return arrays_of(values, name, first)
        return values

    def items() -> Iterator[tuple[int, dict[str, Any]]]:
        row = 0
        out_names = ["key", *fields.values()]
        for batch in batches:
            columns = dict(zip(batch.schema.names, (column.to_pylist() for column in batch.columns)))
            if key_column is not None:
                keys = columns.pop(key_column)
                for offset, key in enumerate(keys):
                    if key is None:
                        raise ImportDataError(f"{where} row {row + offset}: the key column {key_column!r} is empty")
                keys = [k if isinstance(k, str) else str(k) for k in keys]
            else:
                keys = [f"{i:0{width}d}" for i in range(row, row + batch.num_rows)]
            converted = [convert(name, columns[name], row) for name in fields]
            for values in zip(keys, *converted):
                sample = dict(zip(out_names, values))
                if sample.get("label", None) is _MISSING:
                    del sample["label"]
                yield row, sample
                row += 1

    def load(item: tuple[int, dict[str, Any]]) -> Loaded:
        row, sample = item
        origin = f"{where} row {row}"
        if image_column is not None:
            value = sample.get("image")
            if value is None:
                raise ImportDataError(f"{origin}: no image in column {image_column!r}")
            if isinstance(value, str):
                sample["image"] = read_file(files.path(value, origin), f"{origin}: {value}")
        for name in structs:
            value = sample.get(fields[name])
            if isinstance(value, str):
                sample[fields[name]] = read_file(files.path(value, origin), f"{origin}: {value}")
        return origin, sample

    return items(), load, bool(path_column)


def table_packer(
    schema: Any,
    batches: Callable[[], Iterable[Any]],
    where: str,
    *,
    image_column: str | None,
    label_column: str | None,
    key_column: str | None,
    classes: ClassList,
    total: int,
) -> Callable[[str, int], Iterator[PackedRows]] | None:
    """The columnar fast path of :func:`table_samples`: whole record batches packed with numpy.

    Gives the bytes and errors of the row-by-row path (see :attr:`Source.packed`), or ``None`` when
    the table needs per-row work: a column of image paths or ``Image`` structs, list, dictionary,
    date or other column types, str labels without a class list (digits), or fields that collide
    or that the writer refuses.
    Supported: bytes, str, int, float32/64 and bool columns, nulls in them (nil; a null label is
    left out), int and str keys.
    """
    pa = require("pyarrow", "table")
    pc = require("pyarrow.compute", "table")
    types = pa.types
    names = list(schema.names)
    image_column, label_column, key_column = _columns(names, where, image_column, label_column, key_column)
    fields = _fields(names, image_column, label_column, key_column)
    out_names = ["key", *fields.values()]
    if len(set(out_names)) != len(out_names) or set(out_names) & set(_RESERVED):
        return None
    if any(out in ("image", "label") and name not in (image_column, label_column) for name, out in fields.items()):
        return None

    def binary(kind: Any) -> bool:
        return bool(types.is_binary(kind) or types.is_large_binary(kind))

    def string(kind: Any) -> bool:
        return bool(types.is_string(kind) or types.is_large_string(kind))

    def scalar(kind: Any) -> bool:
        return bool(
            types.is_integer(kind) or types.is_boolean(kind) or types.is_float32(kind) or types.is_float64(kind)
        )

    kinds = {name: schema.field(name).type for name in names}
    if key_column is not None and not (string(kinds[key_column]) or types.is_integer(kinds[key_column])):
        return None
    if image_column is not None and not binary(kinds[image_column]):
        return None
    if label_column is not None and not (
        types.is_integer(kinds[label_column]) or (string(kinds[label_column]) and classes.names is not None)
    ):
        return None
    if not all(binary(kinds[n]) or string(kinds[n]) or scalar(kinds[n]) for n in fields):
        return None
    width = len(str(max(total - 1, 0)))
    packed_names = {name: packb(out) for name, out in fields.items()}
    wide = any(types.is_large_binary(kinds[n]) or types.is_large_string(kinds[n]) for n in names)

    def rows(check: str, threads: int = 1) -> Iterator[PackedRows]:
        row = 0
        group: list[Any] = []
        for batch in batches():
            group.append(batch)
            if sum(b.num_rows for b in group) >= GROUP_ROWS or sum(b.nbytes for b in group) >= GROUP_BYTES:
                yield _pack_group(group, row, check, threads)
                row += sum(b.num_rows for b in group)
                group = []
        if group:
            yield _pack_group(group, row, check, threads)

    def keys_of(batch: Any, row: int) -> tuple[list[str], Any, np.ndarray, int, ImportDataError | None]:
        """The keys, their bytes as an Arrow array, their sizes in bytes, and the first row
        without a key with its error (``count, None``: none)."""
        count = batch.num_rows
        if key_column is not None:
            column = batch.column(key_column)
            first, error = count, None
            if column.null_count:
                first = int(np.argmax(column.is_null().to_numpy(zero_copy_only=False)))
                error = ImportDataError(f"{where} row {row + first}: the key column {key_column!r} is empty")
                column = column.fill_null("" if string(column.type) else 0)
            if not string(column.type):
                column = column.cast(pa.string())  # the decimal digits, as str() of the Python int
            sizes = _as_int64(pc.binary_length(column))
            return column.to_pylist(), column, sizes, first, error
        if count and row + count > 10**width:  # more rows than the table said: wider numbers
            keys = [f"{i:0{width}d}" for i in range(row, row + count)]
            sizes = np.fromiter(map(len, keys), np.int64, count)
            return keys, pa.array(keys, pa.large_string()), sizes, count, None
        powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
        digits = (np.arange(row, row + count, dtype=np.int64)[:, None] // powers % 10 + ord("0")).astype(np.uint8)
        text = digits.tobytes()
        keys = np.frombuffer(text, dtype=f"S{width}").astype(f"U{width}").tolist()
        offsets = np.arange(count + 1, dtype=np.int64) * width
        array = pa.Array.from_buffers(pa.large_binary(), count, [None, pa.py_buffer(offsets), pa.py_buffer(text)])
        return keys, array, np.full(count, width, dtype=np.int64), count, None

    def labels_of(column: Any, row: int) -> tuple[np.ndarray, np.ndarray, int, ImportDataError | None]:
        """The int labels of rows, where they are present, and the first bad one with its error."""
        present = ~column.is_null().to_numpy(zero_copy_only=False)
        if string(column.type):
            encoded = column.dictionary_encode()
            looked_up = []
            for value in encoded.dictionary.to_pylist():  # each distinct name once
                try:
                    looked_up.append(classes.label(value, where))
                except ImportDataError:
                    looked_up.append(-1)
            labels = np.asarray(looked_up, dtype=np.int64)[_as_int64(encoded.indices.fill_null(0))]
            bad = present & (labels < 0)
        else:
            labels = column.fill_null(0).to_numpy()
            bad = np.zeros(len(labels), dtype=bool)
            if classes.names is not None:
                present &= labels != -1  # Hugging Face's "no label"
                bad = present & ((labels < 0) | (labels >= len(classes.names)))
        if not bad.any():
            return labels, present, len(labels), None
        first = int(np.argmax(bad))
        try:
            classes.label(column[first].as_py(), f"{where} row {row + first}")  # raises the row's error
        except ImportDataError as exc:
            return labels, present, first, exc
        raise AssertionError(f"label {column[first]} passed the class list")  # pragma: no cover

    def first_bad_image(column: Any, row: int, check: str, threads: int) -> tuple[int, ImportDataError | None]:
        """The first row whose image is missing or (checked at level ``check``) unreadable, and its
        error; images are decoded in ``threads`` threads."""
        count = len(column)
        bad = column.is_null().to_numpy(zero_copy_only=False)
        if check != "none":
            starts = _value_starts(column)
            sizes = _as_int64(pc.binary_length(column.fill_null(b"")))
            data = column.buffers()[2]
            data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
            common = np.zeros(count, dtype=bool)
            for start in COMMON_IMAGE_STARTS:
                size = len(start)
                at = np.minimum(starts[:, None] + np.arange(size), max(len(data) - 1, 0))
                head = data[at] if len(data) else np.zeros((count, size), dtype=np.uint8)
                common |= (sizes >= size) & (head == np.frombuffer(start, dtype=np.uint8)).all(axis=1)
            for i in np.flatnonzero(~common & ~bad).tolist():  # rare: not a JPEG or PNG; the full check
                if image_problem("", column[i].as_py()) is not None:
                    bad[i] = True
                    break
            if check == "decode":  # the rows before the first bad one: each image decoded in full
                before = np.flatnonzero(~bad[: int(np.argmax(bad)) if bad.any() else count]).tolist()
                decoded = ordered_map(
                    lambda i: image_decode_problem(data[starts[i] : starts[i] + sizes[i]].data), before, threads
                )
                try:
                    first = next((i for i, reason in zip(before, decoded) if reason is not None), None)
                finally:
                    decoded.close()
                if first is not None:
                    return first, image_problem(f"{where} row {row + first}", column[first].as_py(), "decode")
        if not bad.any():
            return count, None
        first = int(np.argmax(bad))
        origin = f"{where} row {row + first}"
        if not column[first].is_valid:
            return first, ImportDataError(f"{origin}: no image in column {image_column!r}")
        return first, image_problem(origin, column[first].as_py())

    def _pack_group(group: list[Any], row: int, check: str, threads: int) -> PackedRows:
        """Pack record batches as one; the errors stay those of batch after batch (below)."""
        batch = group[0]
        if len(group) > 1:
            batch = pa.RecordBatch.from_arrays(
                [pa.concat_arrays([b.column(i) for b in group]) for i in range(batch.num_columns)],
                schema=batch.schema,
            )
        count = batch.num_rows
        keys, key_values, key_sizes, no_key, key_error = keys_of(batch, row)
        labels = present = None
        bad_label, label_error = count, None
        if label_column is not None:
            labels, present, bad_label, label_error = labels_of(batch.column(label_column), row)
        # a record batch's keys and labels are converted before its rows are written (and its
        # keys first): their errors come at the start of the record batch that has them
        starts = np.cumsum([0] + [b.num_rows for b in group])
        stop, error = count, None
        for first, problem in sorted(
            ((no_key, key_error), (bad_label, label_error)), key=lambda pair: _batch_of(starts, pair[0])
        ):
            if problem is not None:
                stop, error = int(starts[_batch_of(starts, first)]), problem
                break
        if image_column is not None:
            bad_image, image_error = first_bad_image(batch.column(image_column), row, check, threads)
            if bad_image < stop:
                stop, error = bad_image, image_error
        small_parts = sum(len(packed) + 9 for packed in packed_names.values()) + 16
        large = wide or batch.nbytes + count * small_parts >= 2**31 - 1
        packer = RowPacker(count, large)
        entries = np.full(count, 1 + len(fields), dtype=np.int64)
        if present is not None:
            entries -= (~present).astype(np.int64)
        packer.small(map_headers(entries))
        packer.constant(packb("key"))
        packer.small(str_headers(key_sizes))
        packer.values(key_values)
        for name in fields:
            column = batch.column(name)
            if name == label_column:
                assert labels is not None and present is not None
                packer.constant(packed_names[name], present)
                packer.small(ints(labels), present)
                continue
            packer.constant(packed_names[name])
            valid = column.is_valid().to_numpy(zero_copy_only=False) if column.null_count else None
            kind = column.type
            if binary(kind) or string(kind):
                column = column.fill_null(b"" if binary(kind) else "") if valid is not None else column
                sizes = _as_int64(pc.binary_length(column))
                encoded = bin_headers(sizes) if binary(kind) else str_headers(sizes)
            elif types.is_boolean(kind):
                encoded = bools(column.fill_null(False).to_numpy(zero_copy_only=False))
            elif types.is_integer(kind):
                encoded = ints(column.fill_null(0).to_numpy())
            else:
                encoded = floats(column.fill_null(0).to_numpy())
            if valid is not None:
                encoded = _or_nil(encoded, valid)
            packer.small(encoded)
            if binary(kind) or string(kind):
                packer.values(column)
        data, offsets = packer.join()
        return PackedRows(keys[:stop], data, offsets[: stop + 1], lambda i: f"{where} row {row + i}", error)

    return rows


def _batch_of(starts: np.ndarray, position: int) -> int:
    """The number of the record batch that holds row ``position`` of a group (``starts``: where
    each batch starts, then the row count)."""
    return int(np.searchsorted(starts, position, side="right")) - 1


def _as_int64(array: Any) -> np.ndarray:
    """An Arrow integer array without nulls as an int64 numpy array."""
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.int64)


def _value_starts(column: Any) -> np.ndarray:
    """Where each value of a binary Arrow array starts in its data buffer."""
    wide = column.type.id == require("pyarrow", "table").large_binary().id
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int64 if wide else np.int32)
    return offsets[column.offset : column.offset + len(column)].astype(np.int64)


def _or_nil(encoded: tuple[np.ndarray, np.ndarray], valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``encoded`` where ``valid``, else msgpack nil."""
    matrix, lengths = encoded
    matrix = matrix.copy()
    matrix[~valid, 0] = 0xC0
    return matrix, np.where(valid, lengths, 1)


def table_source(
    table_file: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    image_column: str | None = None,
    label_column: str | None = "label",
    key_column: str | None = None,
    labels: Labels = None,
    batch_size: int = 1024,
) -> Source:
    """The rows of a table (see :func:`import_table`), read lazily in batches."""
    path = Path(table_file)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such table file")
    schema, total, batches = _open(path, batch_size)
    classes = _table_classes(path, schema, label_column, labels, batches)
    items, load, reads_files = table_samples(
        schema,
        batches(),
        str(path),
        files=FileRoot(Path(root) if root is not None else path.parent, confined=root is not None),
        image_column=image_column,
        label_column=label_column,
        key_column=key_column,
        classes=classes,
        total=total,
    )
    packed = table_packer(
        schema,
        batches,
        str(path),
        image_column=image_column,
        label_column=label_column,
        key_column=key_column,
        classes=classes,
        total=total,
    )
    return Source(items, load, path.name, total, classes.names, reads_files, packed)


def _table_classes(
    path: Path, schema: Any, label_column: str | None, labels: Labels, batches: Callable[[], Iterator[Any]]
) -> ClassList:
    """The class list: given, from the metadata, or the sorted names of a str label column."""
    pa = require("pyarrow", "table")
    if labels is not None or label_column is None or label_column not in schema.names:
        return ClassList.collect((), labels)
    stored = metadata_label_names(schema, label_column)
    if stored is not None:
        return ClassList(stored)
    kind = schema.field(label_column).type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_dictionary(kind)):
        return ClassList(None)
    index = schema.get_field_index(label_column)
    values: set[str] = set()
    for batch in batches():
        values.update(v for v in batch.column(index).to_pylist() if v is not None)
    return ClassList.collect(values)


def import_table(
    table_file: str | os.PathLike,
    output: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    image_column: str | None = None,
    label_column: str | None = "label",
    key_column: str | None = None,
    labels: Labels = None,
    **options: Any,
) -> ImportResult:
    """Import a Parquet, Arrow or Feather table, one sample per row (needs the extra ``table``).

    The image column (named, else the first of ``image``, ``img``, ``jpg`` … ``path``, ``file``)
    becomes ``image``: bytes stay bytes, a str is a path read from ``root``, a Hugging Face
    ``Image`` struct gives its bytes. The label column becomes ``label``: ints stay ints (names
    from dings' or Hugging Face's metadata are recorded), class names become ints in sorted order.
    Numeric list columns become numpy arrays of their type; other columns are kept as they are. The
    key is the key column (default ``key``), else the row number.

    Args:
        table_file: ``.parquet``/``.pq``, ``.arrow``/``.feather``/``.ipc``.
        output: the dataset to write.
        root: the folder image paths start from (default: the table's folder). When given,
            every path must lie inside it (as :func:`import_list`); without it paths are trusted.
        image_column: the image column.
        label_column: the label column (``None``: no labels).
        key_column: a column of unique keys.
        labels: the class list (a file with one name a line, or the names).
        options: see :func:`import_samples`.

    Raises:
        MissingExtraError: pyarrow is not installed.
        ImportDataError: a missing column, an unreadable image, a path that is not a regular file
            or lies outside ``root``, a duplicate key or a label outside the class list; the
            message names the table and row.
    """
    check_source_output(
        output, options.get("shard_size"), [table_file], [root or Path(table_file).parent], labels=labels
    )
    source = table_source(
        table_file,
        root=root,
        image_column=image_column,
        label_column=label_column,
        key_column=key_column,
        labels=labels,
    )
    return run_import(source, output, **options)


class _TableRows:
    """Partition opener: rows ``start … stop - 1`` of a table (each task reads the table up to its range)."""

    def __init__(self, path: str, options: dict[str, Any]) -> None:
        self.path = path
        self.options = options

    def __call__(self, payload: tuple[int, int]) -> tuple[Iterable[Any], Callable[[Any], Loaded]]:
        start, stop = payload
        src = table_source(self.path, **self.options)
        return islice(src.items, start, stop), src.load


def _partition_table(
    kind: SourceKind, source: str, size: int, *, shuffle: bool, seed: int, labels: Labels, options: dict[str, Any]
) -> Partitions:
    """Row ranges of ``size`` rows (not shuffled: each task reads the table in order)."""
    if shuffle:
        refuse_shuffle(kind)
    src = table_source(source, labels=labels, **options)
    total = src.total or 0
    ranges = [(start, min(start + size, total)) for start in range(0, total, size)]
    return Partitions(ranges, _TableRows(source, {"labels": labels, **options}), src.label_names)


TABLE = register_source_kind(
    SourceKind(
        "table",
        detect=lambda text: text.lower().endswith(TABLE_SUFFIXES) and os.path.isfile(text),
        source=table_source,
        importer=import_table,
        partition=_partition_table,
        inputs=file_and_root,
        suffixes=TABLE_SUFFIXES,
        options=(ROOT, IMAGE_COLUMN, LABEL_COLUMN, KEY_COLUMN),
    )
)
