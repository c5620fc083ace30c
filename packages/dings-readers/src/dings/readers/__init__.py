"""dings.readers: read dings/datadings datasets."""

from .__about__ import __version__
from .augment import Cycler, QuasiShuffler, Range, Repeater, Shuffler
from .directory_reader import DirectoryReader
from .list_reader import ListReader, noop
from .msgpack_reader import MsgpackReader, RemoteMsgpackReader
from .reader import Reader, Spans
from .remote_fs import RemoteError, is_url
from .labels import natural_sort_key
from .sharded_reader import ShardedReader
from .zipfile_reader import ZipFileReader

__all__ = ["__version__", "MsgpackReader", "Reader", "Spans", "ShardedReader", "natural_sort_key",
           "ListReader", "DirectoryReader", "ZipFileReader", "noop",
           "Shuffler", "QuasiShuffler", "Cycler", "Repeater", "Range",
           "RemoteError", "RemoteMsgpackReader", "is_url"]
