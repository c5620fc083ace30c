"""dings.tools: whole-dataset operations and the converters' toolbox."""

from .__about__ import __version__
from .progress import print_over, progress_bar

__all__ = [
    "__version__",
    "print_over",
    "progress_bar",
]
