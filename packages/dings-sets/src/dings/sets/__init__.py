"""dings.sets: the dataset catalog, the converter framework and the dataset converters."""

from .__about__ import __version__
from .catalog import DOMAINS, DatasetInfo, Option, SourceFile, Split
from .registry import UnknownDatasetError, data_dir, get, list_datasets, orphans, prepare, search, vocabulary

__all__ = [
    "DOMAINS",
    "DatasetInfo",
    "Option",
    "SourceFile",
    "Split",
    "UnknownDatasetError",
    "__version__",
    "data_dir",
    "get",
    "list_datasets",
    "orphans",
    "prepare",
    "search",
    "vocabulary",
]
