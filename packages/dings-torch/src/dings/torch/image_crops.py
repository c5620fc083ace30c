"""Decode + crop + resize of compressed images in one step, decoding JPEGs at a reduced DCT scale.

libjpeg-turbo can decode a JPEG at 1/2, 1/4 or 1/8 of its size, skipping most of the inverse DCT
work (and the resize then has fewer pixels to average). A random resized crop to 112² or 224²
often needs fewer pixels than the image has: the transforms here pick the smallest of those
scales at which the crop still has at least the output's pixels, decode at that
scale (simplejpeg's ``min_width``/``min_height``, or Pillow's ``draft``), and resize the crop box,
mapped into the reduced image, to the output size. The crop boxes (and so the distribution of
crops) are the same as with a full decode; only which pixels get averaged differs a little.
"""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from io import BytesIO
from typing import Any

import numpy as np
from PIL import Image

try:  # optional accelerator (the "jpeg" extra); it releases the GIL while decoding
    import simplejpeg
except ImportError:  # pragma: no cover - depends on the installation
    simplejpeg = None

__all__ = ["DecodeCenterCrop", "DecodeRandomResizedCrop"]

_JPEG = b"\xff\xd8\xff"


def _size_of(data: Any) -> tuple[int, int, bool]:
    """``(width, height, is_jpeg)`` of compressed image bytes, from the header only."""
    if bytes(data[:3]) == _JPEG and simplejpeg is not None:
        try:
            height, width, _, _ = simplejpeg.decode_jpeg_header(data)
            return width, height, True
        except ValueError:
            pass
    with Image.open(BytesIO(data)) as image:
        return image.size[0], image.size[1], image.format == "JPEG"


def _decode(data: Any, width: int, height: int, need: float, reduce: bool) -> Image.Image:
    """The image decoded at the smallest scale ``>= need`` (of both sides) if ``reduce``, as RGB."""
    # of libjpeg-turbo's scales only 1/2, 1/4 and 1/8 have fast (SIMD) inverse DCTs; others such
    # as 3/8 or 5/8 decode slower than the full image
    factor = 1.0
    while reduce and factor > 0.125 and factor / 2 >= need:
        factor /= 2
    if simplejpeg is not None and bytes(data[:3]) == _JPEG:
        minimum = (math.ceil(width * factor), math.ceil(height * factor))
        try:
            pixels = simplejpeg.decode_jpeg(data, colorspace="RGB", min_width=minimum[0], min_height=minimum[1])
            return Image.frombuffer("RGB", (pixels.shape[1], pixels.shape[0]), pixels, "raw", "RGB", 0, 1)
        except ValueError:
            pass  # Pillow decodes what simplejpeg cannot, or explains why not
    try:
        image: Image.Image = Image.open(BytesIO(data))
        if factor < 1 and image.format == "JPEG":
            image.draft("RGB", (math.ceil(width * factor), math.ceil(height * factor)))
        image = image.convert("RGB")
    except (OSError, SyntaxError, ValueError) as exc:
        raise ValueError(f"cannot decode {len(data)} bytes starting {bytes(data[:8])!r} as an image: {exc}") from exc
    return image


class _DecodeCrop(ABC):
    """Decode, crop a box chosen by :meth:`box`, resize to ``size``, maybe flip; an HWC or CHW uint8 array."""

    def __init__(
        self,
        size: int | tuple[int, int],
        *,
        flip: float = 0.0,
        chw: bool = True,
        reduce: bool = True,
        seed: int | None = None,
    ) -> None:
        height, width = (size, size) if isinstance(size, int) else size
        if height < 1 or width < 1:
            raise ValueError(f"size must be positive, got {size!r}")
        if not 0.0 <= flip <= 1.0:
            raise ValueError(f"flip must be a probability in [0, 1], got {flip!r}")
        self.size = (int(height), int(width))
        self.flip = flip
        self.chw = chw
        self.reduce = reduce
        self.random = random.Random(seed)

    @abstractmethod
    def box(self, width: int, height: int) -> tuple[float, float, float, float]:
        """The crop ``(left, top, right, bottom)`` in the full image's pixels."""

    def __call__(self, data: Any) -> np.ndarray:
        """Return the crop of the image in ``data`` (compressed bytes), ``(3, H, W)`` or ``(H, W, 3)`` uint8.

        Raises:
            ValueError: ``data`` is not an image Pillow or simplejpeg can read.
        """
        try:
            width, height, _ = _size_of(data)
        except (OSError, SyntaxError, ValueError) as exc:
            raise ValueError(
                f"cannot decode {len(data)} bytes starting {bytes(data[:8])!r} as an image: {exc}"
            ) from exc
        left, top, right, bottom = self.box(width, height)
        out_h, out_w = self.size
        need = min(1.0, max(out_w / (right - left), out_h / (bottom - top)))
        image = _decode(data, width, height, need, self.reduce)
        sx, sy = image.size[0] / width, image.size[1] / height
        resized = image.resize(
            (out_w, out_h), Image.Resampling.BILINEAR, box=(left * sx, top * sy, right * sx, bottom * sy)
        )
        pixels = np.asarray(resized)
        if self.flip and self.random.random() < self.flip:
            pixels = pixels[:, ::-1]
        return pixels.transpose(2, 0, 1) if self.chw else pixels


