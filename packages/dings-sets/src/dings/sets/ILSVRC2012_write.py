"""Convert ILSVRC2012 (``ILSVRC2012_img_train.tar``, ``ILSVRC2012_img_val.tar``) to ``train.msgpack``
and ``val.msgpack``.

The training tar holds one tar per class (``n01440764.tar`` …) whose JPEGs are labelled by that
wnid; validation labels come from the shipped ground truth. Every image is checked (and re-encoded
when needed, see ``--compress``). Samples are written in archive order. Run
``python -m dings.sets.ILSVRC2012_write --help`` or ``dings write ILSVRC2012 --help``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path, PurePosixPath

from dings.tools import parallel_map

from ._imagenet import check_item, open_tar, tar_files
from .converter import Outputs, run_converter
from .ILSVRC2012 import INFO
from .ILSVRC2012_synsets import val_labels
from .samples import ImageClassificationData

__all__ = ["convert", "main"]

TRAIN = "ILSVRC2012_img_train.tar"
VAL = "ILSVRC2012_img_val.tar"

Item = tuple[tuple[str, str, int], bytes]  # ((where, key, label), image bytes)


def train_items(archive: Path) -> Iterator[Item]:
    """Yield the training images of ``archive`` in archive order: inner tar, then member order.

    Raises:
        ValueError: a member is not ``<wnid>.tar`` of an ILSVRC2012 class, or a tar is unreadable.
    """
    from .ILSVRC2012_synsets import SYNSETS

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


def convert(args: argparse.Namespace, files: dict[str, Path], outputs: Outputs) -> None:
    """Write the train and val splits of ILSVRC2012 (see the module docstring)."""
    check = partial(check_item, compress=args.compress, subsampling=args.subsampling, dataset="ILSVRC2012")
    for split, items, archive in (("train", train_items, TRAIN), ("val", val_items, VAL)):
        if not outputs.wanted(split):
            continue
        checked = parallel_map(check, items(files[archive]), workers=args.threads, chunksize=16)
        outputs.write(split, _samples(checked))


def main(argv: Sequence[str] | None = None) -> Outputs:
    """Command-line entry point."""
    return run_converter(INFO, convert, argv)


if __name__ == "__main__":
    main()
