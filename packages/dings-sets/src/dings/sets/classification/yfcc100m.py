"""YFCC100m: the images of the Yahoo Flickr Creative Commons 100 Million pre-release, read in place.

There is no converter: :class:`YFCC100mReader` reads the ZIP image packs directly and leaves out the
images of the shipped reject list. It is a :class:`dings.readers.Reader`, so augments
(``Shuffler``, ``QuasiShuffler``, ``Range`` …) and ``dings.torch`` work on it::

    from dings.sets.YFCC100m import YFCC100mReader
    with YFCC100mReader("/data/yfcc100m/images") as reader:
        for sample in reader:        # {"key": "<zip stem>/<hex name>", "image": b"..."}
            ...

Pack counts and reject lists: :mod:`dings.sets.YFCC100m_counts`. The rules behind the reject list, as
a validator and a command line that writes a reject list: :mod:`dings.sets.YFCC100m_validate`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..catalog import DatasetInfo, SourceFile, Split
from . import yfcc100m_counts as YFCC100m_counts
from .yfcc100m_counts import REJECTED_NAME, TOTAL_IMAGES, TOTAL_REJECTED
from .yfcc100m_reader import RejectedImageError, YFCC100mReader

__all__ = [
    "FILES_TOTAL",
    "FILE_COUNTS",
    "INFO",
    "REJECTED_PATH",
    "ROOT",
    "RejectedImageError",
    "YFCC100mReader",
]

#: datadings' module constant: the folder of the dataset modules
ROOT = str(Path(__file__).resolve().parent)


def __getattr__(name: str) -> Any:
    # datadings' FILE_COUNTS ([[zip stem, count], ...]) and FILES_TOTAL, loaded on first access (PEP 562)
    if name in ("FILE_COUNTS", "FILES_TOTAL"):
        return getattr(YFCC100m_counts, name)
    if name == "REJECTED_PATH":  # where the reject list is kept (downloaded there on first use, not shipped)
        from ..locations import data_dir

        return str(data_dir() / "YFCC100m" / REJECTED_NAME)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


INFO = DatasetInfo(
    name="YFCC100m",
    aliases=("YFCC100M", "YFCC-100M", "yfcc100m"),
    domain="classification",
    tasks=("unsupervised-learning", "self-supervised-learning"),
    tags=("flickr", "unlabelled", "web-images", "large-scale", "reader-only"),
    description=(
        "The images of the Yahoo Flickr Creative Commons 100 Million dataset (pre-release layout: 9,456 "
        "ZIP image packs named by 10 hex characters, about 10,000 images each; no videos, no metadata), "
        f"read in place by dings.sets.YFCC100m.YFCC100mReader: {TOTAL_IMAGES:,} images of which the "
        f"shipped reject list leaves out {TOTAL_REJECTED:,} that are damaged, under 2,600 bytes, exactly "
        "9,218 bytes (Flickr's 'photo unavailable' placeholder), or under 20,000 bytes and blank (fewer "
        "than 5 % of pixel columns with a variance of 50 or more). Nothing is converted."
    ),
    homepage="https://multimediacommons.wordpress.com/yfcc100m-core-dataset/",
    sources=(
        SourceFile(
            "images",
            instructions=(
                "the folder of ZIP image packs <10 hex>.zip of the YFCC100m pre-release (the AWS public "
                "release has another layout); pass its path to YFCC100mReader"
            ),
        ),
    ),
    splits=(Split("images", TOTAL_IMAGES - TOTAL_REJECTED),),
    sample_keys={
        "key": "str, the member name <zip stem>/<hex name>",
        "image": "bytes, the image file as stored (JPEG)",
    },
    common_options=(),
    differences=(
        "no converter (as in datadings): YFCC100mReader reads the packs; every Reader method works, with "
        "random access computed from the counts and reject lists instead of refused",
        "the reject file is decoded as plain msgpack through dings.format (no pickle); tests and partial "
        "copies can pass their own counts (or counts=None to count the packs present) and reject maps",
        "with a validator, iteration skips the images it rejects and logs them, and reading such an image "
        "by index raises RejectedImageError (the reference refused random access with a validator)",
        "the validation rules (dings.sets.YFCC100m_validate, Pillow) decode JPEGs at 1/8 scale with Pillow's "
        "draft mode; the reference used a fast JPEG decoder first, so borderline blank images may be judged "
        "differently",
    ),
    extra=None,
    converter=None,
)
