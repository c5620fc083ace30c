"""ILSVRC2012 (ImageNet-1k): catalog entry. The class list is in :mod:`dings.sets.ILSVRC2012_synsets`."""

from __future__ import annotations

from ._imagenet import COMPRESS_OPTIONS
from .catalog import DatasetInfo, SourceFile, Split

__all__ = ["INFO"]

_REGISTER = (
    "register at https://image-net.org/download-images.php and download it from the ILSVRC2012 "
    "(ImageNet 2012 classification) page"
)

INFO = DatasetInfo(
    name="ILSVRC2012",
    aliases=("ImageNet", "ImageNet-1k", "ImageNet1k", "ILSVRC-2012", "imagenet"),
    domain="classification",
    tasks=("image-classification",),
    tags=("imagenet", "1000-classes", "wordnet", "benchmark", "large"),
    description=(
        "The ImageNet Large Scale Visual Recognition Challenge 2012 classification data: 1,281,167 training "
        "and 50,000 validation photos of 1,000 WordNet synsets (objects, animals, scenes) collected from the "
        "web and labelled by crowd workers. Training images come as one tar per class; validation labels "
        "come from the shipped ground truth. The test set has no public labels and is not converted."
    ),
    homepage="https://image-net.org/challenges/LSVRC/2012/",
    sources=(
        SourceFile("ILSVRC2012_img_train.tar", md5="1d675b47d978889d74fa0da5fadfb00e", size=147_897_477_120,
                   instructions=_REGISTER),
        SourceFile("ILSVRC2012_img_val.tar", md5="29b22e2961454d5413ddabcf34fc5622", size=6_744_924_160,
                   instructions=_REGISTER),
    ),
    splits=(Split("train", 1_281_167), Split("val", 50_000)),
    sample_keys={
        "key": "str, the file name inside its tar (n01440764_10026.JPEG, ILSVRC2012_val_00000001.JPEG)",
        "image": "bytes, JPEG (the original file, or re-encoded: see --compress)",
        "label": "int 0..999, line of the wnid in ILSVRC2012_synsets (SYNSET_LIST)",
    },
    options=COMPRESS_OPTIONS,
    common_options=("threads",),
    differences=(
        "-y/--no-confirm is honoured (datadings' ILSVRC2012 writer always asks before overwriting)",
        "the output order is the archive order for any -t/--threads (datadings may reorder samples when "
        "threaded), so a conversion is reproducible byte for byte",
        "images are decoded with Pillow: JPEG DCT down-scaling uses the scales 1/1, 1/2, 1/4 and 1/8 "
        "(datadings' simplejpeg also has m/8 scales), so a re-encoded image can have a different size "
        "before the 500-pixel resize rule; the rules themselves are the same",
        "--subsampling offers 444, 422, 420 and Gray; 440 and 411 are not offered because Pillow's JPEG "
        "encoder cannot write them",
        "an image that cannot be decoded at all stops the conversion with an error naming the member and "
        "leaves no output (datadings fails with an internal UnboundLocalError and keeps a partial train file)",
        "members that are not <wnid>.tar of an ILSVRC2012 class, and validation files without a ground-truth "
        "label, are errors that name the member",
    ),
    extra="classification",
    converter="dings.sets.ILSVRC2012_write",
)
