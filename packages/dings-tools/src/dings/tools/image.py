"""Image helpers for converters: encode, decode, re-compress JPEG, 16-bit PNG label maps.

Needs the extra ``image`` (Pillow): ``pip install "dings-tools[image]"``. This module itself imports
without Pillow; each function imports it when called and raises an ImportError naming the extra if
it is missing. So ``import dings.tools`` never needs Pillow.
"""

from __future__ import annotations

import io
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .extras import require

if TYPE_CHECKING:
    from PIL import Image as PILImage

__all__ = [
    "decode_image",
    "decode_label_map",
    "encode_image",
    "encode_label_map",
    "image_decode_problem",
    "recompress_jpeg",
    "write_label_map",
]

#: the first bytes of a TIFF file (little and big endian, classic and BigTIFF)
_TIFF_STARTS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_SUBSAMPLING = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2, 0: 0, 1: 1, 2: 2}


def _pil(feature: str) -> Any:
    """Return the ``PIL.Image`` module, or raise an ImportError naming the extra."""
    return require("PIL.Image", "image", feature)


def _subsampling(value: str | int) -> int:
    try:
        return _SUBSAMPLING[value]
    except (KeyError, TypeError):
        raise ValueError(f"subsampling must be '4:4:4', '4:2:2', '4:2:0' (or 0, 1, 2), got {value!r}") from None


def _check_quality(quality: int) -> int:
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise ValueError(f"quality must be an int from 1 to 100, got {quality!r}")
    return quality


def _open(Image: Any, data: bytes, feature: str) -> PILImage.Image:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except OSError as exc:  # UnidentifiedImageError is an OSError, so is a truncated file
        raise ValueError(f"{feature}: cannot decode image data ({len(data)} bytes): {exc}") from exc
    return image


def encode_image(
    image: np.ndarray | PILImage.Image,
    format: str = "JPEG",
    quality: int | None = None,
    subsampling: str | int | None = None,
    **save_kwargs: Any,
) -> bytes:
    """Encode an image (Pillow image or numpy array) to bytes in ``format``.

    Arrays are converted by ``PIL.Image.fromarray``: ``H x W`` uint8 is grayscale, ``H x W x 3``
    RGB, ``H x W x 4`` RGBA, ``H x W`` uint16 a 16-bit image (PNG/TIFF only). A palette image saved
    as JPEG is converted to RGB; other modes the format cannot hold are an error.

    Args:
        image: the image.
        format: a Pillow format name: ``"JPEG"``, ``"PNG"``, ``"WEBP"`` …
        quality: 1-100 for lossy formats (Pillow's default if ``None``).
        subsampling: JPEG chroma subsampling ``"4:4:4"``, ``"4:2:2"`` or ``"4:2:0"``.
        save_kwargs: passed on to ``Image.save`` (e.g. ``optimize=True``, ``compress_level=9``).

    Raises:
        ValueError: the format cannot hold this image, or bad ``quality``/``subsampling``.
    """
    Image = _pil("encode_image")
    picture: PILImage.Image
    if isinstance(image, np.ndarray):
        array = image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image
        try:
            picture = Image.fromarray(np.ascontiguousarray(array))
        except TypeError as exc:
            raise ValueError(
                f"encode_image: cannot make an image of a {array.dtype} array of shape {array.shape}"
            ) from exc
    else:
        picture = image
    if quality is not None:
        save_kwargs["quality"] = _check_quality(quality)
    if subsampling is not None:
        save_kwargs["subsampling"] = _subsampling(subsampling)
    if format.upper() in ("JPEG", "JPG") and picture.mode == "P":
        picture = picture.convert("RGB")
    out = io.BytesIO()
    try:
        picture.save(out, format=format, **save_kwargs)
    except (OSError, KeyError, ValueError) as exc:
        raise ValueError(f"encode_image: cannot write a mode {picture.mode} image as {format}: {exc}") from exc
    return out.getvalue()


def decode_image(data: bytes, mode: str | None = None, as_array: bool = False) -> PILImage.Image | np.ndarray:
    """Decode image bytes (any format Pillow reads), fully, so a broken file fails here.

    Args:
        data: the encoded image.
        mode: convert to this Pillow mode (``"RGB"``, ``"L"`` …) if it differs.
        as_array: return a (writable) numpy array instead of a Pillow image.

    Raises:
        ValueError: the bytes are not a readable image.
    """
    Image = _pil("decode_image")
    image = _open(Image, data, "decode_image")
    if mode is not None and image.mode != mode:
        image = image.convert(mode)
    return np.array(image) if as_array else image


