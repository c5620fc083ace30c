"""Places365: 1.8 million (standard) or 8 million (challenge) scene images in 365 classes.

Metadata (``CLASSES``, ``CLASS_TO_ID``, ``ID_TO_CLASS``, loaded on first use from the shipped
``meta/Places365_classes.json.gz``) and the catalog entry ``INFO``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..builder import Builder
from ..catalog import DatasetInfo, Option, SourceFile, Split
from ..samples import ImageClassificationData, ImageData
from ..shipped import META_DIR
from ._places365 import iter_jpegs, read_label_list, training_class

__all__ = ["CLASSES", "CLASS_TO_ID", "ID_TO_CLASS", "INFO", "Places365", "load_classes", "source_names"]

#: the shipped class list: 365 sorted class paths; position = label
CLASSES_FILE = META_DIR / "Places365_classes.json.gz"

BASE_URL = "http://data.csail.mit.edu/places/places365/"
#: the file lists (validation labels); needed by every variant
FILELIST = "filelist_places365-standard.tar"

_MD5 = {
    FILELIST: "35a0585fee1fa656440f3ab298f8479c",
    "train_large_places365standard.tar": "67e186b496a84c929568076ed01a8aa1",
    "train_large_places365challenge.tar": "605f18e68e510c82b958664ea134545f",
    "train_256_places365standard.tar": "53ca1c756c3d1e7809517cc47c5561c5",
    "train_256_places365challenge.tar": "741915038a5e3471ec7332404dfb64ef",
    "val_large.tar": "9b71c4993ad89d2d8bcbdc4aef38042f",
    "test_large.tar": "41a4b6b724b1d2cd862fb3871ed59913",
    "val_256.tar": "e27b17d8d44f4af9a78502beb927f808",
    "test_256.tar": "f532f6ad7b582262a2ec8009075e186b",
}

#: sample counts of the real archives
TRAINING_SAMPLES = {"standard": 1_803_460, "challenge": 8_000_000}
VALIDATION_SAMPLES = 36_500
TESTING_SAMPLES = 328_500


@lru_cache(maxsize=1)
def load_classes() -> tuple[str, ...]:
    """Return the 365 class paths in label order (e.g. ``"apartment_building/outdoor"``).

    Raises:
        ValueError: the shipped file is damaged (reinstall dings-sets).
    """
    from dings.tools import load_json

    classes = load_json(CLASSES_FILE)
    if not isinstance(classes, list) or len(classes) != 365 or not all(isinstance(c, str) for c in classes):
        raise ValueError(f"{CLASSES_FILE}: expected a JSON array of 365 class names; reinstall dings-sets")
    return tuple(classes)


def __getattr__(name: str) -> Any:
    # CLASSES, CLASS_TO_ID and ID_TO_CLASS are built on first access (PEP 562)
    if name == "CLASSES":
        return load_classes()
    if name == "CLASS_TO_ID":
        return {c: i for i, c in enumerate(load_classes())}
    if name == "ID_TO_CLASS":
        return dict(enumerate(load_classes()))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def source_names(low_res: bool = False, challenge: bool = False) -> list[str]:
    """Return the source files one variant needs: file lists, training, validation and test tars.

    Args:
        low_res: the 256x256 images instead of the large ones (minimum side 512).
        challenge: the 8 million image challenge training set instead of the standard one.
    """
    size = "256" if low_res else "large"
    variant = "challenge" if challenge else "standard"
    return [FILELIST, f"train_{size}_places365{variant}.tar", f"val_{size}.tar", f"test_{size}.tar"]


INFO = DatasetInfo(
    name="Places365",
    aliases=("Places365-Standard", "Places365-Challenge", "places365"),
    domain="classification",
    tasks=("image-classification", "scene-recognition"),
    tags=("scenes", "365-classes", "large-scale", "benchmark"),
    description=(
        "Scene recognition images from the Places2 database in 365 scene categories (airfield … "
        "zen_garden): 1,803,460 training images in the standard variant or 8,000,000 in the challenge "
        "variant (-c), 36,500 validation images (100 per class) and 328,500 unlabelled test images; "
        "either large images (minimum side 512, aspect ratio kept) or 256x256 images (-l). Samples "
        "keep the original JPEG bytes, in archive order."
    ),
    homepage="http://places2.csail.mit.edu/",
    sources=tuple(SourceFile(name, url=BASE_URL + name, md5=md5) for name, md5 in _MD5.items()),
    splits=(
        Split("training", TRAINING_SAMPLES["standard"]),
        Split("validation", VALIDATION_SAMPLES),
        Split("testing", TESTING_SAMPLES),
    ),
    sample_keys={
        "key": "str, the member path inside the tar (e.g. data_large/a/airfield/00000001.jpg)",
        "image": "bytes, the original JPEG",
        "label": "int 0..364 (CLASSES); training and validation only",
    },
    options=(
        Option(
            ("-l", "--low-res"),
            "Use the 256x256 images instead of the large ones (minimum side 512).",
            {"action": "store_true"},
        ),
        Option(
            ("-c", "--challenge"),
            "Use the 8 million image challenge training set (validation and testing are the same).",
            {"action": "store_true"},
        ),
    ),
    common_options=(),
    differences=(
        "a training image whose folder is not one of the 365 classes, a validation image missing from "
        "places365_val.txt and a malformed line in that list stop the conversion with an error naming "
        "them (the reference failed with a bare KeyError/TypeError, or stopped reading the list early)",
        "tar member headers are not accumulated in memory while reading (the reference's tarfile kept "
        "every header, gigabytes for the 8 million member challenge tar)",
    ),
    extra=None,
    converter="dings.sets.Places365_write",
)


def training_samples(archive: Path) -> Iterator[dict[str, Any]]:
    """Labelled samples of a training tar; the label comes from the member's class folders."""
    class_to_id = {c: i for i, c in enumerate(load_classes())}
    for key, image in iter_jpegs(archive):
        name = training_class(key)
        if name not in class_to_id:
            raise ValueError(
                f"{archive}: member {key} is in folder {name!r}, which is not a Places365 class "
                "(expected data_<size>/<letter>/<class path>/<file>.jpg); download the archive again"
            )
        yield ImageClassificationData(key, image, class_to_id[name])


