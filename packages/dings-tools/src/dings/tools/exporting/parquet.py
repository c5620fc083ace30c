"""Export a dataset as one Parquet file (pyarrow, extra ``table``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._dataset import DatasetSpec, temp_name
from ..extras import require
from .common import ExportError, check_output, image_suffix, read_dataset

__all__ = ["export_parquet"]

#: rows per Parquet row group
ROWS = 1024


def _arrow_type(value: Any, pa: Any) -> Any:
    """The Arrow type of a column from its first value (arrays keep their dtype as nested lists)."""
    if isinstance(value, np.ndarray):
        kind = pa.from_numpy_dtype(value.dtype)
        for _ in range(value.ndim):
            kind = pa.list_(kind)
        return kind
    if isinstance(value, np.generic):
        return pa.from_numpy_dtype(value.dtype)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return pa.binary()
    if isinstance(value, str):
        return pa.string()
    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int):
        return pa.int64()
    if isinstance(value, float):
        return pa.float64()
    return pa.scalar(value).type


def _image_struct(pa: Any) -> Any:
    """The Arrow type of a Hugging Face ``Image``: the encoded bytes and a (null) path."""
    return pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def _schema_metadata(names: list[str] | None, image: bool, label: bool) -> dict[bytes, bytes]:
    """dings' label names (key ``dings``) and the Hugging Face ``datasets`` features (key ``huggingface``)."""
    metadata: dict[bytes, bytes] = {}
    if names is not None:
        metadata[b"dings"] = json.dumps({"label_names": names}).encode()
    features: dict[str, Any] = {}
    if image:
        features["image"] = {"_type": "Image"}
    if label and names is not None:
        features["label"] = {"names": names, "_type": "ClassLabel"}
    if features:
        metadata[b"huggingface"] = json.dumps({"info": {"features": features}}).encode()
    return metadata


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError("an object array")
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    return value


def export_parquet(
    dataset: DatasetSpec,
    output: str | os.PathLike,
    *,
    overwrite: bool = False,
    progress: bool | None = True,
) -> Path:
    """Write a dataset as a Parquet file, readable by pyarrow, pandas and ``datasets``.

    One row per sample, one column per field (the first samples decide the columns and their
    types): ``key`` str, ``image`` as Hugging Face's ``Image`` struct (``bytes`` and a null
    ``path``) when it holds encoded images (else binary), ``label`` int64, arrays as (nested)
    lists of their dtype, other values as pyarrow converts them. Label names are kept in the
    schema metadata twice: under the key ``dings`` (``{"label_names": [...]}``) and as
    ``datasets`` features under the key ``huggingface`` (``image`` an ``Image``, ``label`` a
    ``ClassLabel`` with the names), so ``datasets`` reads images and class labels as such.
    :func:`dings.tools.import_table` reads them back, so a round trip gives the same samples
    and names.

    Args:
        dataset: the dataset (``NAME.msgpack``).
        output: the Parquet file to write (atomically).
        overwrite: replace an existing file.
        progress: show a progress bar.

    Raises:
        MissingExtraError: pyarrow is not installed.
        ExportError: a sample whose fields do not fit the columns; the message names it.
        FileExistsError: the output exists and ``overwrite`` is false.
    """
    pa = require("pyarrow", "table", "exporting Parquet")
    pq = require("pyarrow.parquet", "table", "exporting Parquet")
    target = Path(output)
    check_output(target, overwrite, dataset)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = temp_name(target)
    writer = None
    try:
        with read_dataset(dataset, f"export {target.name}", progress) as (samples, names, _length):
            schema = None
            images = False  # the image column is a Hugging Face Image struct
            rows: list[dict[str, Any]] = []

            def flush() -> None:
                nonlocal schema, writer, images
                if schema is None:
                    fields: dict[str, Any] = {}
                    for row in rows:
                        for name, value in row.items():
                            if value is not None and name not in fields:
                                fields[name] = _arrow_type(value, pa)
                    for row in rows:  # columns only ever None
                        for name in row:
                            fields.setdefault(name, pa.null())
                    first_image = next((row["image"] for row in rows if row.get("image") is not None), None)
                    images = fields.get("image") == pa.binary() and image_suffix(first_image) is not None
                    if images:
                        fields["image"] = _image_struct(pa)
                    label = pa.types.is_integer(fields.get("label", pa.null()))
                    metadata = _schema_metadata(names, images, label)
                    schema = pa.schema(list(fields.items()), metadata=metadata or None)
                    writer = pq.ParquetWriter(part, schema)
                for row in rows:
                    extra = set(row) - set(schema.names)
                    if extra:
                        raise ExportError(
                            f"sample {row['key']!r}: field {sorted(extra)[0]!r} is not in the columns of the first samples ({', '.join(schema.names)})"
                        )
                try:
                    plain = [{k: _plain(v) for k, v in row.items()} for row in rows]
                    if images:
                        for row in plain:
                            if row.get("image") is not None:
                                row["image"] = {"bytes": row["image"], "path": None}
                    table = pa.Table.from_pylist(plain, schema=schema)
                except (pa.ArrowException, TypeError, ValueError) as exc:
                    raise ExportError(
                        f"samples {rows[0]['key']!r} … {rows[-1]['key']!r}: do not fit the columns of the first samples ({exc})"
                    ) from None
                writer.write_table(table)
                rows.clear()

            for sample in samples:
                rows.append(sample)
                if len(rows) >= ROWS:
                    flush()
            if rows:
                flush()
            if writer is None:  # an empty dataset: a file with a key column and no rows
                writer = pq.ParquetWriter(part, pa.schema([("key", pa.string())]))
        writer.close()
        writer = None
        os.replace(part, target)
    except BaseException:
        if writer is not None:
            writer.close()
        part.unlink(missing_ok=True)
        raise
    return target
