"""Packing and unpacking with the exact settings of the dings/datadings file format.

Samples are msgpack maps. numpy arrays, numpy scalars and complex numbers use msgpack-numpy's
encoding, so files are byte-identical to those of datadings 3.4. Decoding is safe by default:
an object-dtype array (which msgpack-numpy would ``pickle.loads``) raises :class:`UnsafeDataError`.
"""

from __future__ import annotations

import re
from typing import IO, Any

import msgpack
import msgpack_numpy
import numpy as np

from .errors import DamagedDataError, InvalidSampleError, UnsafeDataError

__all__ = [
    "packb",
    "unpackb",
    "pack",
    "unpack",
    "make_packer",
    "make_unpacker",
    "encode",
    "decode",
    "unpack_options",
    "unpack_sample",
    "describe_sample",
    "object_array_field",
    "MAX_NESTING",
    "describe_decode_error",
]

#: the most maps and arrays nested in one another that msgpack decodes (its unpacker's stack),
#: the sample's own map included: writers refuse deeper samples, readers report them as damaged
MAX_NESTING = 1024

_OBJECT_ARRAY_HINT = (
    "object-dtype numpy arrays are stored with pickle, which can execute code; "
    "pass allow_unsafe=True only for files you trust"
)


#: a map entry ``"kind": "O"`` in every msgpack spelling (key and value as str or bin, any length
#: header): what marks msgpack-numpy's encoding of an object array, which it decodes with pickle
_OBJECT_KIND = re.compile(rb"kind(?:\xa1|[\xc4\xd9]\x01|[\xc5\xda]\x00\x01|[\xc6\xdb]\x00\x00\x00\x01)O")


def _is_object_array(value: dict) -> bool:
    """Whether a map decoded with ``raw=True`` is msgpack-numpy's encoding of an object array."""
    return b"nd" in value and value.get(b"kind") == b"O"


def _field_name(path: list[Any]) -> str:
    """``["meta", 1]`` → ``"sample['meta'][1]"`` (bytes shown as the str they spell)."""
    parts = [p.decode("utf-8", "backslashreplace") if isinstance(p, bytes) else p for p in path]
    return "sample" + "".join(f"[{p!r}]" for p in parts)


def object_array_field(packed: bytes | bytearray | memoryview) -> str | None:
    """Find an encoded object-dtype array in a packed sample, without decoding it.

    msgpack-numpy, and so datadings, decodes a map ``{b"nd": …, b"kind": b"O", …}`` with
    ``pickle.loads``, which can execute code. A scan of the bytes for the ``kind`` entry finds
    candidates; only those samples are decoded (as raw maps, nothing unpickled) to make sure.

    Args:
        packed: one packed sample.

    Returns:
        Where the map is (``"sample['meta'][1]"``), or ``None`` if there is none.

    Raises:
        InvalidSampleError: a candidate is not valid msgpack.
    """
    if _OBJECT_KIND.search(packed) is None:
        return None
    try:
        # raw: every str is bytes, so str and bin spellings of the keys look alike; tuples: hashable keys
        sample = msgpack.unpackb(packed, raw=True, strict_map_key=False, use_list=False)
    except Exception as exc:  # msgpack raises several types for invalid data
        raise InvalidSampleError(f"packed sample is not valid msgpack ({type(exc).__name__}: {exc})") from None
    todo: list[tuple[list[Any], Any]] = [([], sample)]
    while todo:  # without recursion: nesting may be as deep as msgpack allows
        path, value = todo.pop()
        if isinstance(value, dict):
            if _is_object_array(value):
                return _field_name(path)
            todo.extend((path + [k], v) for k, v in reversed(value.items()))
        elif isinstance(value, tuple):
            todo.extend((path + [i], v) for i, v in reversed(list(enumerate(value))))
    return None


def _array_data(array: np.ndarray) -> bytes | memoryview:
    """The array's bytes in C order, without a copy when numpy can expose its buffer."""
    if array.flags.c_contiguous:
        try:
            return array.data
        except (ValueError, BufferError):  # datetime64, non-native long double, ...
            pass
    return array.tobytes()