def validation_samples(archive: Path, filelist: Path) -> Iterator[dict[str, Any]]:
    """Labelled validation samples; labels come from ``places365_val.txt`` in the file-list tar."""
    labels = read_label_list(filelist, "places365_val.txt", len(load_classes()))
    for key, image in iter_jpegs(archive):
        name = key.rsplit("/", 1)[-1]
        if name not in labels:
            raise ValueError(
                f"{archive}: member {key} has no label in {filelist.name}:places365_val.txt; "
                "download both archives again"
            )
        yield ImageClassificationData(key, image, labels[name])


def testing_samples(archive: Path) -> Iterator[dict[str, Any]]:
    """Unlabelled test samples."""
    for key, image in iter_jpegs(archive):
        yield ImageData(key, image)


class Places365(Builder):
    """Places365's converter: the JPEGs of the chosen variant's tars in archive order, read in a
    background thread while the writer packs and writes."""

    info = INFO
    prefetch = 64

    @classmethod
    def source_names(cls, options: argparse.Namespace) -> list[str]:
        """The source files the chosen variant needs (see :func:`source_names`)."""
        return source_names(low_res=options.low_res, challenge=options.challenge)

    def items(self, split: str) -> Iterator[dict[str, Any]]:
        """The samples of ``split``, streamed from its tar."""
        _, train, val, test = self.source_names(self.options)
        if split == "training":
            return training_samples(self.files[train])
        if split == "validation":
            return validation_samples(self.files[val], self.files[FILELIST])
        return testing_samples(self.files[test])

    def total(self, split: str, items: Any) -> int | None:
        """The published sample counts of the chosen variant."""
        variant = "challenge" if self.options.challenge else "standard"
        return {
            "training": TRAINING_SAMPLES[variant],
            "validation": VALIDATION_SAMPLES,
            "testing": TESTING_SAMPLES,
        }[split]
