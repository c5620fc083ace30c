"""What ILSVRC2012 and ImageNet21k share: check every image and re-encode it when needed.

Every image is decoded once (so a broken file is found while converting) and is stored

- unchanged, when it is a readable JPEG that needs no change;
- re-encoded as JPEG, when it is CMYK, when it is not a readable JPEG but Pillow reads it (a PNG
  named ``.JPEG``, a damaged JPEG), or when ``--compress`` is given and it is larger than half the
  target size;
- gunzipped first, when the bytes are a gzip stream (seen in ImageNet21k), then checked as above.

The target box is 500x375 (landscape), 375x500 (portrait) or 500x500 (square); the *target size*
``TARGET_SIZE`` is 3 * 375 * 500 values. JPEGs are decoded with DCT down-scaling to the smallest
scale (1/1, 1/2, 1/4 or 1/8) that still covers the box; a re-encoded image with more than
1.5 * ``TARGET_SIZE`` values is first resized (Lanczos) to a longer side of exactly 500.
"""

from __future__ import annotations

import argparse
import io
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from dings.tools import decode_image, encode_image

from ..catalog import Option
from ..extras import require_extra

__all__ = [
    "COMPRESS_OPTIONS",
    "DEFAULT_COMPRESS_QUALITY",
    "FALLBACK_QUALITY",
    "SUBSAMPLINGS",
    "TARGET_SIZE",
    "UndecodableImageError",
    "check_image",
    "check_item",
    "compress_quality",
    "open_tar",
    "tar_files",
]

TARGET_LONG = 500
TARGET_SHORT = 375
#: values (3 channels) of a 500x375 image
TARGET_SIZE = 3 * TARGET_SHORT * TARGET_LONG
#: quality of ``--compress`` given without a value
DEFAULT_COMPRESS_QUALITY = 85
#: quality used when an image must be re-encoded (CMYK, not a JPEG) and ``--compress`` is absent
FALLBACK_QUALITY = 98
#: ``--subsampling`` choices → Pillow's names (``Gray`` writes a grayscale JPEG)
SUBSAMPLINGS = {"444": "4:4:4", "422": "4:2:2", "420": "4:2:0", "Gray": "Gray"}
#: largest gunzipped image accepted (a bound against gzip bombs in untrusted archives)
MAX_GUNZIPPED = 1 << 28
_GZIP_MAGIC = b"\x1f\x8b"


class UndecodableImageError(ValueError):
    """Neither the JPEG decoder nor Pillow can read the image (not even after gunzipping it)."""


def compress_quality(text: str) -> int:
    """Parse a ``--compress`` quality: a whole number from 0 to 100."""
    try:
        quality = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a JPEG quality from 0 to 100, got {text!r}") from None
    if not 0 <= quality <= 100:
        raise argparse.ArgumentTypeError(f"expected a JPEG quality from 0 to 100, got {quality}")
    return quality


compress_quality.__name__ = "quality"  # argparse names the type in its messages

#: the options both ImageNet converters add to the common ones
COMPRESS_OPTIONS = (
    Option(
        ("--compress",),
        "Re-encode every image larger than half of 500x375 as JPEG of this quality (0-100; the flag alone "
        f"means {DEFAULT_COMPRESS_QUALITY}), shrinking those larger than 1.5 times 500x375 to a longer side of "
        "500. Without it, readable RGB/grayscale JPEGs are kept byte for byte.",
        {
            "nargs": "?",
            "type": compress_quality,
            "const": DEFAULT_COMPRESS_QUALITY,
            "default": None,
            "metavar": "QUALITY",
        },
    ),
    Option(
        ("--subsampling",),
        "Chroma subsampling of re-encoded images (Gray = grayscale JPEG); images up to half of 500x375, and "
        "CMYK images when --compress is absent, always use 444. (default: %(default)s)",
        {"choices": tuple(SUBSAMPLINGS), "default": "422"},
    ),
)


