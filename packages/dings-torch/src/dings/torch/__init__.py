"""dings.torch: PyTorch datasets over dings readers that shuffle, shard, resume and stay fast."""

from dings.readers import ClassFilter, FractionRange, IndexedReader, Oversample, read_labels

from .__about__ import __version__
from .base import PARAMS_KEY, Dataset, DatasetBase
from .batch_decode import BatchDecoder, BatchError, collate_columns
from .batch_loader import Loader
from .columns import BufferPool, Column
from .image_crops import DecodeCenterCrop, DecodeRandomResizedCrop
from .iterable import IterableDataset
from .loader import DataLoader, collate, enlarge_pipe
from .mixing import CutMix, Mixup, MixupCutMix
from .repeat import Repeat
from .shared_memory import SharedMemoryReader
from .transforms import Compose, CompressedToPIL, dict2tuple, no_rng
from .wrappers import DatasetWrapper, LabelSmoothing, SelectKeys, soft_label

__all__ = [
    "BatchDecoder",
    "BatchError",
    "BufferPool",
    "Column",
    "Loader",
    "collate_columns",
    "ClassFilter",
    "Compose",
    "CompressedToPIL",
    "CutMix",
    "DataLoader",
    "Dataset",
    "DecodeCenterCrop",
    "DecodeRandomResizedCrop",
    "DatasetBase",
    "DatasetWrapper",
    "FractionRange",
    "IndexedReader",
    "IterableDataset",
    "LabelSmoothing",
    "Mixup",
    "MixupCutMix",
    "Oversample",
    "PARAMS_KEY",
    "Repeat",
    "SelectKeys",
    "SharedMemoryReader",
    "__version__",
    "dict2tuple",
    "collate",
    "enlarge_pipe",
    "no_rng",
    "read_labels",
    "soft_label",
]
