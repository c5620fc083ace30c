"""Decode the packed samples of a batch straight into per-field columns, without a Python object per sample.

Samples of a dataset almost always share one layout: the same map keys in the same order, with
values of the same kinds; only ints (fixint, uint8 … int64), str/bin lengths and floats vary in
their encoding. :class:`BatchDecoder` learns the layout (a *template*) from one sample and then
walks all samples of a batch at once with numpy: position arrays, one step per field. Constant
bytes (map headers, keys, array headers) are compared for every sample; ints, floats and bools
become one 1-D array, str/bin values one :class:`~dings.torch.Column`, msgpack-numpy arrays of one
dtype and shape one stacked ``(batch, *shape)`` array copied from the packed bytes. A batch that
does not fit the template (another layout, a changing shape) is decoded sample by sample with
msgpack and collated the same way, so both paths give equal results (or the same error).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import msgpack
import numpy as np

from dings.format import unpack_options

from .columns import BufferPool, Column, copy_rows, gather

__all__ = ["BatchDecoder", "BatchError", "collate_columns"]

_CONST, _INT, _FLOAT, _BOOL, _NIL, _STR, _BIN, _ARRAY = range(8)


class BatchError(ValueError):
    """A batch cannot be built: a sample lacks a field, or a field changes its kind or shape.

    The message names the sample's key and the field.
    """


def _table(codes: Sequence[int], values: Sequence[int] | int = 1) -> np.ndarray:
    table = np.zeros(256, dtype=np.int64)
    table[list(codes)] = values
    return table


_FIXINT = list(range(0x00, 0x80)) + list(range(0xE0, 0x100))
_IS_INT = _table(_FIXINT + [0xCC, 0xCD, 0xCE, 0xCF, 0xD0, 0xD1, 0xD2, 0xD3]).astype(bool)
#: bytes after the code that hold the value (0: the code itself is the value)
_INT_WIDTH = _table([0xCC, 0xCD, 0xCE, 0xCF, 0xD0, 0xD1, 0xD2, 0xD3], [1, 2, 4, 8, 1, 2, 4, 8])
_INT_SIGNED = _table([0xD0, 0xD1, 0xD2, 0xD3]).astype(bool)
_IS_FLOAT = _table([0xCA, 0xCB]).astype(bool)
_IS_BOOL = _table([0xC2, 0xC3]).astype(bool)
_STR_CODES = list(range(0xA0, 0xC0)) + [0xD9, 0xDA, 0xDB]
_IS_STR = _table(_STR_CODES).astype(bool)
_IS_BIN = _table([0xC4, 0xC5, 0xC6]).astype(bool)
#: bytes after the code that hold a str/bin length (0: a fixstr, length in the code)
_LEN_WIDTH = _table([0xD9, 0xDA, 0xDB, 0xC4, 0xC5, 0xC6], [1, 2, 4, 1, 2, 4])
_NUMPY_KEYS = (b"nd", b"type", b"kind", b"shape", b"data")
_SCALAR_KEYS = (b"nd", b"type", b"data")
_SAFE_KINDS = frozenset("biufc")


@dataclass(frozen=True)
class _Op:
    kind: int
    path: tuple = ()
    const: np.ndarray | None = None
    dtype: np.dtype | None = None
    shape: tuple = ()


def _skip(data: bytes, position: int) -> tuple[Any, int]:
    """Decode the raw msgpack value at ``position``: ``(value, end position)``."""
    unpacker = msgpack.Unpacker(raw=True, strict_map_key=False, max_buffer_size=max(len(data), 1))
    unpacker.feed(data[position:])
    value = unpacker.unpack()
    return value, position + unpacker.tell()


def _numpy_header(value: Any) -> tuple[np.dtype, tuple] | None:
    """``(dtype, shape)`` of a msgpack-numpy array or scalar map (raw keys) we can copy, else None."""
    if not isinstance(value, dict) or b"nd" not in value:
        return None
    keys = tuple(value)
    kind, type_name = value.get(b"kind", b""), value.get(b"type")
    if keys not in (_NUMPY_KEYS, _SCALAR_KEYS) or kind != b"" or not isinstance(type_name, bytes):
        return None
    try:
        dtype = np.dtype(type_name.decode("ascii"))
    except (TypeError, ValueError, UnicodeDecodeError):
        return None
    if dtype.kind not in _SAFE_KINDS or dtype.hasobject:
        return None
    if keys == _NUMPY_KEYS:
        shape = value[b"shape"]
        if value[b"nd"] is not True or not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape):
            return None
        shape = tuple(shape)
    else:
        if value[b"nd"] is not False:
            return None
        shape = ()
    data = value[b"data"]
    if not isinstance(data, bytes) or len(data) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
        return None
    return dtype, shape


def _template(data: bytes) -> list[_Op] | None:
    """The layout of one packed sample, or ``None`` if it is not a map of supported values."""
    ops: list[_Op] = []
    pending = bytearray()

    def const(raw: bytes) -> None:
        pending.extend(raw)

    def flush() -> None:
        if pending:
            ops.append(_Op(_CONST, const=np.frombuffer(bytes(pending), dtype=np.uint8)))
            pending.clear()

    def value(position: int, path: tuple) -> int | None:
        code = data[position]
        decoded, end = _skip(data, position)
        if isinstance(decoded, dict):
            header = _numpy_header(decoded)
            if header is not None:
                dtype, shape = header
                nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
                const(data[position : end - nbytes])
                flush()
                ops.append(_Op(_ARRAY, path, dtype=dtype, shape=shape))
                return end
            if b"nd" in decoded or b"complex" in decoded:  # arrays we cannot copy (object, structured)
                return None
            return mapping(position, path)
        if _IS_INT[code]:
            kind = _INT
        elif _IS_FLOAT[code]:
            kind = _FLOAT
        elif _IS_BOOL[code]:
            kind = _BOOL
        elif code == 0xC0:
            kind = _NIL
        elif _IS_STR[code]:
            kind = _STR
        elif _IS_BIN[code]:
            kind = _BIN
        else:  # lists, ext types
            return None
        if kind == _INT and code == 0xCF and decoded > 2**63 - 1:
            return None
        flush()
        ops.append(_Op(kind, path))
        return end

    def mapping(position: int, path: tuple) -> int | None:
        code = data[position]
        if 0x80 <= code <= 0x8F:
            count, head = code & 0x0F, 1
        elif code == 0xDE:
            count, head = int.from_bytes(data[position + 1 : position + 3], "big"), 3
        elif code == 0xDF:
            count, head = int.from_bytes(data[position + 1 : position + 5], "big"), 5
        else:
            return None
        const(data[position : position + head])
        position += head
        for _ in range(count):
            key, end = _skip(data, position)
            if not isinstance(key, bytes) or not _IS_STR[data[position]]:
                return None  # only str keys name fields
            try:
                name = key.decode("utf-8")
            except UnicodeDecodeError:
                return None
            const(data[position:end])
            found = value(end, (*path, name))
            if found is None:
                return None
            position = found
        return position

    try:
        end = mapping(0, ())
    except (ValueError, msgpack.UnpackException, IndexError):
        return None
    if end != len(data):
        return None
    flush()
    return ops


class _Slices:
    """str/bin values left where they are in the packed buffer (for a transform reading each once).

    Valid only while the buffer is; ``slices[i]`` copies value ``i`` out as ``bytes`` or ``str``.
    """

    def __init__(self, source: np.ndarray, begin: np.ndarray, end: np.ndarray, text: bool) -> None:
        self.source, self.begin, self.end, self.text = source, begin.tolist(), end.tolist(), text

    def __len__(self) -> int:
        return len(self.begin)

    def __getitem__(self, index: int) -> bytes | str:
        raw = self.source[self.begin[index] : self.end[index]].tobytes()
        return raw.decode("utf-8") if self.text else raw


def _word_reader(source: np.ndarray, stops: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """``read(positions)``: the 8 bytes at each position as one big-endian uint64 (one gather).

    Bytes past the end of ``source`` read as zeros.
    """
    count = len(source) - 7
    words = np.ndarray((count,), dtype=">u8", buffer=source, strides=(1,))
    if len(stops) and int(stops.max()) <= count:  # every byte of every sample starts a whole word

        def read(positions: np.ndarray) -> np.ndarray:
            return words[positions].astype(np.uint64)

        return read

    def read_near_end(positions: np.ndarray) -> np.ndarray:
        safe = np.minimum(positions, count - 1)
        return words[safe].astype(np.uint64) << ((positions - safe) * 8).astype(np.uint64)

    return read_near_end


def _top(words: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """The first ``widths`` bytes (1 … 7; 0 reads as 1) of big-endian words, as uint64."""
    return words >> (64 - 8 * np.maximum(widths, 1)).astype(np.uint64)


def _run(
    ops: list[_Op],
    source: np.ndarray,
    starts: np.ndarray,
    stops: np.ndarray,
    wanted: Any,
    pool: BufferPool | None,
    lazy: Any = None,
) -> dict | None:
    """Walk all samples with ``ops``; the fields (nested dicts for nested maps), or ``None`` on a mismatch."""
    position = starts.astype(np.int64, copy=True)
    n = len(position)
    out: dict = {}
    if n and int(stops.max()) > len(source):
        return None
    if len(source) < 16:  # too short for whole words: a padded copy (a few bytes)
        source = np.concatenate([source, np.zeros(16, dtype=np.uint8)])
    read = _word_reader(source, stops)
    for op in ops:
        kind = op.kind
        value: Any
        if kind == _CONST:
            const = cast(np.ndarray, op.const)  # every _CONST op has its bytes
            for offset in range(0, len(const), 8):
                chunk = const[offset : offset + 8]
                expected = int.from_bytes(chunk.tobytes(), "big")
                words = read(position + offset) >> np.uint64(64 - 8 * len(chunk))
                if not bool((words == np.uint64(expected)).all()):
                    return None
            position += len(const)
            continue
        take = wanted is None or op.path[0] in wanted
        if kind == _ARRAY:
            dtype = cast(np.dtype, op.dtype)  # every _ARRAY op has its dtype
            nbytes = int(np.prod(op.shape, dtype=np.int64)) * dtype.itemsize
            if bool((position + nbytes > stops).any()):
                return None
            if take:
                value = pool.empty((n, *op.shape), dtype) if pool is not None else np.empty((n, *op.shape), dtype)
                copy_rows(source, position, nbytes, value.reshape(n, -1).view(np.uint8))
            position += nbytes
        else:
            words = read(position)
            codes = (words >> np.uint64(56)).astype(np.intp)
            after = words << np.uint64(8)  # the 7 bytes after each code
            if kind == _INT:
                if not bool(_IS_INT[codes].all()):
                    return None
                if bool((codes < 0x80).all()):  # all positive fixints: the common small label
                    value = codes.astype(np.int64)
                    position += 1
                else:
                    widths = _INT_WIDTH[codes]
                    raw = _top(after, widths)
                    wide = widths == 8
                    if wide.any():
                        raw = np.where(wide, read(position + 1), raw)
                        if bool(((codes == 0xCF) & (raw > np.uint64(2**63 - 1))).any()):
                            return None  # beyond int64: left to msgpack (and collate)
                    value = raw.view(np.int64)
                    signed = _INT_SIGNED[codes]
                    if signed.any():
                        shift = 64 - 8 * widths
                        value = np.where(signed, (value << shift) >> shift, value)
                    value = np.where(widths == 0, codes.astype(np.uint8).view(np.int8).astype(np.int64), value)
                    position += 1 + widths
            elif kind == _FLOAT:
                if not bool(_IS_FLOAT[codes].all()):
                    return None
                double = codes == 0xCB
                if bool(double.all()):
                    value = read(position + 1).view(np.float64)
                else:
                    single = (after >> np.uint64(32)).astype(np.uint32).view(np.float32).astype(np.float64)
                    value = np.where(double, read(position + 1).view(np.float64), single)
                position += np.where(double, 9, 5)
            elif kind == _BOOL:
                if not bool(_IS_BOOL[codes].all()):
                    return None
                value = codes == 0xC3
                position += 1
            elif kind == _NIL:
                if not bool((codes == 0xC0).all()):
                    return None
                value = [None] * n
                position += 1
            else:  # _STR, _BIN
                if not bool((_IS_STR if kind == _STR else _IS_BIN)[codes].all()):
                    return None
                widths = _LEN_WIDTH[codes]
                if bool((widths == 0).all()):
                    lengths = codes & 0x1F
                else:
                    lengths = np.where(widths == 0, codes & 0x1F, _top(after, widths).astype(np.int64))
                begin = position + 1 + widths
                position = begin + lengths
                if bool((position > stops).any()):
                    return None
                if not take:
                    value = None
                elif lazy is not None and op.path[0] in lazy:
                    value = _Slices(source, begin, position, kind == _STR)
                else:
                    value = Column(*gather(source, begin, position), kind == _STR)
        if take:
            target = out
            for name in op.path[:-1]:
                target = target.setdefault(name, {})
            target[op.path[-1]] = value
    if not bool((position == stops).all()):
        return None
    return out


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "bytes"
    if isinstance(value, np.ndarray | np.generic):
        return "array"
    if isinstance(value, dict):
        return "dict"
    if value is None:
        return "none"
    return "other"


def collate_columns(
    samples: Sequence[dict], keys: Sequence[str] | None = None, pool: BufferPool | None = None, path: tuple = ()
) -> dict:
    """Collate decoded samples into the columns :class:`BatchDecoder` makes.

    Fields are those of ``keys`` (default: the first sample's). ints become an int64 array, floats
    a float64 array, bools a bool array, numpy arrays and scalars of one dtype and shape a stacked
    array, ``str``/``bytes`` a :class:`Column`, nested dicts nested dicts of columns, ``None`` and
    anything else a list.

    Raises:
        BatchError: a sample lacks a field, or a field's kind, dtype or shape differs between
            samples (the message names the sample key and the field).
    """
    if not samples:
        return {}
    names = list(samples[0]) if keys is None else list(keys)
    out: dict = {}
    for name in names:
        values = []
        for sample in samples:
            try:
                values.append(sample[name])
            except (KeyError, TypeError):
                raise BatchError(
                    f"sample {_key_of(sample, samples)!r} has no field {_name(path, name)!r} "
                    f"(it has {sorted(map(str, sample)) if isinstance(sample, dict) else type(sample).__name__})"
                ) from None
        out[name] = _collate_field(values, samples, _name(path, name), pool, (*path, name))
    return out


def _name(path: tuple, name: str) -> str:
    return ".".join((*path, str(name)))


def _key_of(sample: Any, samples: Sequence[dict]) -> Any:
    return sample.get("key", f"#{list(map(id, samples)).index(id(sample))}") if isinstance(sample, dict) else "?"


def _collate_field(values: list, samples: Sequence[dict], field: str, pool: BufferPool | None, path: tuple) -> Any:
    kinds = [_kind(v) for v in values]
    first = kinds[0]
    numbers = first in ("int", "float") and all(k in ("int", "float") for k in kinds)
    if numbers and "float" in kinds and "int" in kinds:
        return np.asarray(values, dtype=np.float64)
    mixed = next((i for i, k in enumerate(kinds) if k != first), None)
    if mixed is not None:
        raise BatchError(
            f"field {field!r} of sample {_key_of(samples[mixed], samples)!r} is {kinds[mixed]}, "
            f"but {first} in sample {_key_of(samples[0], samples)!r}; every sample of a batch needs the same kind"
        )
    if first == "bool":
        return np.asarray(values, dtype=bool)
    if first == "int":
        try:
            return np.asarray(values, dtype=np.int64)
        except OverflowError:
            return list(values)
    if first == "float":
        return np.asarray(values, dtype=np.float64)
    if first in ("str", "bytes"):
        return Column.from_values(values, text=first == "str")
    if first == "array":
        head = values[0]
        for i, v in enumerate(values):
            if v.shape != head.shape or v.dtype != head.dtype:
                raise BatchError(
                    f"field {field!r} of sample {_key_of(samples[i], samples)!r} is a {v.dtype} array of shape {v.shape}, "
                    f"but {head.dtype} {head.shape} in sample {_key_of(samples[0], samples)!r}; arrays of a batch must agree"
                )
        out = (
            pool.empty((len(values), *head.shape), head.dtype)
            if pool is not None
            else np.empty((len(values), *head.shape), head.dtype)
        )
        for i, v in enumerate(values):
            out[i] = v
        return out
    if first == "dict":
        return collate_columns(values, None, pool, path)
    return list(values)


class BatchDecoder:
    """Decode packed samples into a dict of per-field columns (see the module documentation).

    Args:
        keys: top-level fields to keep (all fields when ``None``).
        pool: where stacked arrays get their memory (fresh memory when ``None``).
        allow_unsafe: passed to msgpack decoding on the fallback path (object arrays).
        lazy: top-level str/bin fields left in the packed buffer (an indexable of values, valid
            until the buffer goes) instead of copied into a :class:`Column`: for fields a
            transform reads once per sample.

    One decoder may be used by several threads at once (the template is replaced atomically).
    """

    def __init__(
        self,
        keys: Sequence[str] | None = None,
        pool: BufferPool | None = None,
        *,
        allow_unsafe: bool = False,
        lazy: Sequence[str] = (),
    ) -> None:
        self.keys = None if keys is None else tuple(keys)
        self._wanted = None if self.keys is None else frozenset(self.keys)
        self.pool = pool
        self._options = unpack_options(allow_unsafe)
        self._lazy = frozenset(lazy) or None
        self._ops: list[_Op] | None = None
        #: batches decoded by the template and by msgpack (the fallback)
        self.fast = self.slow = 0

    def decode(self, buffer: Any, starts: np.ndarray, stops: np.ndarray) -> dict:
        """Decode the samples ``buffer[starts[i]:stops[i]]`` into one dict of columns.

        Raises:
            BatchError: a sample lacks a selected field, or a field's kind or shape changes.
            ValueError: a sample is not valid msgpack (from the fallback decoder).
        """
        source = np.frombuffer(buffer, dtype=np.uint8)
        starts = np.asarray(starts, dtype=np.int64)
        stops = np.asarray(stops, dtype=np.int64)
        if len(starts) == 0:
            return {}
        for attempt in range(2):
            ops = self._ops
            if ops is None or attempt:
                first = int(starts[0])
                ops = _template(bytes(source[first : int(stops[0])]))
                if ops is None:
                    break
                self._ops = ops
            try:
                out = _run(ops, source, starts, stops, self._wanted, self.pool, self._lazy)
            except IndexError:  # a sample shorter than the template: not this layout
                out = None
            if out is not None and self._complete(out):
                self.fast += 1
                return out if self.keys is None else {k: out[k] for k in self.keys}
        self.slow += 1
        return self._fallback(source, starts, stops)

    def _complete(self, out: dict) -> bool:
        return self.keys is None or all(k in out for k in self.keys)

    def _fallback(self, source: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> dict:
        data = source.data
        options = self._options
        samples = []
        for a, b in zip(starts.tolist(), stops.tolist()):
            try:
                samples.append(msgpack.unpackb(data[a:b], **options))
            except (ValueError, msgpack.UnpackException) as exc:
                raise ValueError(f"sample at bytes {a}–{b} of the batch cannot be decoded: {exc}") from exc
        for sample in samples:
            if not isinstance(sample, dict):
                raise BatchError(f"a sample of the batch is a {type(sample).__name__}, not a map of fields")
        return collate_columns(samples, self.keys, self.pool)