def _encode_numpy(obj: Any, allow_unsafe: bool) -> Any:
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject and not allow_unsafe:
            raise UnsafeDataError(f"cannot write an array of dtype {obj.dtype}: {_OBJECT_ARRAY_HINT}")
        if obj.dtype.kind in ("V", "O"):  # structured and (trusted) object arrays: msgpack-numpy's encoding
            return msgpack_numpy.encode(obj)
        # the same map msgpack-numpy writes, also for dtypes whose buffer numpy cannot expose
        return {b"nd": True, b"type": obj.dtype.str, b"kind": b"", b"shape": obj.shape, b"data": _array_data(obj)}
    if isinstance(obj, np.generic) and obj.dtype.kind not in ("V", "O"):
        return {b"nd": False, b"type": obj.dtype.str, b"data": obj.tobytes()}
    if isinstance(obj, complex):
        return {b"complex": True, b"data": repr(obj)}
    encoded = msgpack_numpy.encode(obj)
    if encoded is obj:
        raise TypeError(f"cannot pack a value of type {type(obj).__name__}")
    return encoded


def encode(obj: Any) -> Any:
    """msgpack ``default`` hook: numpy arrays/scalars and complex numbers, refusing object arrays.

    The maps are msgpack-numpy's (FORMAT.md), so output is byte-identical to datadings'.

    Args:
        obj: a value msgpack cannot pack natively.

    Raises:
        UnsafeDataError: for arrays whose dtype holds Python objects.
        TypeError: for any other type msgpack cannot pack.
    """
    return _encode_numpy(obj, False)


def _encode_unsafe(obj: Any) -> Any:
    return _encode_numpy(obj, True)


def _descr(value: Any) -> Any:
    """Turn a dtype description as stored by msgpack-numpy (lists, maybe bytes) into numpy's form."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, list):
        fields = []
        for field in value:
            if not isinstance(field, list) or len(field) < 2:
                raise ValueError(f"invalid field description {field!r}")
            name, kind, *shape = field
            fields.append((_descr(name), _descr(kind), *(tuple(s) if isinstance(s, list) else s for s in shape)))
        return fields
    return value


def _holds_objects(obj: dict) -> bool:
    """Whether an encoded array or scalar map describes a dtype with Python objects (needs pickle)."""
    if obj.get(b"kind") == b"O":
        return True
    try:
        return np.dtype(_descr(obj.get(b"type"))).hasobject
    except (TypeError, ValueError) as exc:
        raise UnsafeDataError(
            f"refusing to decode an array with an unrecognised dtype {obj.get(b'type')!r}: {exc}"
        ) from None


def decode(obj: dict) -> Any:
    """msgpack ``object_hook``: numpy arrays/scalars and complex numbers; refuses object arrays.

    Args:
        obj: a decoded msgpack map.

    Raises:
        UnsafeDataError: when the map describes an array whose dtype holds Python objects, in any
            form (object kind, object type string, structured type with an object field).
    """
    if b"nd" in obj:
        if _holds_objects(obj):
            raise UnsafeDataError(f"refusing to decode an object-dtype array: {_OBJECT_ARRAY_HINT}")
        return msgpack_numpy.decode(obj)
    if b"complex" in obj:
        return msgpack_numpy.decode(obj)
    return obj  # a plain map: the common case, one dict look-up per map


def _pack_options(allow_unsafe: bool, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The format's packing settings, overridable by ``kwargs``."""
    return {"default": _encode_unsafe if allow_unsafe else encode, "use_bin_type": True, **kwargs}


