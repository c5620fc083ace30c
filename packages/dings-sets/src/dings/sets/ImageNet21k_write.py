"""Convert ImageNet21k (``winter21_whole.tar.gz``) to ``train.msgpack`` and ``val.msgpack``.

The archive is read once, as a stream: it holds one tar per synset (``<wnid>.tar``); only the
10,450 synsets of :mod:`dings.sets.ImageNet21k_synsets` are used. Within a synset the images are
sorted by name: the first 50 go to ``val``, the rest to ``train``; both files are written at the
same time, in archive order. Every image is checked (and re-encoded when needed, see
``--compress``); images that cannot be decoded at all are skipped with a message on stderr. Run
``python -m dings.sets.ImageNet21k_write --help`` or ``dings write ImageNet21k --help``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tarfile
import tempfile
from collections.abc import Collection, Iterator, Sequence
from contextlib import ExitStack
from functools import partial
from pathlib import Path, PurePosixPath

from dings.tools import parallel_map

from ._imagenet import check_item, open_tar, tar_files
from .converter import Outputs, run_converter
from .ImageNet21k import INFO
from .samples import ImageNet21kData

__all__ = ["convert", "main", "synset_items"]

DATA = "winter21_whole.tar.gz"
#: synset tars up to this size are sorted in memory, larger ones in a temporary file
SPOOL_IN_MEMORY = 1 << 26

Item = tuple[tuple[str, str, str, int], bytes]  # ((split, where, key, label), image bytes)


def synset_items(archive: Path, splits: Collection[str] = ("train", "val")) -> Iterator[Item]:
    """Yield the images of the used synsets in archive order, each with its split and label.

    Args:
        archive: ``winter21_whole.tar.gz``.
        splits: the splits whose images are read (others are skipped without reading them).

    Raises:
        ValueError: the archive or a synset tar is unreadable.
    """
    from .ImageNet21k_synsets import SYNSETS, VAL_SAMPLES_PER_SYNSET

    with open_tar(None, archive, str(archive)) as outer:
        for member, handle in tar_files(outer, str(archive)):
            label = SYNSETS.get(PurePosixPath(member.name).stem)
            if label is None:
                continue
            where = f"{archive}:{member.name}"
            with tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY) as spool:
                try:
                    shutil.copyfileobj(handle, spool)
                except (tarfile.TarError, EOFError, OSError) as exc:
                    raise ValueError(f"{where}: cannot be read ({exc}); the archive is damaged, download it again") from exc
                spool.seek(0)
                try:
                    inner = tarfile.open(fileobj=spool, mode="r:*")
                    images = sorted((m for m in inner.getmembers() if m.isfile()), key=lambda m: m.name)
                except (tarfile.TarError, EOFError, OSError) as exc:
                    raise ValueError(f"{where}: not a readable tar ({exc}); the archive is damaged, download it again") from exc
                with inner:
                    for index, image in enumerate(images):
                        split = "val" if index < VAL_SAMPLES_PER_SYNSET else "train"
                        if split in splits:
                            content = inner.extractfile(image)
                            data = content.read() if content is not None else b""
                            yield (split, where, image.name, label), data


def convert(args: argparse.Namespace, files: dict[str, Path], outputs: Outputs) -> None:
    """Write the train and val splits of ImageNet21k (see the module docstring)."""
    from .ImageNet21k_synsets import SYNSET_TREE_LIST

    check = partial(check_item, compress=args.compress, subsampling=args.subsampling, dataset="ImageNet21k")
    with ExitStack() as stack:
        writers = {split: stack.enter_context(outputs.writer(split)) for split in ("train", "val")}
        wanted = [split for split, writer in writers.items() if writer is not None]
        if not wanted:
            return
        items = synset_items(files[DATA], wanted)
        for (split, where, key, label), image in parallel_map(check, items, workers=args.threads, chunksize=16):
            if image is None:
                print(f"{where}: skipping {key}: not a decodable image", file=sys.stderr)
                continue
            writers[split].write(ImageNet21kData(key, image, label, list(SYNSET_TREE_LIST[label])))


def main(argv: Sequence[str] | None = None) -> Outputs:
    """Command-line entry point."""
    return run_converter(INFO, convert, argv)


if __name__ == "__main__":
    main()
