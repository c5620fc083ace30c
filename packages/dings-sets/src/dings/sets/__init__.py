"""dings.sets: the dataset catalog, the converter framework and the dataset converters.

Datasets live in one folder per domain (``classification``, ``saliency``, ``segmentation``,
``remote_sensing``, matching the install extras); each is a :class:`Builder` registered in the
``dings.sets`` entry-point group. Convert one with :func:`convert`.
"""

from .__about__ import __version__
from .builder import Builder
from .conversion import command_line, convert
from .catalog import DOMAINS, DatasetInfo, Option, SourceFile, Split
from .converter import ConversionError, Outputs
from .registry import (
    UnknownDatasetError,
    data_dir,
    get,
    get_builder,
    list_datasets,
    orphans,
    prepare,
    search,
    vocabulary,
)

__all__ = [
    "DOMAINS",
    "Builder",
    "ConversionError",
    "DatasetInfo",
    "Option",
    "Outputs",
    "SourceFile",
    "Split",
    "UnknownDatasetError",
    "__version__",
    "command_line",
    "convert",
    "data_dir",
    "get",
    "get_builder",
    "list_datasets",
    "orphans",
    "prepare",
    "search",
    "vocabulary",
]
