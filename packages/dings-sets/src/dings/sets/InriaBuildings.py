"""Inria Aerial Image Labeling: building footprints in 0.3 m aerial orthophotos. Metadata and catalog entry."""

from __future__ import annotations

from ._tiles import DEFAULT_TILE_SIZE, positive_int, tile_size_option
from .catalog import DatasetInfo, Option, SourceFile, Split

__all__ = [
    "CLASSES",
    "CROP_SIZE",
    "FOLDER",
    "IDS",
    "IMAGE_SIZE",
    "INFO",
    "NUM_INPUT_CHANNELS",
    "TEST_LOCATIONS",
    "TRAIN_LOCATIONS",
    "VAL_IDS",
]

#: the unpacked folder inside INDIR
FOLDER = "AerialImageDataset"
NUM_INPUT_CHANNELS = 3
#: height and width of every image of the dataset
IMAGE_SIZE = 5000
#: default tile size of the val and test splits
CROP_SIZE = DEFAULT_TILE_SIZE
#: class names; index = value of the decoded ``label_image``
CLASSES = ("background", "building")
#: locations with ground truth, in the order the converter visits them
TRAIN_LOCATIONS = ("vienna", "kitsap", "tyrol-w", "chicago", "austin")
#: locations without ground truth
TEST_LOCATIONS = ("bellingham", "bloomington", "innsbruck", "sfo", "tyrol-e")
#: image numbers of every location
IDS = tuple(range(1, 37))
#: image numbers of the training locations that form the val split (as in the dataset paper)
VAL_IDS = (1, 2, 3, 4, 5)

INFO = DatasetInfo(
    name="InriaBuildings",
    aliases=("Inria", "InriaAerialImageLabeling", "inria-buildings"),
    domain="remote-sensing",
    tasks=("semantic-segmentation", "building-detection"),
    tags=("aerial", "orthophoto", "buildings", "binary", "tiles", "2-classes"),
    description=(
        "The Inria Aerial Image Labeling dataset (Maggiori et al., 2017): 360 RGB orthophotos of "
        "5000x5000 pixels at 0.3 m resolution from ten cities in Europe and the USA, with building / "
        "not-building ground truth for the 180 images of five training cities. As in datadings, images "
        "6-36 of the training cities are written whole for training, images 1-5 in 384x384 tiles for "
        "validation, and the test cities in tiles without labels."
    ),
    homepage="https://project.inria.fr/aerialimagelabeling/",
    sources=(
        SourceFile(
            FOLDER,
            instructions=(
                "register on the dataset home page, download the multi-part 7z archive, unpack it "
                f"(and the zip inside) so that INDIR contains {FOLDER}/ with train/ and test/"
            ),
        ),
    ),
    splits=(Split("train", 155), Split("val", 4_225), Split("test", 30_420)),
    sample_keys={
        "key": "str, '<location><n>.tif' (train) or '<location><n>.tif_<idx>' (val/test tiles, "
               "idx = tile row * grid columns + tile column, dropped edge tiles counted)",
        "image": "bytes, RGB JPEG (quality 95, 4:4:4)",
        "label_image": "bytes, 1-bit PNG (mode '1'), true = building (gt value 255); train and val only",
    },
    options=(
        tile_size_option(),
        Option(("--edge-tiles",), "drop (default, as datadings) or keep the smaller tiles at the right and bottom "
               "edges of val/test images", {"choices": ("drop", "keep"), "default": "drop"}),
        Option(("--locations",), "training locations for train and val, in this order (default: all five)",
               {"nargs": "+", "choices": TRAIN_LOCATIONS, "default": list(TRAIN_LOCATIONS), "metavar": "LOCATION"}),
        Option(("--ids",), "image numbers of the training locations (default: 1-36); --val-ids of them go to val, "
               "the rest to train", {"type": positive_int, "nargs": "+", "default": list(IDS), "metavar": "N"}),
        Option(("--val-ids",), "image numbers written to val (default: 1-5)",
               {"type": positive_int, "nargs": "+", "default": list(VAL_IDS), "metavar": "N"}),
        Option(("--test-locations",), "test locations, in this order (default: all five)",
               {"nargs": "+", "choices": TEST_LOCATIONS, "default": list(TEST_LOCATIONS), "metavar": "LOCATION"}),
        Option(("--test-ids",), "image numbers of the test locations (default: 1-36)",
               {"type": positive_int, "nargs": "+", "default": list(IDS), "metavar": "N"}),
    ),
    common_options=("threads",),
    differences=(
        "runs on every supported NumPy (datadings checks the label type with the alias np.bool, which NumPy "
        "1.24-1.26 lack, so it fails there)",
        "label_image holds the ground truth; datadings' 1-bit PNGs are scrambled (it reads the bool mask's "
        "bytes as packed bits: Image.fromarray(mask, '1'))",
        "like datadings, only full tiles are written by default and the tile index counts the dropped edge "
        "tiles too, so keys and counts match; --edge-tiles keep also writes the smaller edge tiles "
        "(then every pixel of a test image is covered)",
        "TIFFs are read with tifffile instead of GDAL; JPEGs are encoded by Pillow (datadings: simplejpeg), "
        "with the same quality 95 and 4:4:4 chroma, so the image bytes differ slightly",
        "-t/--threads encodes images in parallel with identical output; --tile-size, --locations, --ids, "
        "--val-ids, --test-locations and --test-ids are new, their defaults give datadings' output",
    ),
    extra="remote-sensing",
    converter="dings.sets.InriaBuildings_write",
)
