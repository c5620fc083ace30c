"""ILSVRC2012 (ImageNet-1k): catalog entry. The class list is in :mod:`dings.sets.ILSVRC2012_synsets`."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

from ..builder import Builder
from ..catalog import DatasetInfo, SourceFile, Split
from ..samples import ImageClassificationData
from ._imagenet import COMPRESS_OPTIONS, check_item, open_tar, tar_files
from .ilsvrc2012_synsets import val_labels

__all__ = ["ILSVRC2012", "INFO"]

_REGISTER = (
    "register at https://image-net.org/download-images.php and download it from the ILSVRC2012 "
    "(ImageNet 2012 classification) page"
)

INFO = DatasetInfo(
    name="ILSVRC2012",
    aliases=("ImageNet", "ImageNet-1k", "ImageNet1k", "ILSVRC-2012", "imagenet"),
    domain="classification",
    tasks=("image-classification",),
    tags=("imagenet", "1000-classes", "wordnet", "benchmark", "large"),
    description=(
        "The ImageNet Large Scale Visual Recognition Challenge 2012 classification data: 1,281,167 training "
        "and 50,000 validation photos of 1,000 WordNet synsets (objects, animals, scenes) collected from the "
        "web and labelled by crowd workers. Training images come as one tar per class; validation labels "
        "come from the shipped ground truth. The test set has no public labels and is not converted."
    ),
    homepage="https://image-net.org/challenges/LSVRC/2012/",
    sources=(
        SourceFile(
            "ILSVRC2012_img_train.tar",
            md5="1d675b47d978889d74fa0da5fadfb00e",
            size=147_897_477_120,
            instructions=_REGISTER,
        ),
        SourceFile(
            "ILSVRC2012_img_val.tar",
            md5="29b22e2961454d5413ddabcf34fc5622",
            size=6_744_924_160,
            instructions=_REGISTER,
        ),
    ),
    splits=(Split("train", 1_281_167), Split("val", 50_000)),
    sample_keys={
        "key": "str, the file name inside its tar (n01440764_10026.JPEG, ILSVRC2012_val_00000001.JPEG)",
        "image": "bytes, JPEG (the original file, or re-encoded: see --compress)",
        "label": "int 0..999, line of the wnid in ILSVRC2012_synsets (SYNSET_LIST)",
    },
    options=COMPRESS_OPTIONS,
    common_options=("threads",),
    differences=(
        "-y/--no-confirm is honoured (datadings' ILSVRC2012 writer always asks before overwriting)",
        "the output order is the archive order for any -t/--threads (datadings may reorder samples when "
        "threaded), so a conversion is reproducible byte for byte",
        "images are decoded with Pillow: JPEG DCT down-scaling uses the scales 1/1, 1/2, 1/4 and 1/8 "
        "(datadings' simplejpeg also has m/8 scales), so a re-encoded image can have a different size "
        "before the 500-pixel resize rule; the rules themselves are the same",
        "--subsampling offers 444, 422, 420 and Gray; 440 and 411 are not offered because Pillow's JPEG "
        "encoder cannot write them",
        "an image that cannot be decoded at all stops the conversion with an error naming the member and "
        "leaves no output (datadings fails with an internal UnboundLocalError and keeps a partial train file)",
        "members that are not <wnid>.tar of an ILSVRC2012 class, and validation files without a ground-truth "
        "label, are errors that name the member",
    ),
    extra="classification",
    converter="dings.sets.ILSVRC2012_write",
)


TRAIN = "ILSVRC2012_img_train.tar"
VAL = "ILSVRC2012_img_val.tar"


Item = tuple[tuple[str, str, int], bytes]  # ((where, key, label), image bytes)


def train_items(archive: Path) -> Iterator[Item]:
    """Yield the training images of ``archive`` in archive order: inner tar, then member order.

    Raises:
        ValueError: a member is not ``<wnid>.tar`` of an ILSVRC2012 class, or a tar is unreadable.
    """
    from .ilsvrc2012_synsets import SYNSETS

    with open_tar(None, archive, str(archive)) as outer:
        for member, handle in tar_files(outer, str(archive)):
            name = PurePosixPath(member.name)
            if name.suffix != ".tar" or name.stem not in SYNSETS:
                raise ValueError(
                    f"{archive}: member {member.name} is not <wnid>.tar of one of the 1000 ILSVRC2012 classes; "
                    "is this the ILSVRC2012 training archive?"
                )
            label = SYNSETS[name.stem]
            where = f"{archive}:{member.name}"
            with open_tar(handle, None, where) as inner:
                for image, content in tar_files(inner, where):
                    yield (where, PurePosixPath(image.name).name, label), content.read()


def val_items(archive: Path) -> Iterator[Item]:
    """Yield the validation images of ``archive`` in archive order, labelled from the ground truth.

    Raises:
        ValueError: a file has no label in the ground truth, or the tar is unreadable.
    """
    labels = val_labels()
    with open_tar(None, archive, str(archive)) as tar:
        for member, handle in tar_files(tar, str(archive)):
            key = PurePosixPath(member.name).name
            if key not in labels:
                raise ValueError(
                    f"{archive}: member {member.name} has no label in the validation ground truth; "
                    "is this the ILSVRC2012 validation archive?"
                )
            yield (str(archive), key, labels[key]), handle.read()


def _samples(checked: Iterator[tuple[tuple[str, str, int], bytes | None]]) -> Iterator[dict]:
    for (where, key, label), image in checked:
        if image is None:
            raise ValueError(f"{where}: image {key} cannot be decoded; the archive is damaged, download it again")
        yield ImageClassificationData(key, image, label)


class ILSVRC2012(Builder):
    """ILSVRC2012's converter: the images in archive order, each checked (and re-encoded when
    needed, see ``--compress``) on the worker threads."""

    info = INFO

    def items(self, split: str) -> Iterator[Item]:
        """The images of ``split`` with their labels, read from the archive as a stream."""
        if split == "train":
            return train_items(self.files[TRAIN])
        return val_items(self.files[VAL])

    def transform(self) -> Any:
        """:func:`~dings.sets.classification._imagenet.check_item` with the chosen options."""
        return partial(
            check_item,
            compress=self.options.compress,
            subsampling=self.options.subsampling,
            dataset="ILSVRC2012",
        )

    def samples(self, split: str, results: Iterator[Any]) -> Iterator[dict[str, Any]]:
        """Samples of the checked images; an undecodable image is an error."""
        return _samples(results)
