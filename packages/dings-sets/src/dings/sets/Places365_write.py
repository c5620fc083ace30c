"""Convert Places365 to ``training.msgpack``, ``validation.msgpack`` and ``testing.msgpack``.

Only the files of the chosen variant are needed: ``filelist_places365-standard.tar`` plus the
training, validation and test tars of the large (default) or 256x256 images (``-l``), with the
standard (default) or challenge (``-c``) training set. Samples keep the original JPEG bytes and
the archive order.

Run ``python -m dings.sets.Places365_write --help`` or ``dings write Places365 --help``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from dings.tools import yield_threaded

from ._places365 import iter_jpegs, read_label_list, training_class
from .converter import Outputs, run_converter
from .Places365 import (
    FILELIST,
    INFO,
    TESTING_SAMPLES,
    TRAINING_SAMPLES,
    VALIDATION_SAMPLES,
    load_classes,
    source_names,
)
from .samples import ImageClassificationData, ImageData

__all__ = ["convert", "main", "sources"]


def sources(args: argparse.Namespace) -> list[str]:
    """The source files the chosen variant needs (see :func:`dings.sets.Places365.source_names`)."""
    return source_names(low_res=args.low_res, challenge=args.challenge)


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


def convert(args: argparse.Namespace, files: dict[str, Path], outputs: Outputs) -> None:
    """Write the training, validation and testing splits of the chosen variant."""
    _, train, val, test = sources(args)
    variant = "challenge" if args.challenge else "standard"
    jobs = (
        ("training", lambda: training_samples(files[train]), TRAINING_SAMPLES[variant]),
        ("validation", lambda: validation_samples(files[val], files[FILELIST]), VALIDATION_SAMPLES),
        ("testing", lambda: testing_samples(files[test]), TESTING_SAMPLES),
    )
    for split, samples, total in jobs:
        if not outputs.wanted(split):
            continue
        # read the tar in a background thread while the writer packs and writes
        with yield_threaded(samples(), maxsize=64, name=f"Places365 {split}") as stream:
            outputs.write(split, stream, total=total)


def main(argv: Sequence[str] | None = None) -> Outputs:
    """Command-line entry point."""
    return run_converter(INFO, convert, argv, sources=sources)


if __name__ == "__main__":
    main()
