"""dings.readers: read dings/datadings datasets."""

from .__about__ import __version__
from .braces import MAX_EXPANSION, expand_braces
from .byte_source import BLOCK_SIZE, ByteSource, read_index_file
from .directory_reader import DirectoryReader
from .labels import UnknownLabelError, natural_sort_key
from .list_reader import ListReader, noop
from .local import FileSource, LocalIndexSource
from .msgpack_reader import MsgpackReader
from .order import ORDER_MODES, EpochOrder
from .ranges import Range
from .reader import Reader, Spans
from .remote import RemoteMsgpackReader, RemoteSource
from .remote_fs import RemoteError, RemoteFiles, RetryPolicy, data_url, is_url, join_url, url_name
from .repeating import Cycler, Repeater
from .sharded_reader import ShardedReader
from .shuffling import QuasiShuffler, Shuffler
from .specs import DatasetSpec, open_dataset, resolve_dataset
from .storages import ANY_SCHEME, Storage, register_storage, storage_for, unregister_storage, url_scheme
from .subsets import ClassFilter, FractionRange, IndexedReader, Oversample, read_labels
from .wrapping import Augment
from .zipfile_reader import ZipFileReader

__all__ = [
    "__version__",
    "ANY_SCHEME",
    "Augment",
    "DatasetSpec",
    "MAX_EXPANSION",
    "BLOCK_SIZE",
    "ByteSource",
    "ClassFilter",
    "Cycler",
    "DirectoryReader",
    "EpochOrder",
    "FileSource",
    "FractionRange",
    "IndexedReader",
    "ListReader",
    "LocalIndexSource",
    "MsgpackReader",
    "ORDER_MODES",
    "Oversample",
    "QuasiShuffler",
    "Range",
    "Reader",
    "RemoteError",
    "RemoteFiles",
    "RemoteMsgpackReader",
    "RemoteSource",
    "Repeater",
    "RetryPolicy",
    "ShardedReader",
    "Shuffler",
    "Spans",
    "Storage",
    "UnknownLabelError",
    "ZipFileReader",
    "data_url",
    "expand_braces",
    "is_url",
    "join_url",
    "natural_sort_key",
    "noop",
    "open_dataset",
    "read_labels",
    "resolve_dataset",
    "read_index_file",
    "read_labels",
    "register_storage",
    "storage_for",
    "unregister_storage",
    "url_name",
    "url_scheme",
]
