"""dings.sets: the dataset catalog and converters (being built: see the issues)."""

from .__about__ import __version__

__all__ = ["__version__"]