class DecodeRandomResizedCrop(_DecodeCrop):
    """Decode an image, take a random crop of random area and aspect ratio, resize it, flip it.

    The crops are those of torchvision's ``RandomResizedCrop``: an area fraction uniform in
    ``scale``, a log-uniform aspect ratio in ``ratio``, ten tries, else a centre crop. JPEGs are
    decoded at the smallest DCT scale that keeps the crop at least ``size`` (see the module).

    Args:
        size: output side, or ``(height, width)``.
        scale: range of the crop's area as a fraction of the image's.
        ratio: range of the crop's aspect ratio (width / height).
        flip: probability of a horizontal flip.
        chw: return ``(3, H, W)`` (else ``(H, W, 3)``).
        reduce: decode at a reduced scale when possible (``False``: always the full image).
        seed: seed of this transform's random numbers.
    """

    def __init__(
        self,
        size: int | tuple[int, int],
        scale: tuple[float, float] = (0.08, 1.0),
        ratio: tuple[float, float] = (3 / 4, 4 / 3),
        *,
        flip: float = 0.5,
        chw: bool = True,
        reduce: bool = True,
        seed: int | None = None,
    ) -> None:
        super().__init__(size, flip=flip, chw=chw, reduce=reduce, seed=seed)
        if not 0 < scale[0] <= scale[1] or not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f"scale and ratio must be increasing positive ranges, got {scale!r} and {ratio!r}")
        self.scale = scale
        self.log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        self.ratio = ratio

    def box(self, width: int, height: int) -> tuple[int, int, int, int]:
        rng = self.random
        area = width * height
        for _ in range(10):
            target = area * rng.uniform(*self.scale)
            aspect = math.exp(rng.uniform(*self.log_ratio))
            w = round(math.sqrt(target * aspect))
            h = round(math.sqrt(target / aspect))
            if 0 < w <= width and 0 < h <= height:
                left = rng.randint(0, width - w)
                top = rng.randint(0, height - h)
                return left, top, left + w, top + h
        shape = width / height
        if shape < self.ratio[0]:
            w, h = width, round(width / self.ratio[0])
        elif shape > self.ratio[1]:
            w, h = round(height * self.ratio[1]), height
        else:
            w, h = width, height
        left, top = (width - w) // 2, (height - h) // 2
        return left, top, left + w, top + h

    def __repr__(self) -> str:
        return f"DecodeRandomResizedCrop(size={self.size}, scale={self.scale}, ratio={self.ratio}, flip={self.flip})"


class DecodeCenterCrop(_DecodeCrop):
    """Decode an image and resize its centre to ``size``: the evaluation transform.

    The centre square covers ``fraction`` of the shorter side (``0.875`` = resize to 256, crop
    224), so it equals resizing the shorter side to ``size / fraction`` and cropping ``size``.

    Args:
        size: output side, or ``(height, width)``.
        fraction: the crop's side as a fraction of the image's shorter side.
        chw: return ``(3, H, W)`` (else ``(H, W, 3)``).
        reduce: decode at a reduced scale when possible.
    """

    def __init__(
        self, size: int | tuple[int, int], fraction: float = 0.875, *, chw: bool = True, reduce: bool = True
    ) -> None:
        super().__init__(size, chw=chw, reduce=reduce)
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
        self.fraction = fraction

    def box(self, width: int, height: int) -> tuple[int, int, int, int]:
        out_h, out_w = self.size
        side = min(width, height) * self.fraction
        w, h = (side, side * out_h / out_w) if out_w >= out_h else (side * out_w / out_h, side)
        left, top = (width - w) / 2, (height - h) / 2
        return left, top, left + w, top + h  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"DecodeCenterCrop(size={self.size}, fraction={self.fraction})"