def _box(size: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    if width > height:
        return TARGET_LONG, TARGET_SHORT
    if width < height:
        return TARGET_SHORT, TARGET_LONG
    return TARGET_LONG, TARGET_LONG


def _decode_jpeg(Image: Any, data: bytes) -> tuple[np.ndarray, bool] | None:
    """Decode a JPEG at the smallest DCT scale covering the target box: (RGB array, was CMYK)."""
    try:
        image = Image.open(io.BytesIO(data))
        if image.format not in ("JPEG", "MPO"):
            return None
        cmyk = image.mode == "CMYK"
        image.draft(image.mode, _box(image.size))
        image.load()
        return np.asarray(image.convert("RGB")), cmyk
    except Exception:  # any failure of the JPEG path sends the image to the Pillow fallback
        return None


def _decode_other(data: bytes) -> np.ndarray | None:
    """Decode anything Pillow reads, as RGB."""
    try:
        return np.asarray(decode_image(data, mode="RGB"))
    except Exception:  # untrusted bytes: a plugin may fail with any error
        return None


def _gunzip(data: bytes) -> bytes | None:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        content = inflater.decompress(data, MAX_GUNZIPPED)
    except zlib.error:
        return None
    if inflater.unconsumed_tail:
        return None
    return content


def _encode(Image: Any, array: np.ndarray, quality: int, subsampling: str) -> bytes:
    height, width = array.shape[:2]
    image = Image.fromarray(np.ascontiguousarray(array), "RGB")
    if array.size > 1.5 * TARGET_SIZE:
        scale = TARGET_LONG / max(width, height)
        size = (
            (TARGET_LONG, max(1, round(height * scale)))
            if width >= height
            else (max(1, round(width * scale)), TARGET_LONG)
        )
        image = image.resize(size, getattr(Image, "Resampling", Image).LANCZOS)
    quality = max(1, quality)  # libjpeg treats quality 0 as 1
    if subsampling == "Gray":
        return encode_image(image.convert("L"), "JPEG", quality=quality)
    return encode_image(image, "JPEG", quality=quality, subsampling=SUBSAMPLINGS[subsampling])


def check_image(
    data: bytes,
    compress: int | None = None,
    subsampling: str = "422",
    dataset: str = "ImageNet",
    _depth: int = 0,
) -> bytes:
    """Return the bytes to store for an image: the original, or a re-encoded JPEG (see the module docstring).

    Args:
        data: the image file's bytes.
        compress: ``--compress`` quality 0-100, or ``None`` to keep readable JPEGs unchanged.
        subsampling: ``--subsampling``: one of :data:`SUBSAMPLINGS`.
        dataset: the dataset, for the message when Pillow is missing.

    Raises:
        UndecodableImageError: the bytes are no image Pillow can read, not even gunzipped.
        ValueError: bad ``compress`` or ``subsampling``.
    """
    if subsampling not in SUBSAMPLINGS:
        raise ValueError(f"subsampling must be one of {', '.join(SUBSAMPLINGS)}, got {subsampling!r}")
    if compress is not None and not 0 <= compress <= 100:
        raise ValueError(f"compress must be a JPEG quality from 0 to 100 or None, got {compress!r}")
    Image = require_extra("PIL.Image", "classification", dataset)
    decoded = _decode_jpeg(Image, data)
    fallback = decoded is None
    if decoded is None:
        array = _decode_other(data)
        if array is None:
            if data[:2] == _GZIP_MAGIC and _depth < 2:
                content = _gunzip(data)
                if content is not None:
                    return check_image(content, compress, subsampling, dataset, _depth + 1)
            raise UndecodableImageError(f"not a readable image ({len(data)} bytes, starting {data[:4].hex()})")
        cmyk = False
    else:
        array, cmyk = decoded
    large = array.size > TARGET_SIZE / 2
    if not (cmyk or fallback or (compress is not None and large)):
        return data
    quality = FALLBACK_QUALITY if compress is None else compress
    if (cmyk and compress is None) or not large:
        subsampling = "444"
    return _encode(Image, array, quality, subsampling)


def check_item(
    item: tuple[Any, bytes], compress: int | None = None, subsampling: str = "422", dataset: str = "ImageNet"
) -> tuple[Any, bytes | None]:
    """:func:`check_image` for ``parallel_map``: ``(meta, data)`` → ``(meta, bytes or None if undecodable)``.

    Args:
        item: anything describing the image (passed through) and the image's bytes.
        compress: see :func:`check_image`.
        subsampling: see :func:`check_image`.
        dataset: see :func:`check_image`.
    """
    meta, data = item
    try:
        return meta, check_image(data, compress, subsampling, dataset)
    except UndecodableImageError:
        return meta, None


def tar_files(tar: tarfile.TarFile, where: str) -> Iterator[tuple[tarfile.TarInfo, IO[bytes]]]:
    """Yield the regular files of a streamed tar with their content; bad tars raise a clear ValueError."""
    try:
        for member in tar:
            if member.isfile():
                handle = tar.extractfile(member)
                if handle is not None:
                    yield member, handle
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ValueError(f"{where}: not a readable tar ({exc}); the archive is damaged, download it again") from exc


def open_tar(fileobj: IO[bytes] | None, path: Path | None, where: str) -> tarfile.TarFile:
    """Open a tar (plain or compressed) as a stream, from ``path`` or ``fileobj``; ``where`` names it in errors.

    Raises:
        ValueError: it is not a readable tar.
    """
    try:
        return tarfile.open(name=path, fileobj=fileobj, mode="r|*")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ValueError(f"{where}: not a readable tar ({exc}); the archive is damaged, download it again") from exc
