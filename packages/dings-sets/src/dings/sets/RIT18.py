"""RIT-18: high-resolution multispectral drone imagery with 18 object classes. Metadata and catalog entry."""

from __future__ import annotations

from ._tiles import DEFAULT_TILE_SIZE, tile_size_option
from .catalog import DatasetInfo, SourceFile, Split

__all__ = ["CLASSES", "CROP_SIZE", "INFO", "NUM_INPUT_CHANNELS"]

#: spectral bands of ``image`` (the mat file's seventh band is the orthomosaic mask)
NUM_INPUT_CHANNELS = 6
#: default tile size of the val split
CROP_SIZE = DEFAULT_TILE_SIZE
#: class names; index = class id in ``label_image``
CLASSES = (
    "0. Other Class/Image Border",
    "1. Road Markings",
    "2. Tree",
    "3. Building",
    "4. Vehicle (Car, Truck, or Bus)",
    "5. Person",
    "6. Lifeguard Chair",
    "7. Picnic Table",
    "8. Black Wood Panel",
    "9. White Wood Panel",
    "10. Orange Landing Pad",
    "11. Water Buoy",
    "12. Rocks",
    "13. Other Vegetation",
    "14. Grass",
    "15. Sand",
    "16. Water (Lake)",
    "17. Water (Pond)",
    "18. Asphalt (Parking Lot/Walkway)",
)

INFO = DatasetInfo(
    name="RIT18",
    aliases=("RIT-18", "rit18"),
    domain="remote-sensing",
    tasks=("semantic-segmentation",),
    tags=("multispectral", "aerial", "drone", "tiles", "19-classes"),
    description=(
        "Very-high-resolution multispectral imagery (six VNIR bands, about 4.7 cm per pixel) of Hamlin "
        "Beach State Park, NY, taken from a drone, with dense per-pixel labels of 18 object classes plus "
        "'other/image border' (Kemker, Salvaggio and Kanan, 2018). One MATLAB file of about 3 GB holds "
        "the train, val and test orthomosaics; the train mosaic is written whole, the val mosaic in "
        "384x384 tiles (the test mosaic has no published labels and is not written)."
    ),
    homepage="https://github.com/rmkemker/RIT-18",
    sources=(
        SourceFile(
            "rit18_data.mat",
            url="http://www.cis.rit.edu/~rmk6217/rit18_data.mat",
            md5="783ffe651310352e9c09b8ac389876c7",
        ),
    ),
    splits=(Split("train", 1), Split("val", 456)),
    sample_keys={
        "key": "str, 'train', or 'val_<idx>' with idx = tile row * grid columns + tile column",
        "image": "numpy uint16 array (6, h, w), the six spectral bands",
        "label_image": "numpy int64 array (h, w), class ids 0..18 (CLASSES)",
        "mask": "numpy uint8 array (h, w), the orthomosaic mask (band 7 of the mat file)",
    },
    options=(tile_size_option(),),
    common_options=(),
    differences=(
        "the mat file is read one split at a time (train, then val), so memory holds one mosaic, not all three",
        "values that do not fit the stored type (e.g. a mask above 255) are an error instead of wrapping around",
        "--tile-size changes the val tile size (default 384, as in datadings)",
    ),
    extra="remote-sensing",
    converter="dings.sets.RIT18_write",
)
