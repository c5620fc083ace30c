"""MIT1003: eye-tracking data of 15 viewers on 1,003 images (Judd et al.). Catalog entry (no metadata)."""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

import numpy as np

from ..builder import Builder
from ..catalog import DatasetInfo, Option, SourceFile, Split
from ..extras import require_extra
from ..samples import SaliencyData, SaliencyExperiment
from ._gaze import is_clutter, load_mat_bytes, open_zip, points, read_member

__all__ = ["INFO", "MIT1003", "eye_data"]

_BASE = "http://people.csail.mit.edu/tjudd/WherePeopleLook/"

INFO = DatasetInfo(
    name="MIT1003",
    aliases=("mit1003", "MIT-1003", "WherePeopleLook"),
    domain="saliency",
    tasks=("saliency-prediction", "fixation-prediction"),
    tags=("eye-tracking", "free-viewing", "raw-gaze", "mit-saliency-benchmark"),
    description=(
        "1,003 natural images (long side at most 1,024 px) viewed freely for 3 seconds by 15 people, "
        "recorded with an eye tracker at 240 Hz (Judd, Ehinger, Durand and Torralba, 'Learning to "
        "predict where humans look', ICCV 2009). Every sample holds the image and one experiment per "
        "viewer whose locations are the raw eye-tracker samples (x, y), not clustered fixations; "
        "negative values are blinks."
    ),
    homepage=_BASE,
    sources=(
        SourceFile("ALLSTIMULI.zip", url=_BASE + "ALLSTIMULI.zip", md5="0d7df8b954ecba69b6796e77b9afe4b6"),
        SourceFile("DATA.zip", url=_BASE + "DATA.zip", md5="ea19d74ad0a0144428c53e9d75c2d71c"),
    ),
    splits=(Split("MIT1003", 1_003),),
    sample_keys={
        "key": "str, ALLSTIMULI/<name>.jpeg",
        "image": "bytes, the original JPEG",
        "experiments": "list, one per viewer (DATA.zip order): {locations: float32 (N, 2) raw gaze x, y "
        "in pixels; map: None}",
    },
    options=(
        Option(
            ("--drop-outside",),
            "Drop gaze samples outside the image (blinks are negative); default: keep every raw sample like datadings.",
            {"action": "store_true"},
        ),
    ),
    common_options=("shuffle", "threads"),
    differences=(
        "archive clutter (__MACOSX/, .svn/, .DS_Store, ._* resource forks) is skipped if present",
        "-t/--threads parses the .mat files in parallel with identical output; --seed makes the shuffled "
        "order reproducible",
        "--drop-outside (off by default) optionally removes gaze samples outside the image",
    ),
    extra="saliency",
    converter="dings.sets.MIT1003_write",
)


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


class MIT1003(Builder):
    """MIT1003's converter: one split; every stimulus with the gaze data of each viewer."""

    info = INFO
    chunksize = 8

    def items(self, split: str) -> list[str]:
        """The stimuli of ``ALLSTIMULI.zip`` in archive order (and the ``.mat`` files of each)."""
        self.stimuli = self.stack.enter_context(
            open_zip(self.files["ALLSTIMULI.zip"], INFO.source("ALLSTIMULI.zip").url)
        )
        self.data = self.stack.enter_context(open_zip(self.files["DATA.zip"], INFO.source("DATA.zip").url))
        images = [m for m in self.stimuli.namelist() if m.endswith(".jpeg") and not is_clutter(m)]
        self.mats: dict[str, list[str]] = defaultdict(list)  # image file name -> .mat members in zip order
        for member in self.data.namelist():
            parts = member.split("/")
            if len(parts) == 3 and parts[0] == "DATA" and member.endswith(".mat") and not is_clutter(member):
                self.mats[parts[2][: -len(".mat")] + ".jpeg"].append(member)
        return images

    def read(self, member: str) -> tuple[str, bytes, list[tuple[str, bytes]], bool]:
        """The input of :func:`make_sample`: key, image bytes, the ``.mat`` files, ``--drop-outside``."""
        found = self.mats.get(member.split("/")[-1], [])
        mats = [(f"DATA.zip:{m}", read_member(self.data, m)) for m in found]
        return _key(member), read_member(self.stimuli, member), mats, self.options.drop_outside

    def transform(self) -> Any:
        """:func:`make_sample` runs on the worker threads."""
        return make_sample
