"""dings.readers: read dings/datadings datasets."""

from .__about__ import __version__
from .msgpack_reader import MsgpackReader
from .reader import Reader

__all__ = ["__version__", "MsgpackReader", "Reader"]
