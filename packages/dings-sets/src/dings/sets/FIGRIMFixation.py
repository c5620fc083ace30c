"""FIGRIM Fixation: eye fixations on 630 target and up to 2,157 filler scene images. Catalog entry.

The dataset has no metadata beyond its catalog entry (no classes; samples carry fixations).
"""

from __future__ import annotations

from .catalog import DatasetInfo, SourceFile, Split

__all__ = ["FIELDS", "INFO"]

#: the presentations of an image whose fixations become experiments, in this order
FIELDS = ("enc", "rec", "rec2")

INFO = DatasetInfo(
    name="FIGRIMFixation",
    aliases=("FIGRIM", "figrim-fixation"),
    domain="saliency",
    tasks=("saliency-prediction", "fixation-prediction"),
    tags=("eye-tracking", "fixations", "memorability", "scenes", "SUN"),
    description=(
        "Eye fixations recorded during the FIGRIM memorability experiment (Bylinskii et al., 2015): "
        "SUN scene images of 21 categories, 630 targets and up to 2,157 fillers (those present in both "
        "the zip and the .mat file). Every participant who saw an image gives three experiments, the "
        "fixations of the encoding presentation and of the first and second recognition presentation "
        "('enc', 'rec', 'rec2'; empty for fillers and for presentations that did not happen). "
        "Points are (x, y) pixel positions as recorded (MATLAB, 1-based)."
    ),
    homepage="http://figrim.mit.edu/index_eyetracking.html",
    sources=(
        SourceFile(
            "Targets.zip", url="http://figrim.mit.edu/Targets.zip", md5="2ad3a42ebc377efe4b39064405568201"
        ),
        SourceFile(
            "allImages_release.mat",
            url="https://github.com/cvzoya/figrim/raw/master/targetData/allImages_release.mat",
            md5="c72843b05e95ab27594c1d11c849c897",
            size=3_249_502,
        ),
        SourceFile(
            "Fillers.zip", url="http://figrim.mit.edu/Fillers.zip", md5="dc0bc9561b5bc90e158ec32074dd1060"
        ),
        SourceFile(
            "allImages_fillers.mat",
            url="https://github.com/cvzoya/figrim/raw/master/fillerData/allImages_fillers.mat",
            md5="ce4f8b4961005d62f7a21191a64cab5e",
            size=3_655_090,
        ),
    ),
    splits=(Split("target", 630), Split("filler", None)),
    sample_keys={
        "key": "str, the zip member, e.g. 'Targets/airport_terminal/sun_awmodvmqonpeudqi.jpg'",
        "image": "bytes, the original JPEG",
        "experiments": "list of {locations: float32 (N, 2) array of (x, y), map: None}; "
        "3 per participant (enc, rec, rec2)",
    },
    common_options=("shuffle",),
    differences=(
        "fields of the .mat structs are found by name (impath, userdata, fixations, enc/rec/rec2), "
        "not by position",
        "empty presentations are float32 arrays of shape (0, 2), not (0, 0), so locations[:, 0] "
        "and locations[:, 1] work for every experiment",
        "--seed makes the shuffled order reproducible",
    ),
    extra="saliency",
    converter="dings.sets.FIGRIMFixation_write",
)
