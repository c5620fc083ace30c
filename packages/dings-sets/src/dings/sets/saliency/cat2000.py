"""CAT2000: 4,000 images of 20 categories with the eye fixations of 24 viewers per image. Catalog entry."""

from __future__ import annotations

from typing import Any

import numpy as np
from dings.tools import decode_image, encode_image

from ..builder import Builder
from ..catalog import DatasetInfo, SourceFile, Split
from ..extras import require_extra
from ..samples import SaliencyData, SaliencyExperiment
from ._gaze import is_clutter, load_mat_bytes, open_zip, read_member

__all__ = [
    "CAT2000",
    "CATEGORIES",
    "INFO",
    "LONG_SIDE",
    "content_box",
    "fixation_member",
    "is_stimulus",
    "make_sample",
    "transform_points",
]

#: the 20 stimulus categories (folder names in both archives)
CATEGORIES = (
    "Action",
    "Affective",
    "Art",
    "BlackWhite",
    "Cartoon",
    "Fractal",
    "Indoor",
    "Inverted",
    "Jumbled",
    "LineDrawing",
    "LowResolution",
    "Noisy",
    "Object",
    "OutdoorManMade",
    "OutdoorNatural",
    "Pattern",
    "Random",
    "Satelite",
    "Sketch",
    "Social",
)

#: stimuli are cropped to their content and resized so that their longer side has this many pixels
LONG_SIDE = 1024

_BASE = "http://saliency.mit.edu/"

INFO = DatasetInfo(
    name="CAT2000",
    aliases=("cat2000", "CAT-2000"),
    domain="saliency",
    tasks=("saliency-prediction", "fixation-prediction"),
    tags=("eye-tracking", "free-viewing", "20-categories", "mit-saliency-benchmark"),
    description=(
        "4,000 images of 20 categories (action, art, cartoon, fractal, line drawing, satellite … 100 "
        "per category in each half) shown for 5 seconds to 24 viewers each (Borji and Itti, 'CAT2000: "
        "a large scale fixation dataset for boosting saliency research', 2015). The 1920x1080 stimuli "
        "pad the picture with a uniform border; the converter crops that border, scales the picture "
        "so its longer side is 1,024 px, re-encodes it as JPEG (quality 90, no chroma subsampling) and moves the merged "
        "fixations of all viewers along. Fixations of the test half are withheld."
    ),
    homepage="http://saliency.mit.edu/",
    sources=(
        SourceFile("trainSet.zip", url=_BASE + "trainSet.zip", md5="56ad5c77e6c8f72ed9ef2901628d6e48"),
        SourceFile("testSet.zip", url=_BASE + "testSet.zip", md5="903ec668df2e5a8470aef9d8654e7985"),
    ),
    splits=(Split("train", 2_000), Split("test", 2_000)),
    sample_keys={
        "key": "str, <Category>/<NNN>.jpg",
        "image": "bytes, JPEG (quality 90, 4:4:4), border cropped, longer side 1024 px",
        "experiments": "list with one experiment (all viewers merged): {locations: float32 (N, 2) fixated "
        "pixels (x, y) in the output image, or None in the test set; map: None}",
    },
    common_options=("shuffle", "threads"),
    differences=(
        "runs on Pillow >= 10 (datadings names Lanczos resampling by an alias Pillow 10 removed, so its "
        "converter fails there)",
        "fixations are kept when 0 <= x < width and 0 <= y < height of the output image; datadings keeps "
        "points with at least one coordinate > 0, so it keeps some points left of or above the picture "
        "and drops a fixation on its top-left pixel",
        "-t/--threads gives the same output (same order) for any thread count; datadings' order depends on "
        "its thread pool; --seed makes the shuffled order reproducible",
        "locations are float32 like in every other saliency dataset (datadings writes float64 here)",
        "a stimulus of one uniform colour is kept whole (nothing to crop)",
        "archive clutter (__MACOSX/, ._* resource forks) is skipped if present; folders are matched by "
        "path component (Stimuli, FIXATIONLOCS, Output), not by substring",
    ),
    extra="saliency",
    converter="dings.sets.CAT2000_write",
)


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
        pixels = np.asarray(decode_image(data, mode="RGB", as_array=True))
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
    return SaliencyData(
        key,
        encode_image(picture, "JPEG", quality=90, subsampling="4:4:4"),
        [SaliencyExperiment(locations, None)],
    )


class CAT2000(Builder):
    """CAT2000's converter: the stimuli of each split's zip with their fixations, cropped to their
    content and resized on the worker threads."""

    info = INFO
    chunksize = 2

    def items(self, split: str) -> list[str]:
        """The stimulus members of the split's zip, in archive order."""
        source = SPLITS[split]
        self.archive = self.stack.enter_context(open_zip(self.files[source], INFO.source(source).url))
        self.source = source
        self.names = set(self.archive.namelist())
        return [m for m in self.archive.namelist() if is_stimulus(m)]

    def read(self, member: str) -> tuple[str, str, bytes, tuple[str, bytes] | None]:
        """``(key, image name, image bytes, (mat name, mat bytes) or None)`` for :func:`make_sample`."""
        fixations = fixation_member(member)
        found = fixations in self.names
        mat = (f"{self.source}:{fixations}", read_member(self.archive, fixations)) if found else None
        return (
            "/".join(member.split("/")[-2:]),
            f"{self.source}:{member}",
            read_member(self.archive, member),
            mat,
        )

    def transform(self) -> Any:
        """:func:`make_sample` runs on the worker threads."""
        return make_sample
