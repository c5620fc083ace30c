"""RIT-18: high-resolution multispectral drone imagery with 18 object classes. Metadata, catalog entry and converter."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from dings.tools import loadmat

from ..builder import Builder
from ..catalog import DatasetInfo, SourceFile, Split
from ..extras import require_extra
from ..samples import MaskedImageSegmentationData
from ._tiles import DEFAULT_TILE_SIZE, cast_checked, grid_shape, grid_tiles, tile_size_option

__all__ = ["CLASSES", "CROP_SIZE", "INFO", "NUM_INPUT_CHANNELS", "RIT18", "load_split"]

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


def load_split(mat: Path, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read ``<split>_data`` and ``<split>_labels`` from the RIT-18 mat file.

    Args:
        mat: ``rit18_data.mat``.
        split: ``"train"`` or ``"val"``.

    Returns:
        ``(image, label_image, mask)``: uint16 ``(6, H, W)``, int64 ``(H, W)`` and uint8 ``(H, W)``.

    Raises:
        ValueError: the file is not a readable v5/v7 mat file, a variable is missing, or its shape or
            values are not those of RIT-18.
    """
    require_extra("scipy.io", "remote-sensing", "RIT18")
    names = (f"{split}_data", f"{split}_labels")
    content = loadmat(mat, variable_names=names)
    for name in names:
        if name not in content:
            raise ValueError(f"{mat}: variable {name!r} is missing; download rit18_data.mat again")
    data, labels = (np.asarray(content[n]) for n in names)
    bands = NUM_INPUT_CHANNELS + 1
    if data.ndim != 3 or data.shape[0] != bands:
        raise ValueError(f"{mat}: {names[0]} must have shape ({bands}, H, W), got {data.shape}")
    if labels.shape != data.shape[1:]:
        raise ValueError(f"{mat}: {names[1]} must have shape {data.shape[1:]} like {names[0]}, got {labels.shape}")
    image = cast_checked(data[:NUM_INPUT_CHANNELS], np.uint16, f"{mat}: {names[0]} bands 1-{NUM_INPUT_CHANNELS}")
    mask = cast_checked(data[NUM_INPUT_CHANNELS], np.uint8, f"{mat}: {names[0]} band {bands} (mask)")
    return image, cast_checked(labels, np.int64, f"{mat}: {names[1]}"), mask


def val_samples(image: np.ndarray, labels: np.ndarray, mask: np.ndarray, tile_size: int) -> Iterator[dict[str, Any]]:
    """Yield the val tiles (edge tiles kept, smaller) row by row, keyed ``val_<idx>``."""
    for idx, (tile, label, tile_mask) in grid_tiles([image, labels, mask], tile_size, keep_edges=True):
        yield MaskedImageSegmentationData(f"val_{idx}", tile, label, tile_mask)


class RIT18(Builder):
    """RIT-18's converter: ``train`` is the whole training orthomosaic as one sample, ``val`` the
    validation orthomosaic in tiles."""

    info = INFO

    def items(self, split: str) -> Iterable[dict[str, Any]]:
        """The samples of ``split``."""
        image, labels, mask = load_split(self.files["rit18_data.mat"], split)
        if split == "train":
            self.count = 1
            return [MaskedImageSegmentationData("train", image, labels, mask)]
        rows, cols = grid_shape(labels.shape[0], labels.shape[1], self.options.tile_size)
        self.count = rows * cols
        return val_samples(image, labels, mask, self.options.tile_size)

    def total(self, split: str, items: Any) -> int | None:
        """One sample for ``train``, one per tile for ``val``."""
        return self.count