def image_decode_problem(data: bytes | bytearray | memoryview) -> str | None:
    """Why encoded image bytes do not decode fully (a truncated or damaged file), else ``None``.

    Pillow loads the whole image (its first frame), as training would; a JPEG at 1/8 scale (all of
    its compressed data is still decoded, so truncation and damage are found, in about half the
    time). An image with more pixels than Pillow decodes without a ``DecompressionBombError`` is
    not decoded and counts as fine.

    Args:
        data: the encoded image.

    Raises:
        ImportError: Pillow is not installed (the extra ``image``).
    """
    Image = _pil("decoding images to check them")
    try:
        with Image.open(io.BytesIO(data)) as picture:
            if picture.format == "JPEG":
                picture.draft(picture.mode, (1, 1))  # the DCT scaled down: the smallest size
            picture.load()
    except Image.DecompressionBombError:
        return None
    except Image.UnidentifiedImageError:
        if bytes(data[:4]) in _TIFF_STARTS:  # Pillow reads only some TIFFs (tifffile reads the rest)
            return None
        return "Pillow cannot identify the image; the file is damaged"
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError … for damaged files
        text = str(exc).strip()
        if text.endswith("not available"):  # a codec this Pillow was built without: cannot tell
            return None
        return text or type(exc).__name__
    return None


@lru_cache(maxsize=64)
def _reference_tables(quality: int, subsampling: int, mode: str) -> tuple[tuple[int, ...], ...]:
    """Quantization tables Pillow writes for these settings (compared to decide a re-encode)."""
    Image = _pil("recompress_jpeg")
    out = io.BytesIO()
    Image.new(mode, (16, 16)).save(out, "JPEG", quality=quality, subsampling=subsampling)
    return _tables(Image.open(out))


def _tables(image: PILImage.Image) -> tuple[tuple[int, ...], ...]:
    quantization = getattr(image, "quantization", None) or {}
    return tuple(tuple(int(v) for v in quantization[k]) for k in sorted(quantization))


def _target_size(size: tuple[int, int], max_size: int | tuple[int, int] | None) -> tuple[int, int]:
    if max_size is None:
        return size
    if isinstance(max_size, (int, np.integer)) and not isinstance(max_size, bool):
        bound_w = bound_h = int(max_size)
    elif isinstance(max_size, tuple) and len(max_size) == 2:
        bound_w, bound_h = (int(v) for v in max_size)
    else:
        raise ValueError(f"max_size must be an int (longest side) or (width, height), got {max_size!r}")
    if bound_w < 1 or bound_h < 1:
        raise ValueError(f"max_size must be positive, got {max_size!r}")
    width, height = size
    scale = min(1.0, bound_w / width, bound_h / height)
    if scale >= 1.0:
        return size
    return max(1, round(width * scale)), max(1, round(height * scale))


def recompress_jpeg(
    data: bytes,
    quality: int = 90,
    subsampling: str | int = "4:2:0",
    max_size: int | tuple[int, int] | None = None,
    force: bool = False,
) -> bytes:
    """Re-encode an image as JPEG with the given quality and chroma subsampling, shrunk to fit.

    The aspect ratio is kept; images are only ever made smaller. When the input already is a JPEG
    that fits ``max_size`` and was written with the same quantization tables and subsampling that
    these settings produce, it is returned unchanged (no generation loss, no work) unless ``force``.
    Any other image format Pillow reads is converted: grayscale stays grayscale, everything else
    becomes RGB (an alpha channel is dropped). Metadata (EXIF, ICC) is not copied and pixels are not
    rotated by EXIF orientation.

    Args:
        data: the encoded image.
        quality: JPEG quality 1-100.
        subsampling: ``"4:4:4"``, ``"4:2:2"`` or ``"4:2:0"`` (or Pillow's 0, 1, 2).
        max_size: the longest side in pixels, or a ``(width, height)`` box; ``None`` keeps the size.
        force: always re-encode.

    Returns:
        JPEG bytes.

    Raises:
        ValueError: the data is not a readable image, or bad settings.
    """
    Image = _pil("recompress_jpeg")
    quality = _check_quality(quality)
    sampling = _subsampling(subsampling)
    try:
        image = Image.open(io.BytesIO(data))
    except OSError as exc:
        raise ValueError(f"recompress_jpeg: cannot decode image data ({len(data)} bytes): {exc}") from exc
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        raise ValueError(
            f"recompress_jpeg: a mode {image.mode} (16/32-bit) image does not fit a JPEG's 8 bits; "
            "scale it to uint8 first, or keep it as PNG"
        )
    target_mode = "L" if image.mode in ("L", "LA", "1") else "RGB"
    size = _target_size(image.size, max_size)
    if not force and size == image.size and image.format == "JPEG" and image.mode == target_mode:
        same_sampling = target_mode == "L" or _jpeg_sampling(image) == sampling
        if same_sampling and _tables(image) == _reference_tables(quality, sampling, target_mode):
            return data
    if size != image.size and image.format == "JPEG":
        image.draft(target_mode, size)  # let the decoder scale down by 1/2, 1/4, 1/8 first
    try:
        image.load()
    except OSError as exc:
        raise ValueError(f"recompress_jpeg: cannot decode image data ({len(data)} bytes): {exc}") from exc
    if image.mode != target_mode:
        image = image.convert(target_mode)
    if size != image.size:
        image = image.resize(size, getattr(Image, "Resampling", Image).LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, subsampling=sampling)
    return out.getvalue()


