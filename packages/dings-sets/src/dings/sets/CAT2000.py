"""CAT2000: 4,000 images of 20 categories with the eye fixations of 24 viewers per image. Catalog entry."""

from __future__ import annotations

from .catalog import DatasetInfo, SourceFile, Split

__all__ = ["CATEGORIES", "INFO", "LONG_SIDE"]

#: the 20 stimulus categories (folder names in both archives)
CATEGORIES = (
    "Action", "Affective", "Art", "BlackWhite", "Cartoon", "Fractal", "Indoor", "Inverted", "Jumbled",
    "LineDrawing", "LowResolution", "Noisy", "Object", "OutdoorManMade", "OutdoorNatural", "Pattern",
    "Random", "Satelite", "Sketch", "Social",
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
