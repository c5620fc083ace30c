"""Packing and unpacking with the exact settings of the dings/datadings file format.

Samples are msgpack maps. numpy arrays, numpy scalars and complex numbers use msgpack-numpy's
encoding, so files are byte-identical to those of datadings 3.4. Decoding is safe by default:
an object-dtype array (which msgpack-numpy would ``pickle.loads``) raises :class:`UnsafeDataError`.
"""

from __future__ import annotations

from typing import IO, Any

import msgpack
import msgpack_numpy
import numpy as np

from .errors import UnsafeDataError

__all__ = ["packb", "unpackb", "pack", "unpack", "make_packer", "make_unpacker", "encode", "decode"]

_OBJECT_ARRAY_HINT = (
    "object-dtype numpy arrays are stored with pickle, which can execute code; "
    "pass allow_unsafe=True only for files you trust"
)


def encode(obj: Any) -> Any:
    """msgpack ``default`` hook: numpy arrays/scalars and complex numbers, refusing object arrays.

    Args:
        obj: a value msgpack cannot pack natively.

    Raises:
        UnsafeDataError: for arrays whose dtype holds Python objects.
        TypeError: for any other type msgpack cannot pack.
    """
    if isinstance(obj, np.ndarray) and obj.dtype.hasobject:
        raise UnsafeDataError(f"cannot write an array of dtype {obj.dtype}: {_OBJECT_ARRAY_HINT}")
    encoded = msgpack_numpy.encode(obj)
    if encoded is obj:
        raise TypeError(f"cannot pack a value of type {type(obj).__name__}")
    return encoded


def _encode_unsafe(obj: Any) -> Any:
    encoded = msgpack_numpy.encode(obj)
    if encoded is obj:
        raise TypeError(f"cannot pack a value of type {type(obj).__name__}")
    return encoded


def decode(obj: dict) -> Any:
    """msgpack ``object_hook``: numpy arrays/scalars and complex numbers; refuses object arrays.

    Args:
        obj: a decoded msgpack map.

    Raises:
        UnsafeDataError: when the map is an object-dtype array (it would need pickle).
    """
    if b"nd" in obj and obj.get(b"kind") == b"O":
        raise UnsafeDataError(f"refusing to decode an object-dtype array: {_OBJECT_ARRAY_HINT}")
    return msgpack_numpy.decode(obj)


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
