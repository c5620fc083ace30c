"""Readable, abbreviated renderings of samples (``cat``) and image sniffing by magic numbers.

Strings and bytes longer than ``maxstring`` are cut and their length is shown; bytes that hold an
image are shown as format and size, read from the file header only (no decoding, no Pillow);
numpy arrays as dtype, shape, min and max; nested maps and lists are indented, YAML style::

    key: 'cat/1.jpg'
    label: 3
    image: <JPEG image 640x480, 51234 bytes>
    boxes:
      - [10, 20, 30, 40]
      - [15, 25, 35, 45]
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal, NamedTuple

import numpy as np

from dings.readers import Reader

from ._dataset import open_reader

__all__ = ["ImageInfo", "cat", "jsonable", "render_sample", "render_value", "sniff_image"]

#: byte order of a TIFF file
_Order = Literal["little", "big"]

#: lists with more items show only this many (and how many there are)
MAX_ITEMS = 20
#: maps and lists shown nested in one another at most; deeper ones are summarised (``[…]``), so a
#: sample nested as deep as msgpack allows is shown without exhausting Python's recursion limit
MAX_SHOWN_DEPTH = 32
_BYTES_LIKE = (bytes, bytearray, memoryview)
# JPEG start-of-frame markers (they hold the size); C4, C8 and CC are other segments
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_BMP_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})


class ImageInfo(NamedTuple):
    """Format and size of an image, read from its header.

    Attributes:
        format: ``"JPEG"``, ``"PNG"``, ``"GIF"``, ``"BMP"``, ``"TIFF"`` or ``"WebP"``.
        width: width in pixels, or ``None`` when the header is cut short or unusual.
        height: height in pixels, or ``None`` likewise.
    """

    format: str
    width: int | None
    height: int | None


def _u16(d: bytes, pos: int, order: _Order) -> int | None:
    return int.from_bytes(d[pos : pos + 2], order) if pos + 2 <= len(d) else None


def _u32(d: bytes, pos: int, order: _Order) -> int | None:
    return int.from_bytes(d[pos : pos + 4], order) if pos + 4 <= len(d) else None


def _png(d: bytes) -> tuple[int | None, int | None]:
    if d[12:16] != b"IHDR":
        return None, None
    return _u32(d, 16, "big"), _u32(d, 20, "big")


def _gif(d: bytes) -> tuple[int | None, int | None]:
    return _u16(d, 6, "little"), _u16(d, 8, "little")


def _bmp(d: bytes) -> tuple[int | None, int | None]:
    header = _u32(d, 14, "little")
    if header == 12:
        return _u16(d, 18, "little"), _u16(d, 20, "little")
    if len(d) < 26:
        return None, None
    width = int.from_bytes(d[18:22], "little", signed=True)
    height = int.from_bytes(d[22:26], "little", signed=True)
    return abs(width), abs(height)  # a negative height means rows are stored top-down


def _jpeg(view: memoryview) -> tuple[int | None, int | None]:
    size = len(view)
    pos = 2
    while pos + 4 <= size:  # pos grows every step, so this ends
        if view[pos] != 0xFF:
            return None, None  # not at a marker: damaged or unusual file
        marker = view[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image / start of scan: no frame header before it
            return None, None
        length = (view[pos + 2] << 8) | view[pos + 3]
        if marker in _JPEG_SOF:
            if pos + 9 > size:
                return None, None
            height = (view[pos + 5] << 8) | view[pos + 6]
            width = (view[pos + 7] << 8) | view[pos + 8]
            return width, height
        if length < 2:
            return None, None
        pos += 2 + length
    return None, None


def _tiff(view: memoryview) -> tuple[int | None, int | None]:
    order: _Order = "little" if view[:2] == b"II" else "big"
    head = bytes(view[:16])
    version = _u16(head, 2, order)
    if version == 42:  # classic TIFF: 12-byte entries, 4-byte values
        ifd, count_size, entry_size, value_at = _u32(head, 4, order), 2, 12, 8
    elif version == 43:  # BigTIFF: 20-byte entries, 8-byte values
        ifd = int.from_bytes(head[8:16], order) if len(head) >= 16 else None
        count_size, entry_size, value_at = 8, 20, 12
    else:
        return None, None
    size = len(view)
    if ifd is None or ifd + count_size > size:
        return None, None
    count = int.from_bytes(view[ifd : ifd + count_size], order)
    first = ifd + count_size
    count = min(count, (size - first) // entry_size)
    found: dict[int, int] = {}
    for n in range(count):
        entry = bytes(view[first + n * entry_size : first + (n + 1) * entry_size])
        tag, kind = _u16(entry, 0, order), _u16(entry, 2, order)
        if tag in (256, 257):  # ImageWidth, ImageLength
            width = {3: 2, 4: 4, 16: 8}.get(kind) if kind is not None else None  # SHORT, LONG, LONG8
            if width is not None:
                found[tag] = int.from_bytes(entry[value_at : value_at + width], order)
        if len(found) == 2:
            break
    return found.get(256), found.get(257)


def _webp(d: bytes) -> tuple[int | None, int | None]:
    chunk = d[12:16]
    if chunk == b"VP8 " and d[23:26] == b"\x9d\x01\x2a" and len(d) >= 30:
        return _u16(d, 26, "little") & 0x3FFF, _u16(d, 28, "little") & 0x3FFF  # type: ignore[operator]
    if chunk == b"VP8L" and len(d) >= 25 and d[20] == 0x2F:
        bits = int.from_bytes(d[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(d) >= 30:
        return int.from_bytes(d[24:27], "little") + 1, int.from_bytes(d[27:30], "little") + 1
    return None, None


def sniff_image(data: bytes | bytearray | memoryview) -> ImageInfo | None:
    """Recognise an encoded image by its magic number and read its size from the header.

    Only the first bytes are looked at (for JPEG: the segment headers up to the frame header),
    so this is cheap for large images and safe for untrusted data.

    Args:
        data: the encoded file content.

    Returns:
        An :class:`ImageInfo`, or ``None`` when ``data`` is not a JPEG, PNG, GIF, BMP, TIFF or
        WebP image.
    """
    view = memoryview(data).cast("B") if isinstance(data, memoryview) else memoryview(data)
    head = bytes(view[:32])
    if head.startswith(b"\xff\xd8\xff"):
        return ImageInfo("JPEG", *_jpeg(view))
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageInfo("PNG", *_png(head))
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return ImageInfo("GIF", *_gif(head))
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return ImageInfo("TIFF", *_tiff(view))
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ImageInfo("WebP", *_webp(head))
    if head[:2] == b"BM" and head[6:10] == b"\x00\x00\x00\x00" and _u32(head, 14, "little") in _BMP_HEADER_SIZES:
        return ImageInfo("BMP", *_bmp(head))
    return None


# --- rendering single values ---


def _cut_str(text: str, maxstring: int) -> str:
    if len(text) <= maxstring:
        return repr(text)
    return f"{text[:maxstring]!r}… ({len(text)} chars)"


def _render_bytes(data: bytes | bytearray | memoryview, maxstring: int) -> str:
    size = memoryview(data).nbytes
    image = sniff_image(data)
    if image is not None:
        dims = f" {image.width}x{image.height}" if image.width is not None and image.height is not None else ""
        return f"<{image.format} image{dims}, {size} bytes>"
    if size <= maxstring:
        return repr(bytes(data))
    return f"{bytes(memoryview(data).cast('B')[:maxstring])!r}… ({size} bytes)"


def _render_array(array: np.ndarray) -> str:
    text = f"<ndarray {array.dtype} {tuple(array.shape)}"
    if array.size and array.dtype.kind in "biuf":
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN arrays
            if array.dtype.kind == "f":
                low, high = np.nanmin(array), np.nanmax(array)
            else:
                low, high = array.min(), array.max()
        text += f" min={low.item()!r} max={high.item()!r}"
    return text + ">"


def _is_container(value: Any) -> bool:
    return isinstance(value, (Mapping, list, tuple))


def render_value(value: Any, maxstring: int = 100) -> str:
    """Render one value that is not a map or list on one line.

    Args:
        value: str, bytes, number, numpy array or scalar, or anything else (shown with ``repr``).
        maxstring: longest str/bytes shown in full; longer ones are cut and their length shown.
    """
    if isinstance(value, str):
        return _cut_str(value, maxstring)
    if isinstance(value, _BYTES_LIKE):
        return _render_bytes(value, maxstring)
    if isinstance(value, np.ndarray):
        return _render_array(value)
    if isinstance(value, np.generic):
        return f"{value.item()!r} ({value.dtype})"
    text = repr(value)
    return text if len(text) <= maxstring else f"{text[:maxstring]}… ({type(value).__name__})"


def _too_deep(value: Any) -> str:
    """The summary of a map or list nested deeper than :data:`MAX_SHOWN_DEPTH`."""
    shape = "{…}" if isinstance(value, Mapping) else "[…]" if isinstance(value, list) else "(…)"
    return f"{shape} (nested deeper than {MAX_SHOWN_DEPTH} levels)"


def _render_lines(value: Any, maxstring: int, max_items: int, depth: int = 0) -> list[str]:
    """Render any value as lines; the first line may follow a ``name:`` or ``- `` prefix."""
    if depth >= MAX_SHOWN_DEPTH and _is_container(value) and value:
        return [_too_deep(value)]
    if isinstance(value, Mapping):
        if not value:
            return ["{}"]
        lines = []
        for name, item in value.items():
            label = name if isinstance(name, str) and len(name) <= maxstring else render_value(name, maxstring)
            sub = _render_lines(item, maxstring, max_items, depth + 1)
            if len(sub) == 1 and not (isinstance(item, Mapping) and item):
                lines.append(f"{label}: {sub[0]}")
            else:
                lines.append(f"{label}:")
                lines.extend("  " + line for line in sub)
        return lines
    if isinstance(value, (list, tuple)):
        if not value:
            return ["[]" if isinstance(value, list) else "()"]
        shown = value[:max_items]
        more = len(value) - len(shown)
        if not any(_is_container(item) for item in shown):
            inline = ", ".join(render_value(item, maxstring) for item in shown)
            if more:
                inline += f", … ({len(value)} items)"
            if len(inline) <= max(maxstring, 80):
                return [f"[{inline}]" if isinstance(value, list) else f"({inline})"]
        lines = []
        for item in shown:
            sub = _render_lines(item, maxstring, max_items, depth + 1)
            lines.append("- " + sub[0])
            lines.extend("  " + line for line in sub[1:])
        if more:
            lines.append(f"… ({more} more, {len(value)} items)")
        return lines
    return [render_value(value, maxstring)]


def jsonable(value: Any, maxstring: int = 100, max_items: int = MAX_ITEMS) -> Any:
    """The abbreviated value as plain JSON types, for ``cat --json``.

    Maps become objects (keys as strings), lists and tuples arrays of at most ``max_items`` items
    (then a string saying how many there are), numbers and ``None`` stay, numpy scalars become
    numbers, small numeric arrays nested lists; strings longer than ``maxstring`` are cut, and bytes,
    images and big arrays become the one-line summary :func:`render_value` shows. Maps and lists
    nested deeper than :data:`MAX_SHOWN_DEPTH` become a string that says so.
    """
    return _jsonable(value, maxstring, max_items, 0)


def _jsonable(value: Any, maxstring: int, max_items: int, depth: int) -> Any:
    if depth >= MAX_SHOWN_DEPTH and _is_container(value) and value:
        return _too_deep(value)
    if isinstance(value, Mapping):
        return {
            k if isinstance(k, str) else render_value(k, maxstring): _jsonable(v, maxstring, max_items, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        items = [_jsonable(item, maxstring, max_items, depth + 1) for item in value[:max_items]]
        if len(value) > max_items:
            items.append(f"… ({len(value)} items)")
        return items
    if isinstance(value, str):
        return value if len(value) <= maxstring else f"{value[:maxstring]}… ({len(value)} chars)"
    if value is None or isinstance(value, (bool, int, float)):
        return value if not isinstance(value, float) or np.isfinite(value) else repr(value)
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return _jsonable(value.item(), maxstring, max_items, depth)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.size <= max_items:
        return _jsonable(value.tolist(), maxstring, max_items, depth)
    return render_value(value, maxstring)


def render_sample(sample: Any, maxstring: int = 100, max_items: int = MAX_ITEMS) -> str:
    """Render a sample (or any value) as indented, abbreviated text.

    Args:
        sample: usually a sample dict.
        maxstring: longest str/bytes shown in full; longer ones are cut and their length shown.
        max_items: most list items shown; the rest are counted.

    Raises:
        ValueError: ``maxstring`` or ``max_items`` is negative.
    """
    if maxstring < 0 or max_items < 0:
        raise ValueError(f"maxstring and max_items must not be negative, got {maxstring} and {max_items}")
    return "\n".join(_render_lines(sample, maxstring, max_items))


def cat(
    path: str | os.PathLike | Reader,
    maxstring: int = 100,
    *,
    max_items: int = MAX_ITEMS,
    start: int = 0,
    stop: int | None = None,
    fields: Sequence[str] | None = None,
    as_json: bool = False,
) -> Iterator[str]:
    """Yield a readable, abbreviated rendering of each sample of a dataset (see :func:`render_sample`).

    Nothing is printed; print the strings separated by blank lines. There is no progress bar,
    since the output itself shows how far it got.

    Args:
        path: a dataset (``NAME.msgpack`` or any of its index files) or an open reader.
        maxstring: longest str/bytes shown in full; longer ones are cut and their length shown.
        max_items: most list items shown; the rest are counted.
        start: first sample (negative counts from the end).
        stop: end sample, exclusive; ``None`` for the end.
        fields: show only these sample keys, in this order; ``None`` shows every key. Each must be
            in the first sample shown (a later sample that lacks one is shown without it).
        as_json: yield one line of JSON per sample (see :func:`jsonable`) instead of text.

    Raises:
        FileNotFoundError: the dataset or its index is missing.
        ValueError: ``maxstring`` or ``max_items`` is negative, or a field is not in the first
            sample shown (raised when iteration starts; the message lists the fields there are).
    """
    if maxstring < 0 or max_items < 0:
        raise ValueError(f"maxstring and max_items must not be negative, got {maxstring} and {max_items}")
    if isinstance(fields, str):
        raise TypeError(f"fields must be a list of sample keys, not the string {fields!r}")
    reader, owned = open_reader(path)
    where = "" if isinstance(path, Reader) else f"{path}: "
    return _cat(reader, owned, maxstring, max_items, start, stop, fields, as_json, where)


def _check_fields(fields: Sequence[str], sample: Mapping, where: str) -> None:
    """Raise ValueError naming the fields of ``sample`` if it lacks one of ``fields``."""
    import difflib

    missing = [name for name in fields if name not in sample]
    if not missing:
        return
    available = [str(name) for name in sample]
    close = difflib.get_close_matches(missing[0], available, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"{where}the first sample shown ({sample.get('key')!r}) has no field {', '.join(map(repr, missing))}; "
        f"available fields: {', '.join(available)}{hint}"
    )


def _cat(
    reader: Reader,
    owned: bool,
    maxstring: int,
    max_items: int,
    start: int,
    stop: int | None,
    fields: Sequence[str] | None,
    as_json: bool,
    where: str,
) -> Iterator[str]:
    import json

    try:
        for number, sample in enumerate(reader.iter(start=start, stop=stop)):
            if fields is not None:
                if number == 0:
                    _check_fields(fields, sample, where)
                sample = {name: sample[name] for name in fields if name in sample}
            if as_json:
                yield json.dumps(jsonable(sample, maxstring, max_items), ensure_ascii=False)
            else:
                yield render_sample(sample, maxstring, max_items)
    finally:
        if owned:
            reader.close()
