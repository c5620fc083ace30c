"""ImageNet21k (winter 2021 release, ImageNet-21K-P selection): catalog entry.

Class list, descriptions and label trees are in :mod:`dings.sets.ImageNet21k_synsets`.
"""

from __future__ import annotations

import shutil
import sys
import tarfile
import tempfile
from collections.abc import Collection, Iterator
from contextlib import ExitStack
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any


from ..builder import Builder
from ..catalog import DatasetInfo, SourceFile, Split
from ..converter import Outputs
from ..samples import ImageNet21kData
from ._imagenet import COMPRESS_OPTIONS, check_item, open_tar, tar_files

__all__ = ["INFO", "ImageNet21k", "synset_items"]

INFO = DatasetInfo(
    name="ImageNet21k",
    aliases=("ImageNet-21k", "ImageNet21K", "ImageNet-21K-P", "imagenet21k", "winter21"),
    domain="classification",
    tasks=("image-classification", "hierarchical-classification"),
    tags=("imagenet", "wordnet", "label-tree", "pretraining", "large"),
    description=(
        "The full ImageNet (winter 2021 release: about 13 million web photos of 19,167 WordNet synsets), reduced "
        "as in Alibaba-MIIL's ImageNet-21K-P to the 10,450 synsets with more than 500 images. Each sample has "
        "its class label and its label tree, the class followed by its ancestors in MIIL's semantic hierarchy. "
        "The first 50 images (by file name) of every synset form the validation split, the rest the training split."
    ),
    homepage="https://image-net.org/",
    sources=(
        SourceFile(
            "winter21_whole.tar.gz",
            md5="ab313ce03179fd803a401b02c651c0a2",
            instructions=(
                "register at https://image-net.org/download-images.php and download the winter 2021 release "
                "(winter21_whole.tar.gz; also on academictorrents, info hash "
                "8ec0d8df0fbb507594557bce993920442f4f6477)"
            ),
        ),
    ),
    splits=(Split("train", 11_060_239), Split("val", 522_500)),
    sample_keys={
        "key": "str, the image's member name inside its synset tar (n00005787_123.JPEG)",
        "image": "bytes, JPEG (the original file, gunzipped, or re-encoded: see --compress)",
        "label": "int 0..10449, index of the wnid in ImageNet21k_synsets.SYNSET_LIST",
        "label_tree": "list of int, the label followed by its ancestors' labels (1 to 12 entries)",
    },
    options=COMPRESS_OPTIONS,
    common_options=("threads",),
    differences=(
        "imagenet21k_miil_tree.pth is neither downloaded nor read: it is a PyTorch pickle, and loading it would "
        "need torch and could run code from a downloaded file. Its label trees and descriptions are in the shipped "
        "ImageNet21k_synsets.json.xz (made from it), which is all the converter needs",
        "the output order is the archive order for any -t/--threads, so a conversion is reproducible byte for byte",
        "images are decoded with Pillow: JPEG DCT down-scaling uses the scales 1/1, 1/2, 1/4 and 1/8 "
        "(datadings' simplejpeg also has m/8 scales), so a re-encoded image can have a different size "
        "before the 500-pixel resize rule; the rules themselves are the same",
        "--subsampling offers 444, 422, 420 and Gray; 440 and 411 are not offered because Pillow's JPEG "
        "encoder cannot write them",
        "an image that cannot be decoded at all is skipped with a message on stderr, as documented for "
        "datadings, whose 3.4.7 converter instead fails there with an internal UnboundLocalError",
        "a gzip stream is unpacked only up to 256 MiB (a bound against gzip bombs); larger ones count as undecodable",
    ),
    extra="classification",
    converter="dings.sets.ImageNet21k_write",
)


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
    from .imagenet21k_synsets import SYNSETS, VAL_SAMPLES_PER_SYNSET

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
                    raise ValueError(
                        f"{where}: cannot be read ({exc}); the archive is damaged, download it again"
                    ) from exc
                spool.seek(0)
                try:
                    inner = tarfile.open(fileobj=spool, mode="r:*")
                    images = sorted((m for m in inner.getmembers() if m.isfile()), key=lambda m: m.name)
                except (tarfile.TarError, EOFError, OSError) as exc:
                    raise ValueError(
                        f"{where}: not a readable tar ({exc}); the archive is damaged, download it again"
                    ) from exc
                with inner:
                    for index, image in enumerate(images):
                        split = "val" if index < VAL_SAMPLES_PER_SYNSET else "train"
                        if split in splits:
                            content = inner.extractfile(image)
                            data = content.read() if content is not None else b""
                            yield (split, where, image.name, label), data


class ImageNet21k(Builder):
    """ImageNet21k's converter. The archive is read once, as a stream: it holds one tar per synset
    (``<wnid>.tar``); only the 10,450 synsets of :mod:`dings.sets.classification.imagenet21k_synsets`
    are used. Within a synset the images are sorted by name: the first 50 go to ``val``, the rest to
    ``train``; both files are written at the same time, in archive order. Every image is checked (and
    re-encoded when needed, see ``--compress``); images that cannot be decoded at all are skipped
    with a message on stderr."""

    info = INFO

    def write(self, outputs: Outputs) -> None:
        """Fill both splits in one pass over the archive."""
        from .imagenet21k_synsets import SYNSET_TREE_LIST

        options = self.options
        check = partial(check_item, compress=options.compress, subsampling=options.subsampling, dataset="ImageNet21k")
        with ExitStack() as stack:
            writers = {split: stack.enter_context(outputs.writer(split)) for split in ("train", "val")}
            wanted = [split for split, writer in writers.items() if writer is not None]
            if not wanted:
                return
            items = synset_items(self.files[DATA], wanted)
            for (split, where, key, label), image in self.map(check, items, chunksize=16):
                if image is None:
                    print(f"{where}: skipping {key}: not a decodable image", file=sys.stderr)
                    continue
                writer = writers[split]
                if writer is not None:
                    writer.write(ImageNet21kData(key, image, label, list(SYNSET_TREE_LIST[label])))

    def items(self, split: str) -> Iterator[Any]:
        """Not used: :meth:`write` reads both splits at once."""
        raise NotImplementedError("ImageNet21k writes both splits in one pass; see write()")
