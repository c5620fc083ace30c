"""Convert Cityscapes (fine annotations) to ``train``, ``val`` and ``test`` datasets.

Reads the three manually downloaded zips ``leftImg8bit_trainvaltest.zip``,
``gtFine_trainvaltest.zip`` and ``disparity_trainvaltest.zip``; images, ``labelIds`` maps and
disparity maps are stored unchanged. Run ``python -m dings.sets.Cityscapes_write --help``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from ._segmentation import Archive
from .Cityscapes import INFO
from .converter import Outputs, run_converter, shuffled
from .samples import ImageDisparitySegmentationData

__all__ = ["convert", "keys", "main"]

SPLITS = ("train", "val", "test")
_PREFIX, _SUFFIX = "leftImg8bit/", "_leftImg8bit.png"


def keys(images: Archive, split: str) -> list[str]:
    """Sample keys of ``split`` (``<split>/<city>/<frame>``) in archive order."""
    found = []
    for name in images.names():
        if name.startswith(_PREFIX) and name.endswith(_SUFFIX):
            key = name[len(_PREFIX):-len(_SUFFIX)]
            if key.startswith(split + "/"):
                found.append(key)
    return found


def convert(args: argparse.Namespace, files: dict[str, Path], outputs: Outputs) -> None:
    """Write every split of Cityscapes (see the module docstring)."""
    with Archive(files["leftImg8bit_trainvaltest.zip"]) as images, \
            Archive(files["gtFine_trainvaltest.zip"]) as labels, \
            Archive(files["disparity_trainvaltest.zip"]) as disparities:
        found = {split: keys(images, split) for split in SPLITS}
        for split, split_keys in found.items():  # before anything is written
            if not split_keys:
                raise ValueError(f"{images.path}: no {_PREFIX}{split}/...{_SUFFIX} images; is this leftImg8bit_trainvaltest.zip?")
        for split, split_keys in found.items():
            if not outputs.wanted(split):
                continue
            if args.shuffle:
                split_keys = shuffled(split_keys, args.seed)
            samples = (
                ImageDisparitySegmentationData(
                    key,
                    images.read(f"{_PREFIX}{key}{_SUFFIX}"),
                    labels.read(f"gtFine/{key}_gtFine_labelIds.png"),
                    disparities.read(f"disparity/{key}_disparity.png"),
                )
                for key in split_keys
            )
            outputs.write(split, samples, total=len(split_keys))


def main(argv: Sequence[str] | None = None) -> Outputs:
    """Command-line entry point."""
    return run_converter(INFO, convert, argv)


if __name__ == "__main__":
    main()
