"""dings.tools: whole-dataset operations and the converters' toolbox."""

from .__about__ import __version__
from .bench import BenchResult, bench
from .convert_index import convert_index
from .info import DatasetInfo, KeySummary, info
from .merge import merge
from .progress import print_over, progress_bar
from .render import ImageInfo, cat, render_sample, render_value, sniff_image
from .shuffle import shuffle
from .split import sample, split
from .stage import StageResult, stage
from .verify import VerificationReport, verify

__all__ = [
    "BenchResult",
    "DatasetInfo",
    "ImageInfo",
    "KeySummary",
    "StageResult",
    "VerificationReport",
    "__version__",
    "bench",
    "cat",
    "convert_index",
    "info",
    "merge",
    "print_over",
    "progress_bar",
    "render_sample",
    "render_value",
    "sample",
    "shuffle",
    "sniff_image",
    "split",
    "stage",
    "verify",
]
