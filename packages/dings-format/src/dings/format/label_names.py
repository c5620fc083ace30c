"""Label names: the ``NAME.msgpack.labels.json`` sidecar that datadings ignores.

A dataset whose samples carry an integer ``"label"`` may name its classes in a small JSON file
next to the data file::

    {"label_names": ["cat", "dog"], "data_md5": "<md5 hex of NAME.msgpack>"}

``label_names[i]`` is the name of label ``i``. ``data_md5`` (optional) binds the names to one
version of the data file: when the dataset's md5 file lists another digest, the sidecar is stale
(the dataset was replaced after it was written) and :func:`load_label_names` ignores it.
"""

from __future__ import annotations

import json
import os
import secrets
import warnings
from collections.abc import Sequence
from pathlib import Path

from .errors import CorruptIndexError
from .index import MAX_LABEL_NAMES_SIZE, load_md5, open_index_file
from .jsonparse import parse_json
from .paths import LABEL_NAMES_SUFFIX, data_path, index_path

__all__ = ["LABEL_NAMES_SUFFIX", "copy_label_names", "label_names_content", "load_label_names", "write_label_names"]

#: a label file larger than this is refused (it is read into memory)
MAX_SIZE = MAX_LABEL_NAMES_SIZE


def _data_md5(path: Path) -> str | None:
    """The data file's digest from the dataset's md5 file, or None without a readable one."""
    try:
        return load_md5(path).get(path.name)
    except (OSError, CorruptIndexError, UnicodeDecodeError):
        return None


def label_names_content(names: Sequence[str], data_md5: str | None) -> bytes:
    """The content of a label-names sidecar.

    Args:
        names: ``names[i]`` is the name of label ``i``.
        data_md5: md5 hex digest of the data file the names belong to (``None``: not bound).

    Raises:
        TypeError: a name is not a str.
    """
    names = list(names)
    for position, name in enumerate(names):
        if not isinstance(name, str):
            raise TypeError(f"label name {position} is {name!r} ({type(name).__name__}); label names must be str")
    content: dict[str, object] = {"label_names": names}
    if data_md5 is not None:
        content["data_md5"] = data_md5
    return (json.dumps(content, ensure_ascii=False) + "\n").encode("utf-8")


def write_label_names(path: str | os.PathLike, names: Sequence[str]) -> Path:
    """Write the label names of the dataset ``path``, atomically, bound to its current md5 file.

    For a dataset written earlier (its md5 file is read to bind the names to the data). A writer
    that knows the names passes them to the writer instead (``FileWriter(..., label_names=names)``):
    then the sidecar is part of the dataset's commit, bound to the data written, even when other
    writers replace the dataset at the same time.

    Args:
        path: the dataset's data file (``NAME.msgpack``) or any of its index files.
        names: ``names[i]`` is the name of label ``i``.

    Returns:
        The sidecar's path.

    Raises:
        TypeError: a name is not a str.
    """
    data = data_path(path)
    content = label_names_content(names, _data_md5(data))
    target = index_path(data, LABEL_NAMES_SUFFIX)
    part = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        with open(part, "xb") as f:
            f.write(content)
        os.replace(part, target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return target


def load_label_names(path: str | os.PathLike) -> list[str] | None:
    """Return the label names of a dataset, or None when it has none (or only stale ones).

    Args:
        path: the dataset's data file (``NAME.msgpack``) or any of its index files.

    Returns:
        ``names`` with ``names[i]`` the name of label ``i``; ``None`` without the sidecar, or when
        the sidecar belongs to an older version of the data file (a warning says so).

    Raises:
        CorruptIndexError: the sidecar is not a label-names file (not a regular file, too large,
            not JSON, nested too deeply, or not a list of str); the message names the file.
    """
    data = data_path(path)
    target = index_path(data, LABEL_NAMES_SUFFIX)
    try:
        f = open_index_file(target)  # a FIFO or device is refused, never waited on
    except FileNotFoundError:
        return None
    with f:
        content = f.read(MAX_SIZE + 1)
    if len(content) > MAX_SIZE:
        raise CorruptIndexError(f"{target}: larger than {MAX_SIZE >> 20} MiB; not a label-names file", path=target)
    where = f"{target}: not a label-names file"
    parsed = parse_json(content, where, lambda message: CorruptIndexError(message, path=target))
    names = parsed.get("label_names") if isinstance(parsed, dict) else None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise CorruptIndexError(f'{target}: not a label-names file (expected {{"label_names": [str, …]}})', path=target)
    bound = parsed.get("data_md5")
    if isinstance(bound, str):
        current = _data_md5(data)
        if current is not None and current != bound:
            warnings.warn(
                f"{target}: written for another version of {data.name}; its label names are ignored", stacklevel=2
            )
            return None
    return names


def copy_label_names(source: str | os.PathLike, *targets: str | os.PathLike) -> list[str] | None:
    """Give datasets made from ``source`` (shuffled, split, sampled) its label names, if it has any.

    Call it after the targets were written. Returns the names copied, or ``None``.
    """
    names = load_label_names(source)
    if names is not None:
        for target in targets:
            write_label_names(target, names)
    return names
