"""CIFAR-100: 60,000 32x32 colour images in 100 fine and 20 coarse classes. Metadata, catalog entry and converter."""

from __future__ import annotations

from typing import Any

from ..builder import Builder
from ..catalog import DatasetInfo, SourceFile, Split
from ..samples import ImageCoarseClassificationData
from ._cifar import encode_row, int_labels, read_batch, rows, unique_keys

__all__ = ["CIFAR100", "CLASSES", "COARSE_CLASSES", "FINE_CLASSES", "INFO"]

#: the 100 fine class names in label order
FINE_CLASSES = (
    "apple",
    "aquarium_fish",
    "baby",
    "bear",
    "beaver",
    "bed",
    "bee",
    "beetle",
    "bicycle",
    "bottle",
    "bowl",
    "boy",
    "bridge",
    "bus",
    "butterfly",
    "camel",
    "can",
    "castle",
    "caterpillar",
    "cattle",
    "chair",
    "chimpanzee",
    "clock",
    "cloud",
    "cockroach",
    "couch",
    "crab",
    "crocodile",
    "cup",
    "dinosaur",
    "dolphin",
    "elephant",
    "flatfish",
    "forest",
    "fox",
    "girl",
    "hamster",
    "house",
    "kangaroo",
    "keyboard",
    "lamp",
    "lawn_mower",
    "leopard",
    "lion",
    "lizard",
    "lobster",
    "man",
    "maple_tree",
    "motorcycle",
    "mountain",
    "mouse",
    "mushroom",
    "oak_tree",
    "orange",
    "orchid",
    "otter",
    "palm_tree",
    "pear",
    "pickup_truck",
    "pine_tree",
    "plain",
    "plate",
    "poppy",
    "porcupine",
    "possum",
    "rabbit",
    "raccoon",
    "ray",
    "road",
    "rocket",
    "rose",
    "sea",
    "seal",
    "shark",
    "shrew",
    "skunk",
    "skyscraper",
    "snail",
    "snake",
    "spider",
    "squirrel",
    "streetcar",
    "sunflower",
    "sweet_pepper",
    "table",
    "tank",
    "telephone",
    "television",
    "tiger",
    "tractor",
    "train",
    "trout",
    "tulip",
    "turtle",
    "wardrobe",
    "whale",
    "willow_tree",
    "wolf",
    "woman",
    "worm",
)

#: the fine class names (``label``), as in datadings
CLASSES = FINE_CLASSES

#: the 20 coarse class names (``coarse_label``) in label order
COARSE_CLASSES = (
    "aquatic_mammals",
    "fish",
    "flowers",
    "food_containers",
    "fruit_and_vegetables",
    "household_electrical_devices",
    "household_furniture",
    "insects",
    "large_carnivores",
    "large_man-made_outdoor_things",
    "large_natural_outdoor_scenes",
    "large_omnivores_and_herbivores",
    "medium_mammals",
    "non-insect_invertebrates",
    "people",
    "reptiles",
    "small_mammals",
    "trees",
    "vehicles_1",
    "vehicles_2",
)

INFO = DatasetInfo(
    name="CIFAR100",
    aliases=("CIFAR-100", "cifar100"),
    domain="classification",
    tasks=("image-classification",),
    tags=("small-images", "100-classes", "coarse-labels", "benchmark"),
    description=(
        "60,000 colour images of 32x32 pixels in 100 classes (apple … worm) that are grouped into 20 "
        "superclasses; 600 images per class: 50,000 for training and 10,000 for testing. Every image has a "
        "fine label (its class) and a coarse label (its superclass). Like CIFAR-10 a subset of the 80 "
        "million tiny images, collected by Krizhevsky, Nair and Hinton."
    ),
    homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
    sources=(
        SourceFile(
            "cifar-100-python.tar.gz",
            url="https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
            md5="eb9058c3a382ffc7106e4002c42a8d85",
            size=169_001_437,
        ),
    ),
    splits=(Split("train", 50_000), Split("test", 10_000)),
    sample_keys={
        "key": "str, the image's file name; the k-th repeat (k >= 2) of a name within a split gets k "
        "appended (x.png, x.png2, x.png3)",
        "image": "bytes, RGB PNG",
        "label": "int 0..99, fine class (FINE_CLASSES)",
        "coarse_label": "int 0..19, superclass (COARSE_CLASSES)",
    },
    common_options=("shuffle", "threads"),
    differences=(
        "the pickles are loaded with an unpickler that only rebuilds numpy arrays (no code from the archive runs)",
        "repeated file names are numbered in file order, before shuffling, so keys do not depend on --seed",
        "--seed makes the shuffled order reproducible; -t/--threads encodes PNGs in parallel with identical output",
    ),
    extra="classification",
    converter="dings.sets.CIFAR100_write",
)


#: split -> batch file in the archive
MEMBERS = {"train": "cifar-100-python/train", "test": "cifar-100-python/test"}


def encode_item(item: tuple[str, Any, int, int]) -> dict[str, Any]:
    """Build the sample of ``(key, CIFAR row, fine label, coarse label)``: the row encoded as PNG."""
    key, row, label, coarse_label = item
    return ImageCoarseClassificationData(key, encode_row(row), label, coarse_label)


class CIFAR100(Builder):
    """CIFAR-100's converter: items are the rows of the split's batch in file order; repeated file
    names within a split are numbered (``x.png``, ``x.png2``, …)."""

    info = INFO
    chunksize = 64

    def items(self, split: str) -> list[tuple[str, Any, int, int]]:
        """``(key, row, fine label, coarse label)`` of every image of ``split``."""
        archive = self.files["cifar-100-python.tar.gz"]
        member = MEMBERS[split]
        batch = read_batch(archive, member)
        source = f"{archive}:{member}"
        fine = int_labels(batch, b"fine_labels", source)
        coarse = int_labels(batch, b"coarse_labels", source)
        images = list(rows(batch))
        try:
            keys = unique_keys([name for name, _, _ in images])
        except ValueError as exc:
            raise ValueError(f"{source}: {exc}") from None
        return [(key, row, fine[i], coarse[i]) for key, (_, row, i) in zip(keys, images)]

    def transform(self) -> Any:
        """PNG encoding runs on the worker threads."""
        return encode_item
