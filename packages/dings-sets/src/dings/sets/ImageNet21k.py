"""ImageNet21k (winter 2021 release, ImageNet-21K-P selection): catalog entry.

Class list, descriptions and label trees are in :mod:`dings.sets.ImageNet21k_synsets`.
"""

from __future__ import annotations

from ._imagenet import COMPRESS_OPTIONS
from .catalog import DatasetInfo, SourceFile, Split

__all__ = ["INFO"]

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
