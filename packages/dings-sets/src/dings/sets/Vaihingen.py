"""ISPRS Vaihingen 2D semantic labelling: aerial true orthophotos, DSM and colour-coded labels.

Metadata and catalog entry.
"""

from __future__ import annotations

from ._tiles import DEFAULT_TILE_SIZE, tile_size_option
from .catalog import DatasetInfo, Option, SourceFile, Split

__all__ = [
    "CLASSES",
    "COLOR_TO_CLASS_MAP",
    "CROP_SIZE",
    "FOLDER",
    "INFO",
    "TRAIN_AREAS",
    "VAL_AREAS",
]

#: the unpacked folder inside INDIR
FOLDER = "ISPRS_semantic_labeling_Vaihingen"
#: default tile size of the val split
CROP_SIZE = DEFAULT_TILE_SIZE
#: class names; index = class id in ``label_image`` (6 = unclassified, black, is not listed)
CLASSES = ("Impervious surfaces", "Buildings", "Low vegetation", "Tree", "Car", "Clutter")
#: label colour (r, g, b) -> class id; any other colour becomes 0
COLOR_TO_CLASS_MAP = {
    (255, 255, 255): 0,
    (0, 0, 255): 1,
    (0, 255, 255): 2,
    (0, 255, 0): 3,
    (255, 255, 0): 4,
    (255, 0, 0): 5,
    (0, 0, 0): 6,
}
#: areas written whole to the train split
TRAIN_AREAS = (1, 3, 5, 7, 13, 17, 21, 23, 26, 32, 37)
#: areas cut into tiles for the val split
VAL_AREAS = (11, 15, 28, 30, 34)

INFO = DatasetInfo(
    name="Vaihingen",
    aliases=("ISPRS-Vaihingen", "vaihingen"),
    domain="remote-sensing",
    tasks=("semantic-segmentation",),
    tags=("aerial", "orthophoto", "dsm", "isprs", "tiles", "6-classes"),
    description=(
        "The ISPRS 2D semantic labelling benchmark of Vaihingen, Germany: true orthophotos of 9 cm "
        "ground resolution in near-infrared, red and green, a matching digital surface model and "
        "colour-coded ground truth for six classes (impervious surfaces, building, low vegetation, "
        "tree, car, clutter). The labelled areas are split as in datadings: 11 areas are written whole "
        "for training, 5 areas in 384x384 tiles for validation."
    ),
    homepage="https://www.isprs.org/education/benchmarks/UrbanSemLab/2d-sem-label-vaihingen.aspx",
    sources=(
        SourceFile(
            FOLDER,
            instructions=(
                "request the data with the form on the ISPRS benchmark page, then unpack it so that INDIR "
                f"contains {FOLDER}/ with top/, gts_for_participants/ and dsm/"
            ),
        ),
    ),
    splits=(Split("train", len(TRAIN_AREAS), file="Vaihingen_train.msgpack"), Split("val", file="Vaihingen_val.msgpack")),
    sample_keys={
        "key": "str, 'top_mosaic_09cm_area<N>.tif' (train) or 'top_mosaic_09cm_area<N>.tif_<idx>' (val tiles, "
               "idx = tile row * grid columns + tile column)",
        "image": "numpy uint8 array (3, h, w), IR-R-G bands of the true orthophoto",
        "label_image": "numpy int64 array (h, w), class ids (COLOR_TO_CLASS_MAP; unknown colours -> 0)",
        "mask": "numpy int32 array (h, w), the DSM heights truncated to whole units (float32 with --dsm-dtype float32)",
    },
    options=(
        tile_size_option(),
        Option(("--train-areas",), "area numbers written whole to the train split (default: the 11 of datadings)",
               {"type": int, "nargs": "+", "default": list(TRAIN_AREAS), "metavar": "N"}),
        Option(("--val-areas",), "area numbers cut into tiles for the val split (default: 11 15 28 30 34)",
               {"type": int, "nargs": "+", "default": list(VAL_AREAS), "metavar": "N"}),
        Option(("--dsm-dtype",), "type of the DSM in 'mask': int32 truncates like datadings, float32 keeps the heights "
               "(default: %(default)s)", {"choices": ("int32", "float32"), "default": "int32"}),
    ),
    common_options=(),
    differences=(
        "the DSM is read from its official name dsm/dsm_09cm_matching_area<N>.tif; datadings' name "
        "dsm/dsm_mosaic_09cm_area<N>.tif is accepted too",
        "the val split honours -y/--no-confirm like the train split (datadings asks regardless)",
        "a DSM with NaN or infinite heights is an error instead of undefined integers",
        "--tile-size, --train-areas, --val-areas and --dsm-dtype are new; the defaults give datadings' output",
    ),
    extra="remote-sensing",
    converter="dings.sets.Vaihingen_write",
)
