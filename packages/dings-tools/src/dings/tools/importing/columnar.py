"""msgpack encoding of whole columns at once: numpy builds the small parts, Arrow joins the rows.

A packed sample is a msgpack map; for a table each row's map has the same fields in the same
order, so a batch of rows packs column by column. Small per-row pieces (map and str/bin headers,
field names, ints, floats, bools, nils) are written into one buffer with numpy; the large values
(bytes and str columns) stay in Arrow's buffers, and ``binary_join_element_wise`` concatenates the
pieces of every row into one buffer with the rows' offsets. The bytes equal those of
``dings.format.packb`` (msgpack-python, ``use_bin_type=True``, doubles for floats) on the row's
dict; the tests compare the two on every size class of every type.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..extras import require

__all__ = ["RowPacker", "bin_headers", "bools", "floats", "ints", "map_headers", "nils", "str_headers"]

#: an encoding of one value per row: up to ``W`` bytes in an ``(n, W)`` matrix and each row's length
Encoded = tuple[np.ndarray, np.ndarray]


def _tagged(tags: np.ndarray, values: np.ndarray, widths: np.ndarray) -> Encoded:
    """Rows of a tag byte followed by the last ``width`` big-endian bytes of the value (0: none);
    as wide as the widest row needs."""
    count = len(tags)
    widest = int(widths.max()) if count else 0
    out = np.zeros((count, 1 + widest), dtype=np.uint8)
    out[:, 0] = tags
    if widest:
        big = values.astype(">u8" if values.dtype.kind == "u" else ">i8").view(np.uint8).reshape(count, 8)
        for width in (1, 2, 4, 8):
            if width <= widest:
                rows = widths == width
                out[rows, 1 : 1 + width] = big[rows, 8 - width :]
    return out, 1 + widths


def ints(values: np.ndarray) -> Encoded:
    """msgpack ints, each in the smallest form (positive/negative fixint, uint8…64, int8…64).

    Args:
        values: a signed (as int64) or unsigned (as uint64) integer array.
    """
    unsigned = values.dtype.kind == "u"
    v = values.astype(np.uint64 if unsigned else np.int64)
    negative = np.zeros(len(v), dtype=bool) if unsigned else v < 0
    tags = np.where(negative, 0xD3, 0xCF).astype(np.uint8)
    widths = np.full(len(v), 8, dtype=np.int64)
    positive = ~negative
    for limit, tag, width in ((1 << 32, 0xCE, 4), (1 << 16, 0xCD, 2), (1 << 8, 0xCC, 1)):
        rows = positive & (v < limit)
        tags[rows], widths[rows] = tag, width
    if not unsigned:
        for limit, tag, width in ((-(1 << 31), 0xD2, 4), (-(1 << 15), 0xD1, 2), (-(1 << 7), 0xD0, 1)):
            rows = negative & (v >= limit)
            tags[rows], widths[rows] = tag, width
    fix = (positive & (v < 128)) | (negative & (v >= -32))
    tags[fix] = v[fix].astype(np.int64).astype(np.uint8)  # the value is its own tag (two's complement)
    widths[fix] = 0
    return _tagged(tags, v, widths)


def floats(values: np.ndarray) -> Encoded:
    """msgpack float64s (Python floats pack as doubles; float32 values widen exactly)."""
    count = len(values)
    out = np.empty((count, 9), dtype=np.uint8)
    out[:, 0] = 0xCB
    out[:, 1:] = values.astype(">f8").view(np.uint8).reshape(count, 8)
    return out, np.full(count, 9, dtype=np.int64)


def bools(values: np.ndarray) -> Encoded:
    """msgpack true/false."""
    return np.where(values, 0xC3, 0xC2).astype(np.uint8).reshape(-1, 1), np.ones(len(values), dtype=np.int64)


def nils(count: int) -> Encoded:
    """msgpack nils."""
    return np.full((count, 1), 0xC0, dtype=np.uint8), np.ones(count, dtype=np.int64)


def _sized(sizes: np.ndarray, forms: tuple[tuple[int, int, int], ...], fix: tuple[int, int] | None = None) -> Encoded:
    """Headers of the smallest ``(limit, tag, width)`` form that holds each size; with
    ``fix=(limit, base)`` sizes below ``limit`` are the one byte ``base | size``."""
    tags = np.zeros(len(sizes), dtype=np.uint8)
    widths = np.zeros(len(sizes), dtype=np.int64)
    for limit, tag, width in reversed(forms):
        rows = sizes < limit
        tags[rows], widths[rows] = tag, width
    if fix is not None:
        rows = sizes < fix[0]
        tags[rows], widths[rows] = (fix[1] | sizes[rows]).astype(np.uint8), 0
    return _tagged(tags, sizes, widths)


def str_headers(sizes: np.ndarray) -> Encoded:
    """Headers of msgpack strs of ``sizes`` UTF-8 bytes: fixstr, str8, str16, str32."""
    return _sized(sizes, ((1 << 8, 0xD9, 1), (1 << 16, 0xDA, 2), (1 << 32, 0xDB, 4)), fix=(32, 0xA0))


def bin_headers(sizes: np.ndarray) -> Encoded:
    """Headers of msgpack bins of ``sizes`` bytes: bin8, bin16, bin32."""
    return _sized(sizes, ((1 << 8, 0xC4, 1), (1 << 16, 0xC5, 2), (1 << 32, 0xC6, 4)))


def map_headers(counts: np.ndarray) -> Encoded:
    """Headers of msgpack maps of ``counts`` entries: fixmap, map16, map32."""
    return _sized(counts, ((1 << 16, 0xDE, 2), (1 << 32, 0xDF, 4)), fix=(16, 0x80))


class RowPacker:
    """Builds the packed bytes of ``count`` rows from pieces added in row order.

    :meth:`small` adds a piece of up to a few bytes per row (an :data:`Encoded`), :meth:`constant`
    the same bytes in every row, :meth:`values` a bytes-like Arrow array whose values are copied
    as they are. :meth:`join` returns one buffer of all rows and their offsets.
    """

    def __init__(self, count: int, large: bool = False) -> None:
        pa = require("pyarrow", "table")
        self.count = count
        #: large_binary (int64 offsets) when a column is large or the rows may pass 2 GiB
        self._type = pa.large_binary() if large else pa.binary()
        self._offsets = np.int64 if large else np.int32
        self._parts: list[Any] = []  # Arrow arrays, in row order
        self._small: list[Encoded] = []  # pieces of the small part being collected

    def small(self, encoded: Encoded, present: np.ndarray | None = None) -> None:
        """Add a small piece to every row (to the rows where ``present`` is true)."""
        matrix, lengths = encoded
        self._small.append((matrix, lengths if present is None else np.where(present, lengths, 0)))

    def constant(self, data: bytes, present: np.ndarray | None = None) -> None:
        """Add the same bytes to every row (to the rows where ``present`` is true)."""
        matrix = np.broadcast_to(np.frombuffer(data, dtype=np.uint8), (self.count, len(data)))
        self.small((matrix, np.full(self.count, len(data), dtype=np.int64)), present)

    def values(self, array: Any) -> None:
        """Add each row's value of a binary or string Arrow array (without nulls) as it is."""
        pa = require("pyarrow", "table")
        self._close_small()
        if array.type != self._type:
            wide = pa.types.is_large_binary(array.type) or pa.types.is_large_string(array.type)
            same_offsets = wide == (self._offsets is np.int64)
            array = array.view(self._type) if same_offsets else array.cast(self._type)  # a view copies nothing
        self._parts.append(array)

    def _close_small(self) -> None:
        """Turn the small pieces collected so far into one Arrow array of per-row bytes."""
        if not self._small:
            return
        pa = require("pyarrow", "table")
        # the pieces side by side, one row per row, and which of their bytes count: the counted
        # bytes in row-major order are the rows' bytes back to back
        matrix = np.concatenate([m for m, _ in self._small], axis=1)
        mask = np.concatenate([np.arange(m.shape[1]) < lengths[:, None] for m, lengths in self._small], axis=1)
        out = matrix[mask]
        offsets = np.zeros(self.count + 1, dtype=np.int64)
        np.cumsum(mask.sum(axis=1), out=offsets[1:])
        self._small = []
        self._parts.append(
            pa.Array.from_buffers(
                self._type, self.count, [None, pa.py_buffer(offsets.astype(self._offsets)), pa.py_buffer(out)]
            )
        )

    def join(self) -> tuple[Any, np.ndarray]:
        """The packed rows back to back (an Arrow buffer) and their ``count + 1`` offsets in it.

        Raises:
            pyarrow.ArrowInvalid: the rows pass 2 GiB and the packer is not ``large``.
        """
        pa = require("pyarrow", "table")
        pc = require("pyarrow.compute", "table")
        self._close_small()
        if len(self._parts) == 1:
            rows = self._parts[0]
        else:
            rows = pc.binary_join_element_wise(*self._parts, pa.scalar(b"", self._type))
        _, offsets, data = rows.buffers()
        bounds = np.frombuffer(offsets, dtype=self._offsets)[rows.offset : rows.offset + self.count + 1]
        return (data if data is not None else b""), bounds