def _jpeg_sampling(image: PILImage.Image) -> int:
    from PIL import JpegImagePlugin  # Pillow is present: the caller opened a JPEG with it

    return JpegImagePlugin.get_sampling(image)


def encode_label_map(array: np.ndarray, compress_level: int = 6) -> bytes:
    """Encode a 2-D integer label map as a lossless grayscale PNG.

    ``uint8`` is written as an 8-bit PNG, ``uint16`` as a 16-bit PNG. Other integer (and bool)
    arrays are stored in 8 bits when every value fits, else 16 bits. Decoding with
    :func:`decode_label_map` gives back exactly the same values.

    Args:
        array: ``H x W`` label ids.
        compress_level: zlib level 0-9 (9 = smallest, slowest).

    Raises:
        ValueError: not 2-D, not integer, or values outside 0-65535.
    """
    Image = _pil("encode_label_map")
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(f"encode_label_map: need a 2-D (H x W) array, got shape {array.shape}")
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"encode_label_map: need integer labels, got dtype {array.dtype}")
    if array.dtype.kind == "u" and array.dtype.itemsize in (1, 2):
        # keep the bit depth; big-endian uint16 becomes native ("I;16" in Pillow)
        array = np.ascontiguousarray(array, dtype=np.uint8 if array.dtype.itemsize == 1 else np.uint16)
    else:
        low = int(array.min()) if array.size else 0
        high = int(array.max()) if array.size else 0
        if low < 0 or high > 65535:
            raise ValueError(f"encode_label_map: labels must be within 0-65535 for a PNG, got {low} to {high}")
        array = np.ascontiguousarray(array, dtype=np.uint8 if high <= 255 else np.uint16)
    out = io.BytesIO()
    Image.fromarray(array).save(out, "PNG", compress_level=compress_level)
    return out.getvalue()


def decode_label_map(data: bytes) -> np.ndarray:
    """Decode a single-channel PNG label map to ``uint8`` (8-bit, palette) or ``uint16`` (16-bit).

    A palette PNG (as in Pascal VOC) gives its palette indices.

    Args:
        data: PNG bytes (or any single-channel image Pillow reads).

    Raises:
        ValueError: not a readable image, or it has colour channels.
    """
    Image = _pil("decode_label_map")
    image = _open(Image, data, "decode_label_map")
    if image.mode in ("L", "P"):
        return np.array(image, dtype=np.uint8)
    if image.mode == "1":
        return np.array(image, dtype=np.uint8)
    if image.mode.startswith("I"):
        array = np.array(image)
        if array.size and (array.min() < 0 or array.max() > 65535):
            raise ValueError(f"decode_label_map: labels outside 0-65535 in a mode {image.mode} image")
        return array.astype(np.uint16)
    raise ValueError(f"decode_label_map: expected a single-channel label map, got a mode {image.mode} image")


def write_label_map(path: str | os.PathLike, array: np.ndarray, compress_level: int = 6) -> Path:
    """Write ``array`` as a PNG label map (see :func:`encode_label_map`), atomically.

    The PNG is written to ``path + ".part"`` and renamed into place when complete.

    Args:
        path: the PNG file to write.
        array: ``H x W`` label ids.
        compress_level: zlib level 0-9.

    Returns:
        ``path`` as a Path.
    """
    _pil("write_label_map")  # name this function if Pillow is missing
    data = encode_label_map(array, compress_level)
    path = Path(path)
    part = path.with_name(path.name + ".part")
    try:
        with open(part, "wb") as f:
            f.write(data)
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return path
