"""Read MATLAB ``.mat`` files into plain Python and numpy values.

Needs the extra ``matlab`` (scipy): ``pip install "dings-tools[matlab]"``. This module itself imports
without scipy; :func:`loadmat` imports it when called and raises an ImportError naming the extra if
it is missing. So ``import dings.tools`` never needs scipy.

What :func:`loadmat` returns for each MATLAB type:

- struct (1x1) -> ``dict``; struct array -> ``list`` of dicts (nested lists for 2-D arrays);
- cell array -> ``list`` (nested lists for 2-D cells);
- char array -> ``str`` (several rows -> list of ``str``);
- numeric or logical scalar -> Python ``int``/``float``/``bool``/``complex``;
- numeric or logical array -> numpy array with singleton dimensions removed (``[]`` -> empty array);
- sparse matrices and MATLAB objects are returned as scipy gives them.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .extras import require

__all__ = ["iter_fields", "loadmat", "to_plain"]

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def to_plain(value: Any) -> Any:
    """Convert a value from ``scipy.io.loadmat(..., squeeze_me=True)`` to plain Python/numpy.

    See the module documentation for the mapping; values that are already plain are returned as is.

    Args:
        value: a value read by scipy (a structured, object, string or numeric array, or a scalar).
    """
    if isinstance(value, np.ndarray):
        if value.dtype.names is not None:  # struct or struct array
            if value.ndim == 0:
                return {name: to_plain(value[name][()]) for name in value.dtype.names}
            return _nested(value, lambda element: to_plain(np.asarray(element)))
        if value.dtype == object:  # cell array
            if value.ndim == 0:
                return to_plain(value[()])
            return _nested(value, to_plain)
        if value.dtype.kind == "U":  # char rows
            return str(value[()]) if value.ndim == 0 else [str(s) for s in value.ravel()]
        if value.ndim == 0:
            return value.item()
        return value
    if isinstance(value, np.generic):
        return value.item()
    return value


def _nested(array: np.ndarray, convert: Any) -> list[Any]:
    if array.ndim == 1:
        return [convert(element) for element in array]
    return [_nested(row, convert) for row in array]


def _describe(mat: str | os.PathLike | BinaryIO) -> str:
    return str(mat) if isinstance(mat, (str, os.PathLike)) else getattr(mat, "name", "<file object>")


def _is_hdf5(mat: str | os.PathLike | BinaryIO) -> bool:
    """MATLAB v7.3 files are HDF5 files with a 512-byte header in front of the HDF5 signature."""
    if isinstance(mat, (str, os.PathLike)):
        try:
            with open(mat, "rb") as f:
                head = f.read(520)
        except OSError:
            return False
    else:
        try:
            position = mat.tell()
            head = mat.read(520)
            mat.seek(position)
        except (OSError, AttributeError):
            return False
    return head[512:520] == _HDF5_MAGIC or head[:8] == _HDF5_MAGIC


def loadmat(
    mat: str | os.PathLike | BinaryIO,
    variable_names: Collection[str] | None = None,
    keep_meta: bool = False,
) -> dict[str, Any]:
    """Load a MATLAB v4-v7.2 ``.mat`` file as a dict of plain Python/numpy values.

    Args:
        mat: path or binary file object.
        variable_names: load only these variables (all if ``None``).
        keep_meta: also return scipy's ``__header__``, ``__version__`` and ``__globals__`` entries.

    Returns:
        Variable name -> value, converted as described in the module documentation.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a MATLAB v7.3 (HDF5) file, which scipy cannot read, or not a ``.mat`` file.
        ImportError: scipy is not installed (names the extra ``dings-tools[matlab]``).
    """
    sio = require("scipy.io", "matlab", "loadmat")
    name = _describe(mat)
    if isinstance(mat, (str, os.PathLike)) and not Path(mat).exists():
        raise FileNotFoundError(f"{name}: no such file")
    if _is_hdf5(mat):
        raise ValueError(
            f"{name}: a MATLAB v7.3 (HDF5) file, which scipy cannot read; "
            "open it with h5py, or re-save it in MATLAB with save(..., '-v7')"
        )
    try:
        raw = sio.loadmat(
            mat,
            squeeze_me=True,
            struct_as_record=True,
            chars_as_strings=True,
            variable_names=None if variable_names is None else list(variable_names),
        )
    except NotImplementedError as exc:  # scipy's own v7.3 refusal
        raise ValueError(f"{name}: cannot read this MATLAB file version ({exc}); re-save it with '-v7'") from exc
    except FileNotFoundError:
        raise
    except Exception as exc:  # untrusted input: scipy raises MatReadError, ValueError, zlib.error …
        raise ValueError(f"{name}: not a readable MATLAB .mat file ({type(exc).__name__}: {exc})") from exc
    return {
        key: value if key.startswith("__") else to_plain(value)
        for key, value in raw.items()
        if keep_meta or not key.startswith("__")
    }


def iter_fields(arr: np.ndarray, ignore: Collection[str] = (), plain: bool = True) -> Iterator[dict[str, Any]]:
    """Yield one dict per element of a structured numpy array (e.g. a MATLAB struct array).

    Elements come in the array's (row-major) order. This works on any structured array, with or
    without scipy.

    Args:
        arr: an array with named fields (``array.dtype.names``), of any shape.
        ignore: field names to leave out.
        plain: convert field values with :func:`to_plain` (else return them as numpy gives them).

    Raises:
        TypeError: the array has no named fields.
    """
    array = np.asarray(arr)
    if array.dtype.names is None:
        raise TypeError(f"iter_fields: need a structured array with named fields, got dtype {array.dtype}")
    names = [n for n in array.dtype.names if n not in set(ignore)]
    for element in array.reshape(-1):
        yield {n: to_plain(element[n]) if plain else element[n] for n in names}