def _unpack_options(allow_unsafe: bool, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The format's unpacking settings, overridable by ``kwargs``."""
    hook = msgpack_numpy.decode if allow_unsafe else decode
    return {"object_hook": hook, "raw": False, "strict_map_key": False, **kwargs}


def make_packer(*, allow_unsafe: bool = False, **kwargs: Any) -> msgpack.Packer:
    """Create a ``msgpack.Packer`` with the format's settings.

    Args:
        allow_unsafe: also pack object-dtype arrays (with pickle). Off by default.
        kwargs: further arguments for ``msgpack.Packer``.
    """
    return msgpack.Packer(**_pack_options(allow_unsafe, kwargs))


def unpack_options(allow_unsafe: bool = False) -> dict[str, Any]:
    """The keyword arguments for ``msgpack.unpackb``/``msgpack.Unpacker`` that decode the format.

    Readers call msgpack directly with these to save a function call per sample.

    Args:
        allow_unsafe: decode object-dtype arrays with pickle. Only for trusted files.
    """
    return _unpack_options(allow_unsafe, {})


def make_unpacker(file_like: IO[bytes] | None = None, *, allow_unsafe: bool = False, **kwargs: Any) -> msgpack.Unpacker:
    """Create a ``msgpack.Unpacker`` with the format's settings (``raw=False``, ``strict_map_key=False``).

    Args:
        file_like: optional stream to read from; feed bytes with ``feed()`` otherwise.
        allow_unsafe: decode object-dtype arrays with pickle. Only for trusted files.
        kwargs: further arguments for ``msgpack.Unpacker``.
    """
    return msgpack.Unpacker(file_like, **_unpack_options(allow_unsafe, kwargs))


def packb(obj: Any, *, allow_unsafe: bool = False, **kwargs: Any) -> bytes:
    """Pack ``obj`` to bytes with the format's settings.

    Args:
        obj: the value to pack; numpy arrays and scalars and complex numbers are supported.
        allow_unsafe: also pack object-dtype arrays (with pickle). Off by default.
        kwargs: further arguments for ``msgpack.packb``.
    """
    return msgpack.packb(obj, **_pack_options(allow_unsafe, kwargs))


def unpackb(packed: bytes | bytearray | memoryview, *, allow_unsafe: bool = False, **kwargs: Any) -> Any:
    """Unpack one msgpack message from bytes with the format's settings.

    Args:
        packed: the packed message.
        allow_unsafe: decode object-dtype arrays with pickle. Only for trusted files.
        kwargs: further arguments for ``msgpack.unpackb``.
    """
    return msgpack.unpackb(packed, **_unpack_options(allow_unsafe, kwargs))


def pack(obj: Any, stream: IO[bytes], **kwargs: Any) -> None:
    """Pack ``obj`` and write it to ``stream``. Arguments as for :func:`packb`."""
    stream.write(packb(obj, **kwargs))


def unpack(stream: IO[bytes], **kwargs: Any) -> Any:
    """Read all of ``stream`` and unpack one message. Arguments as for :func:`unpackb`."""
    return unpackb(stream.read(), **kwargs)


def describe_decode_error(exc: BaseException) -> str:
    """Why msgpack could not decode a sample, in a few words (``"StackError: …"`` spelled out).

    Args:
        exc: what msgpack, msgpack-numpy or Python raised while decoding.
    """
    if isinstance(exc, (msgpack.StackError, RecursionError)):
        return f"nested deeper than the {MAX_NESTING:,} levels of maps and lists that msgpack decodes"
    text = str(exc)[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def describe_sample(path: object, index: int | None, key: str | None = None) -> str:
    """``"data.msgpack: sample 3 (key 'a')"``: how error messages name a sample."""
    where = f"{path}" if path is not None else "sample data"
    if index is not None:
        where += f": sample {index}"
    if key is not None:
        where += f" (key {key!r})"
    return where


def unpack_sample(
    data: bytes | bytearray | memoryview,
    *,
    path: object = None,
    index: int | None = None,
    key: str | None = None,
    allow_unsafe: bool = False,
) -> dict:
    """Decode one packed sample from an untrusted file; every failure is one clear error.

    Args:
        data: the sample's packed bytes (exactly one msgpack map).
        path: the file it came from (for messages).
        index: its position in the dataset (for messages).
        key: the key the index gives it; the decoded ``"key"`` must equal it.
        allow_unsafe: decode object-dtype arrays with pickle. Only for trusted files.

    Returns:
        The sample.

    Raises:
        DamagedDataError: the bytes do not decode (msgpack, msgpack-numpy, nesting, UTF-8 or
            trailing-data failures), do not form a map, or hold another key. Names the file,
            sample index and key.
        UnsafeDataError: the sample holds an object-dtype array and ``allow_unsafe`` is off.
    """
    try:
        sample = unpackb(data, allow_unsafe=allow_unsafe)
    except UnsafeDataError as exc:
        raise UnsafeDataError(f"{describe_sample(path, index, key)}: {exc}") from None
    except (Exception, RecursionError) as exc:  # msgpack and msgpack-numpy raise many types for damaged bytes
        raise DamagedDataError(
            f"{describe_sample(path, index, key)}: damaged, cannot be decoded ({describe_decode_error(exc)})",
            path=path,
            index=index,
            key=key,
        ) from None
    if not isinstance(sample, dict):
        raise DamagedDataError(
            f"{describe_sample(path, index, key)}: damaged, decodes to a {type(sample).__name__}, not a map",
            path=path,
            index=index,
            key=key,
        )
    if key is not None:
        try:
            inner = sample.get("key")
        except TypeError:  # an unhashable map key cannot be in a dict, but stay defensive
            inner = None
        if inner != key:
            raise DamagedDataError(
                f"{describe_sample(path, index, key)}: damaged, holds the key {inner!r}",
                path=path,
                index=index,
                key=key,
            )
    return sample
