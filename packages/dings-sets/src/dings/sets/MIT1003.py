"""MIT1003: eye-tracking data of 15 viewers on 1,003 images (Judd et al.). Catalog entry (no metadata)."""

from __future__ import annotations

from .catalog import DatasetInfo, Option, SourceFile, Split

__all__ = ["INFO"]

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
        Option(("--drop-outside",),
               "Drop gaze samples outside the image (blinks are negative); default: keep every raw sample "
               "like datadings.", {"action": "store_true"}),
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
