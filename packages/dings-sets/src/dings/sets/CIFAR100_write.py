"""Convert CIFAR-100 (``cifar-100-python.tar.gz``) to ``train.msgpack`` and ``test.msgpack``.

Samples have the fine ``label`` and the ``coarse_label``; repeated file names within a split are
numbered (``x.png``, ``x.png2``, …). Run ``python -m dings.sets.CIFAR100_write --help`` or
``dings write CIFAR100 --help``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from dings.tools import parallel_map

from ._cifar import encode_row, int_labels, read_batch, rows, unique_keys
from .CIFAR100 import INFO
from .converter import Outputs, run_converter, shuffled
from .samples import ImageCoarseClassificationData

__all__ = ["convert", "main"]

SPLITS = {"train": "cifar-100-python/train", "test": "cifar-100-python/test"}


def convert(args: argparse.Namespace, files: dict[str, Path], outputs: Outputs) -> None:
    """Write every split of CIFAR-100 (see the module docstring)."""
    archive = files["cifar-100-python.tar.gz"]
    for split, member in SPLITS.items():
        if not outputs.wanted(split):
            continue
        batch = read_batch(archive, member)
        source = f"{archive}:{member}"
        fine = int_labels(batch, b"fine_labels", source)
        coarse = int_labels(batch, b"coarse_labels", source)
        images = list(rows(batch))
        try:
            keys = unique_keys([name for name, _, _ in images])
        except ValueError as exc:
            raise ValueError(f"{source}: {exc}") from None
        # (key, row, fine, coarse) in file order, then shuffled if asked
        items = [(key, row, fine[i], coarse[i]) for key, (_, row, i) in zip(keys, images)]
        if args.shuffle:
            items = shuffled(items, args.seed)
        encoded = parallel_map(encode_row, (row for _, row, _, _ in items), workers=args.threads, chunksize=64)
        samples = (ImageCoarseClassificationData(key, image, label, coarse_label)
                   for (key, _, label, coarse_label), image in zip(items, encoded))
        outputs.write(split, samples, total=len(items))


def main(argv: Sequence[str] | None = None) -> Outputs:
    """Command-line entry point."""
    return run_converter(INFO, convert, argv)


if __name__ == "__main__":
    main()
