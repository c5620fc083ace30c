"""Read TIFF (GeoTIFF) rasters band first, as datadings' ``tiff_to_nd_array`` (extra ``tiff``: tifffile)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .extras import require

__all__ = ["tiff_to_nd_array"]


def tiff_to_nd_array(file_path: str | os.PathLike, type: Any = np.uint8) -> np.ndarray:  # noqa: A002 (datadings' name)
    """Return the first image of a TIFF file as a band-first array, ``(bands, H, W)``.

    A single-band image gives ``(1, H, W)``; bands stored per pixel (``H x W x bands``) or as
    planes are both returned band first. datadings reads the file with GDAL; this uses tifffile
    (``pip install "dings-tools[tiff]"``), which reads the same pixels for the uncompressed and
    deflate/LZW-compressed rasters datasets ship.

    Args:
        file_path: the TIFF file.
        type: dtype of the result (cast without checks, as in datadings); ``None`` keeps the file's.

    Raises:
        dings.tools.MissingExtraError: tifffile is not installed.
        FileNotFoundError: ``file_path`` does not exist.
        ValueError: not a readable TIFF, or not a single 2-D raster with optional bands.
    """
    tifffile = require("tifffile", "tiff", "tiff_to_nd_array")
    path = Path(file_path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: TIFF file not found")
    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            axes = page.axes
            array = page.asarray()
    except Exception as exc:  # untrusted input: tifffile raises TiffFileError, ValueError, struct.error …
        hint = "; pip install imagecodecs to decode this compression" if "imagecodecs" in str(exc) else ""
        raise ValueError(f"{path}: not a readable TIFF ({exc.__class__.__name__}: {exc}){hint}") from exc
    if axes == "YX":
        array = array[np.newaxis]
    elif axes == "YXS":
        array = np.moveaxis(array, -1, 0)
    elif axes != "SYX":
        raise ValueError(
            f"{path}: expected a 2-D raster with optional bands, got TIFF axes {axes!r} of shape {array.shape}"
        )
    return array if type is None else array.astype(type)
