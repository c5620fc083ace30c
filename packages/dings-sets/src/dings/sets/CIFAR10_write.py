"""Convert CIFAR-10 (``cifar-10-python.tar.gz``) to ``train.msgpack`` and ``test.msgpack``.

Run ``python -m dings.sets.CIFAR10_write --help`` or ``dings write CIFAR10 --help``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from dings.tools import parallel_map

from ._cifar import encode_row, read_batch, rows
from .CIFAR10 import INFO
from .converter import Outputs, run_converter, shuffled
from .samples import ImageClassificationData

__all__ = ["convert", "main"]

SPLITS = {
    "train": [f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6)],
    "test": ["cifar-10-batches-py/test_batch"],
}


def convert(args: argparse.Namespace, files: dict[str, Path], outputs: Outputs) -> None:
    """Write every split of CIFAR-10 (see the module docstring)."""
    archive = files["cifar-10-python.tar.gz"]
    for split, members in SPLITS.items():
        if not outputs.wanted(split):
            continue
        items = []  # (key, row, label) in batch-file order, then shuffled if asked
        for member in members:
            batch = read_batch(archive, member)
            labels = batch[b"labels"]
            items.extend((name, row, int(labels[i])) for name, row, i in rows(batch))
        if args.shuffle:
            items = shuffled(items, args.seed)
        images = parallel_map(encode_row, (row for _, row, _ in items), workers=args.threads, chunksize=64)
        samples = (ImageClassificationData(key, image, label) for (key, _, label), image in zip(items, images))
        outputs.write(split, samples, total=len(items))


def main(argv: Sequence[str] | None = None) -> Outputs:
    """Command-line entry point."""
    return run_converter(INFO, convert, argv)


if __name__ == "__main__":
    main()
