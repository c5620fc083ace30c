"""CIFAR-10: 60,000 32x32 colour images in 10 classes. Metadata, catalog entry and converter.

The converter reads ``cifar-10-python.tar.gz`` and writes ``train.msgpack`` and ``test.msgpack``.
"""

from __future__ import annotations

from typing import Any

from ..builder import Builder
from ..catalog import DatasetInfo, SourceFile, Split
from ..samples import ImageClassificationData
from ._cifar import encode_row, read_batch, rows

__all__ = ["CIFAR10", "CLASSES", "INFO"]

#: class names in label order
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

INFO = DatasetInfo(
    name="CIFAR10",
    aliases=("CIFAR-10", "cifar10"),
    domain="classification",
    tasks=("image-classification",),
    tags=("small-images", "10-classes", "benchmark"),
    description=(
        "60,000 colour images of 32x32 pixels in 10 mutually exclusive classes (airplane … truck), "
        "6,000 per class: 50,000 for training and 10,000 for testing; a subset of the 80 million tiny "
        "images collected by Krizhevsky, Nair and Hinton."
    ),
    homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
    sources=(
        SourceFile(
            "cifar-10-python.tar.gz",
            url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
            md5="c58f30108f718f92721af3b95e74349a",
            size=170_498_071,
        ),
    ),
    splits=(Split("train", 50_000), Split("test", 10_000)),
    sample_keys={
        "key": "str, the image's file name",
        "image": "bytes, RGB PNG",
        "label": "int 0..9 (CLASSES)",
    },
    common_options=("shuffle", "threads"),
    differences=(
        "the pickles are loaded with an unpickler that only rebuilds numpy arrays (no code from the archive runs)",
        "--seed makes the shuffled order reproducible; -t/--threads encodes PNGs in parallel with identical output",
    ),
    extra="classification",
    converter="dings.sets.CIFAR10_write",
)

#: split -> batch files in the archive
MEMBERS = {
    "train": [f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6)],
    "test": ["cifar-10-batches-py/test_batch"],
}


def encode_item(item: tuple[str, Any, int]) -> dict[str, Any]:
    """Build the sample of ``(key, CIFAR row, label)``: the row encoded as PNG."""
    key, row, label = item
    return ImageClassificationData(key, encode_row(row), label)


class CIFAR10(Builder):
    """CIFAR-10's converter: items are the rows of the split's batches, in file order."""

    info = INFO
    chunksize = 64

    def items(self, split: str) -> list[tuple[str, Any, int]]:
        """``(key, row, label)`` of every image of ``split``."""
        archive = self.files["cifar-10-python.tar.gz"]
        found: list[tuple[str, Any, int]] = []
        for member in MEMBERS[split]:
            batch = read_batch(archive, member)
            labels = batch[b"labels"]
            found.extend((name, row, int(labels[i])) for name, row, i in rows(batch))
        return found

    def transform(self) -> Any:
        """PNG encoding runs on the worker threads."""
        return encode_item
