"""Convert CAT2000 (``trainSet.zip``, ``testSet.zip``) to ``train.msgpack`` and ``test.msgpack``.

For every ``…/Stimuli/<Category>/<NNN>.jpg`` (not in an ``Output`` folder):

1. decode to RGB; the background colour is the top-left pixel;
2. crop to the bounding box of the pixels that differ from it by more than 10 in some channel;
3. resize (Lanczos) so the longer side is 1024 px: scale r = 1024 / max(w, h), size (round(w r), round(h r));
4. encode as JPEG quality 90 without chroma subsampling (4:4:4);
5. fixations: the non-zero pixels of ``fixLocs`` in ``…/FIXATIONLOCS/<Category>/<NNN>.mat`` as (x, y),
   minus the crop's (left, top), times r (as float32); points outside the output image are dropped. Without a
   fixation file (test set) ``locations`` is None.

Run ``python -m dings.sets.CAT2000_write --help`` or ``dings write CAT2000 --help``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dings.tools import decode_image, encode_image, parallel_map

from ._gaze import is_clutter, load_mat_bytes, open_zip, read_member
from .CAT2000 import INFO, LONG_SIDE
from .converter import Outputs, run_converter, shuffled
from .extras import require_extra
from .samples import SaliencyData, SaliencyExperiment

__all__ = ["content_box", "convert", "fixation_member", "is_stimulus", "main", "make_sample", "transform_points"]

SPLITS = {"train": "trainSet.zip", "test": "testSet.zip"}

#: a pixel belongs to the picture when a channel differs from the border colour by more than this
THRESHOLD = 10


def is_stimulus(member: str) -> bool:
    """True for a stimulus image: a ``.jpg`` below a ``Stimuli`` folder, not below ``Output``."""
    folders = member.split("/")[:-1]
    return member.endswith(".jpg") and "Stimuli" in folders and "Output" not in folders and not is_clutter(member)


def fixation_member(member: str) -> str:
    """The ``fixLocs`` file of a stimulus: ``Stimuli`` → ``FIXATIONLOCS``, ``.jpg`` → ``.mat``."""
    parts = member[: -len(".jpg")].split("/")
    return "/".join("FIXATIONLOCS" if part == "Stimuli" else part for part in parts) + ".mat"


def content_box(pixels: np.ndarray) -> tuple[int, int, int, int]:
    """``(left, top, right, bottom)`` of the pixels that differ from the top-left pixel's colour by
    more than 10 in some channel; the whole image when there are none."""
    height, width = pixels.shape[:2]
    differs = (np.abs(pixels.astype(np.int16) - pixels[0, 0].astype(np.int16)) > THRESHOLD).any(axis=2)
    rows, cols = np.flatnonzero(differs.any(axis=1)), np.flatnonzero(differs.any(axis=0))
    if not rows.size:
        return 0, 0, width, height
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def transform_points(fix_locs: np.ndarray, left: int, top: int, scale: float, size: tuple[int, int]) -> np.ndarray:
    """Turn a fixation mask into float32 (x, y) points of the cropped, scaled image.

    Args:
        fix_locs: 2-D array, non-zero where someone fixated (row = y, column = x).
        left: the crop's left edge in the original image.
        top: the crop's top edge.
        scale: the resize factor.
        size: ``(width, height)`` of the output image; points outside it are dropped.
    """
    rows, cols = np.nonzero(fix_locs)
    pts = (np.stack([cols, rows], axis=1) - np.array([left, top])) * float(scale)
    width, height = size
    inside = (pts[:, 0] >= 0) & (pts[:, 1] >= 0) & (pts[:, 0] < width) & (pts[:, 1] < height)
    return np.ascontiguousarray(pts[inside], dtype=np.float32)


def _fix_locs(name: str, data: bytes) -> np.ndarray:
    mat = load_mat_bytes(data, name, INFO.name)
    fix_locs = mat.get("fixLocs")
    if not isinstance(fix_locs, np.ndarray) or fix_locs.ndim != 2 or fix_locs.dtype.kind not in "biuf":
        found = f"{fix_locs.dtype} {fix_locs.shape}" if isinstance(fix_locs, np.ndarray) else type(fix_locs).__name__
        raise ValueError(f"{name}: expected a variable fixLocs holding a 2-D numeric array, got {found}")
    return fix_locs


def make_sample(job: tuple[str, str, bytes, tuple[str, bytes] | None]) -> dict[str, Any]:
    """Build one sample from ``(key, image name, image bytes, (mat name, mat bytes) or None)``."""
    key, name, data, mat = job
    Image = require_extra("PIL.Image", "saliency", INFO.name)
    try:
        pixels = decode_image(data, mode="RGB", as_array=True)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    left, top, right, bottom = content_box(pixels)
    width, height = right - left, bottom - top
    scale = LONG_SIDE / max(width, height)
    size = (round(width * scale), round(height * scale))
    picture = Image.fromarray(pixels[top:bottom, left:right]).resize(size, getattr(Image, "Resampling", Image).LANCZOS)
    locations = None
    if mat is not None:
        locations = transform_points(_fix_locs(*mat), left, top, scale, size)
    return SaliencyData(key, encode_image(picture, "JPEG", quality=90, subsampling="4:4:4"), [SaliencyExperiment(locations, None)])


def convert(args: argparse.Namespace, files: dict[str, Path], outputs: Outputs) -> None:
    """Write every split of CAT2000 (see the module docstring)."""
    for split, source in SPLITS.items():
        if not outputs.wanted(split):
            continue
        with open_zip(files[source], INFO.source(source).url) as archive:
            names = set(archive.namelist())
            stimuli = [m for m in archive.namelist() if is_stimulus(m)]
            if args.shuffle:
                stimuli = shuffled(stimuli, args.seed)

            def jobs(archive=archive, names=names, stimuli=stimuli, source=source) -> Iterator[tuple]:
                for member in stimuli:
                    fixations = fixation_member(member)
                    mat = (f"{source}:{fixations}", read_member(archive, fixations)) if fixations in names else None
                    yield "/".join(member.split("/")[-2:]), f"{source}:{member}", read_member(archive, member), mat

            samples = parallel_map(make_sample, jobs(), workers=args.threads, chunksize=2)
            outputs.write(split, samples, total=len(stimuli))


def main(argv: Sequence[str] | None = None) -> Outputs:
    """Command-line entry point."""
    return run_converter(INFO, convert, argv)


if __name__ == "__main__":
    main()
