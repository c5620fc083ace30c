"""Convert MIT1003 (``ALLSTIMULI.zip`` + ``DATA.zip``) to ``MIT1003.msgpack``.

Stimuli are the ``.jpeg`` members of ``ALLSTIMULI.zip``; each gets one experiment per
``DATA/<viewer>/<image stem>.mat`` in ``DATA.zip``. The eye data sits at fixed positions of the
per-image struct (the 5th field of the top struct, or the 1st if there are fewer than five; its
first element; that element's 3rd field, ``DATA(1).eyeData``), as datadings reads it.

Run ``python -m dings.sets.MIT1003_write --help`` or ``dings write MIT1003 --help``.
"""

from __future__ import annotations

import argparse
import io
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dings.tools import parallel_map

from ._gaze import is_clutter, load_mat_bytes, open_zip, points, read_member
from .converter import Outputs, run_converter, shuffled
from .extras import require_extra
from .MIT1003 import INFO
from .samples import SaliencyData, SaliencyExperiment

__all__ = ["convert", "eye_data", "main"]

SPLIT = "MIT1003"


def eye_data(mat: dict[str, Any], stem: str, name: str) -> np.ndarray:
    """Return the raw gaze samples of one per-image ``.mat`` (already loaded) as float32 (N, 2).

    Args:
        mat: the variables of the file.
        stem: the image stem; the variable is named after it (MATLAB keeps 63 characters).
        name: the file, for error messages.

    Raises:
        ValueError: the file does not have the MIT1003 layout.
    """
    if stem[:63] in mat:
        top = mat[stem[:63]]
    elif len(mat) == 1:
        top = next(iter(mat.values()))
    else:
        raise ValueError(f"{name}: expected one variable named {stem[:63]!r}, found {', '.join(mat) or 'none'}")
    if not isinstance(top, dict) or not top:
        raise ValueError(f"{name}: variable {stem[:63]!r} must be a 1x1 struct, got {type(top).__name__}")
    fields = list(top.values())
    data = fields[4] if len(fields) >= 5 else fields[0]
    while isinstance(data, list) and data:  # struct array: its first element
        data = data[0]
    if not isinstance(data, dict) or len(data) < 3:
        raise ValueError(f"{name}: the struct's DATA field must be a struct with at least 3 fields (eyeData 3rd)")
    return points(list(data.values())[2], f"{name}: eyeData")


def _inside(locations: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    width, height = size
    x, y = locations[:, 0], locations[:, 1]
    return locations[(x >= 0) & (y >= 0) & (x < width) & (y < height)]


def make_sample(job: tuple[str, bytes, list[tuple[str, bytes]], bool]) -> dict[str, Any]:
    """Build one sample from ``(key, image bytes, [(mat name, mat bytes)], drop_outside)``."""
    key, image, mats, drop_outside = job
    stem = key.rsplit("/", 1)[-1][: -len(".jpeg")]
    size = None
    if drop_outside:
        Image = require_extra("PIL.Image", "saliency", INFO.name)
        try:
            size = Image.open(io.BytesIO(image)).size
        except OSError as exc:
            raise ValueError(f"ALLSTIMULI.zip:{key}: cannot read the image size ({exc})") from None
    experiments = []
    for name, data in mats:
        locations = eye_data(load_mat_bytes(data, name, INFO.name), stem, name)
        if size is not None:
            locations = _inside(locations, size)
        experiments.append(SaliencyExperiment(locations, None))
    return SaliencyData(key, image, experiments)


def _key(member: str) -> str:
    return "/".join(member.split("/")[-2:])


def convert(args: argparse.Namespace, files: dict[str, Path], outputs: Outputs) -> None:
    """Write ``MIT1003.msgpack`` (see the module docstring)."""
    if not outputs.wanted(SPLIT):
        return
    with open_zip(files["ALLSTIMULI.zip"], INFO.source("ALLSTIMULI.zip").url) as stimuli, \
            open_zip(files["DATA.zip"], INFO.source("DATA.zip").url) as data:
        images = [m for m in stimuli.namelist() if m.endswith(".jpeg") and not is_clutter(m)]
        mats: dict[str, list[str]] = defaultdict(list)  # image file name -> .mat members in zip order
        for member in data.namelist():
            parts = member.split("/")
            if len(parts) == 3 and parts[0] == "DATA" and member.endswith(".mat") and not is_clutter(member):
                mats[parts[2][: -len(".mat")] + ".jpeg"].append(member)
        if args.shuffle:
            images = shuffled(images, args.seed)

        def jobs() -> Iterator[tuple[str, bytes, list[tuple[str, bytes]], bool]]:
            for member in images:
                found = mats.get(member.split("/")[-1], [])
                yield (_key(member), read_member(stimuli, member),
                       [(f"DATA.zip:{m}", read_member(data, m)) for m in found], args.drop_outside)

        samples = parallel_map(make_sample, jobs(), workers=args.threads, chunksize=8)
        outputs.write(SPLIT, samples, total=len(images))


def main(argv: Sequence[str] | None = None) -> Outputs:
    """Command-line entry point."""
    return run_converter(INFO, convert, argv)


if __name__ == "__main__":
    main()
