"""dings.torch: PyTorch datasets over dings readers (being built: see the issues)."""

from .__about__ import __version__

__all__ = ["__version__"]
