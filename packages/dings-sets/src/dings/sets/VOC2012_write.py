"""Convert PASCAL VOC 2012 segmentation (``VOCtrainval_11-May-2012.tar``) to ``train``/``val`` datasets.

Label images are decoded to RGB, each colour is looked up in the 21 VOC class colours (unknown
colours such as the void colour become 0) and stored as 8-bit grayscale PNGs of class indices.
Run ``python -m dings.sets.VOC2012_write --help`` or ``dings write VOC2012 --help``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from dings.tools import decode_image, encode_label_map, parallel_map

from ._segmentation import Archive, Named, class_fractions, colors_to_indices, statistics, sum_fractions
from .converter import Outputs, run_converter, shuffled
from .extras import require_extra
from .samples import ImageSegmentationData
from .VOC2012 import COLORS, INFO

__all__ = ["convert", "convert_label", "main", "read_ids"]

ROOT = "VOCdevkit/VOC2012"
SPLITS = ("train", "val")


def convert_label(png: bytes) -> bytes:
    """Turn a VOC colour-palette annotation into an 8-bit PNG of class indices (unknown colours → 0)."""
    require_extra("PIL.Image", "segmentation", "VOC2012")
    indices = colors_to_indices(decode_image(png, mode="RGB", as_array=True), COLORS, default=0)
    return encode_label_map(indices, compress_level=9)


def _label_fractions(png: bytes) -> tuple[list[int], list[float]]:
    require_extra("PIL.Image", "segmentation", "VOC2012")
    return class_fractions(colors_to_indices(decode_image(png, mode="RGB", as_array=True), COLORS, default=0))


def read_ids(archive: Archive, split: str) -> list[str]:
    """Image ids of ``split`` from ``ImageSets/Segmentation/<split>.txt`` (one per line)."""
    text = archive.read(f"{ROOT}/ImageSets/Segmentation/{split}.txt").decode("utf-8")
    return [line.strip() for line in text.split("\n") if line.strip()]


def _members(archive: Archive, ids: Sequence[str], kind: str, suffix: str) -> Iterator[tuple[str, bytes]]:
    for image_id in ids:
        name = f"{ROOT}/{kind}/{image_id}{suffix}"
        yield f"{archive.path}:{name}", archive.read(name)


def convert(args: argparse.Namespace, files: dict[str, Path], outputs: Outputs) -> None:
    """Write (or with ``--calculate-weights`` print statistics of) every split of VOC2012."""
    with Archive(files["VOCtrainval_11-May-2012.tar"]) as archive:
        for split in SPLITS:
            if args.calculate_weights:
                ids = read_ids(archive, split)
                labels = _members(archive, ids, "SegmentationClass", ".png")
                fractions = parallel_map(Named(_label_fractions), labels, workers=args.threads, chunksize=8)
                print(split, json.dumps(statistics(*sum_fractions(fractions))))
                continue
            if not outputs.wanted(split):
                continue
            ids = read_ids(archive, split)
            if args.shuffle:
                ids = shuffled(ids, args.seed)
            images = (data for _, data in _members(archive, ids, "JPEGImages", ".jpg"))
            labels = parallel_map(Named(convert_label), _members(archive, ids, "SegmentationClass", ".png"),
                                  workers=args.threads, chunksize=8)
            samples = (ImageSegmentationData(i, image, label) for i, image, label in zip(ids, images, labels))
            outputs.write(split, samples, total=len(ids))


def main(argv: Sequence[str] | None = None) -> Outputs:
    """Command-line entry point."""
    return run_converter(INFO, convert, argv)


if __name__ == "__main__":
    main()
