"""dings.tools: whole-dataset operations and the converters' toolbox (being built: see the issues)."""

from .__about__ import __version__

__all__ = ["__version__"]
