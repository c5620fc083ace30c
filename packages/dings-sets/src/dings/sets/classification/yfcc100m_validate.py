"""Find the YFCC100m images worth leaving out, with the rules behind the shipped reject list.

An image is rejected when it cannot be decoded, is smaller than 2,600 bytes, is exactly 9,218 bytes
(Flickr's "photo unavailable" placeholder), or is smaller than 20,000 bytes and blank: in its
grayscale decode (JPEG at the smallest DCT scale) the 95th percentile of the per-column pixel
variance is below 50. Needs Pillow (``pip install "dings-sets[classification]"``).

Command line: ``python -m dings.sets.YFCC100m_validate IMAGE_PACKS -r REJECTFILE`` validates every
image of the packs present and appends ``<zip stem> <index>`` lines for rejects to ``REJECTFILE``
(a reject list :class:`~dings.sets.YFCC100m.YFCC100mReader` accepts).
"""

from __future__ import annotations

import argparse
import io
import os
from collections.abc import Sequence

import numpy as np

from ..extras import require_extra
from .yfcc100m_reader import YFCC100mReader

__all__ = [
    "BLANK_VARIANCE",
    "MIN_BYTES",
    "PLACEHOLDER_BYTES",
    "SMALL_BYTES",
    "is_blank",
    "main",
    "validate_image",
    "validate_packs",
]

MIN_BYTES = 2_600
PLACEHOLDER_BYTES = 9_218
SMALL_BYTES = 20_000
BLANK_VARIANCE = 50.0


def _gray(data: bytes) -> np.ndarray:
    """Decode ``data`` as grayscale, JPEGs at the smallest DCT scale (raises on damaged data)."""
    Image = require_extra("PIL.Image", "classification", "YFCC100m validation")
    with Image.open(io.BytesIO(data)) as image:
        image.draft("L", (max(1, image.width // 8), max(1, image.height // 8)))
        return np.asarray(image.convert("L"), dtype=np.float64)


def is_blank(gray: np.ndarray) -> bool:
    """True when fewer than 5 % of the columns of a grayscale image have a variance of 50 or more."""
    return bool(np.percentile(gray.var(axis=0), 95) < BLANK_VARIANCE)


def validate_image(data: bytes) -> bytes | None:
    """Return ``data`` if the image is worth keeping, else ``None`` (a validator for the reader).

    Args:
        data: the encoded image.
    """
    size = len(data)
    if size < MIN_BYTES or size == PLACEHOLDER_BYTES:
        return None
    try:
        gray = _gray(data)
    except Exception:  # any decoding failure means a damaged image  # noqa: BLE001
        return None
    if gray.size == 0 or (size < SMALL_BYTES and is_blank(gray)):
        return None
    return data


def validate_packs(
    image_packs_dir: str | os.PathLike, reject_file: str | os.PathLike, progress: bool = True
) -> tuple[int, int]:
    """Validate every image of the packs in ``image_packs_dir``; append rejects to ``reject_file``.

    Args:
        image_packs_dir: folder with ``<10 hex>.zip`` image packs (all packs present are read).
        reject_file: text file that gets a ``<zip stem> <index>`` line per rejected image.
        progress: show a progress bar.

    Returns:
        ``(images checked, images rejected)``.
    """
    from dings.tools import progress_bar

    with YFCC100mReader(
        image_packs_dir, validate_image, rejected=None, counts=None, error_file=reject_file, progress=progress
    ) as reader:
        kept = sum(1 for _ in progress_bar(reader, total=len(reader), desc="validating", unit="img", enabled=progress))
        return len(reader), len(reader) - kept


def main(argv: Sequence[str] | None = None) -> tuple[int, int]:
    """Command-line entry point: ``IMAGE_PACKS -r REJECTFILE [-q]``."""
    parser = argparse.ArgumentParser(
        prog="python -m dings.sets.YFCC100m_validate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("image_packs", help="Folder with the YFCC100m ZIP image packs.")
    parser.add_argument("-r", "--rejectfile", required=True, help="Text file that gets '<zip stem> <index>' lines.")
    parser.add_argument("-q", "--quiet", action="store_true", help="Do not show progress.")
    args = parser.parse_args(argv)
    checked, rejected = validate_packs(args.image_packs, args.rejectfile, progress=not args.quiet)
    if not args.quiet:
        print(f"{checked} images checked, {rejected} rejected; rejects appended to {args.rejectfile}")
    return checked, rejected


if __name__ == "__main__":
    main()
