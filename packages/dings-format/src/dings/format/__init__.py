"""dings.format: the dings file format (byte-compatible with datadings 3.4).

Packing with the format's exact settings, index files, atomic writers and a structural verifier.
"""

from .__about__ import __version__
from .checksums import CHECKSUMS_SUFFIX, compute_checksums, load_checksums, pack_checksums, sample_checksum
from .commit import Generation, check_committed, check_committed_pattern, check_generation, clean_temporaries, pin_generation
from .errors import (
    CorruptIndexError,
    DamagedDataError,
    DuplicateKeyError,
    FormatError,
    IncompleteCommitError,
    InvalidSampleError,
    KeyHashCollisionError,
    UnsafeDataError,
)
from .index import (
    hash_keys,
    hash_string,
    keys_len,
    legacy_index_len,
    legacy_load_index,
    load_filter,
    load_key_hashes,
    load_keys,
    load_md5,
    load_offsets,
    md5_file,
    write_filter,
    write_key_hashes,
    write_keys,
    write_md5,
    write_offsets,
)
from .label_names import LABEL_NAMES_SUFFIX, copy_label_names, load_label_names, write_label_names
from .packing import make_packer, make_unpacker, pack, packb, unpack, unpack_options, unpack_sample, unpackb
from .paths import DATASET_SUFFIXES, INDEX_SUFFIXES, JOURNAL_SUFFIX, LEGACY_INDEX_SUFFIX, MD5_SUFFIX, data_path, index_path
from .progress import Progress, progress_bar
from .sharded import ShardedWriter, shard_pattern
from .verify import VerifyReport, verify
from .writer import FileWriter, RawWriter, Writer, close_together

__all__ = [
    "__version__",
    "CHECKSUMS_SUFFIX",
    "load_checksums",
    "pack_checksums",
    "sample_checksum",
    "compute_checksums",
    "Generation",
    "check_committed",
    "check_committed_pattern",
    "check_generation",
    "clean_temporaries",
    "pin_generation",
    "IncompleteCommitError",
    "CorruptIndexError",
    "DamagedDataError",
    "DuplicateKeyError",
    "FormatError",
    "InvalidSampleError",
    "KeyHashCollisionError",
    "UnsafeDataError",
    "hash_keys",
    "hash_string",
    "keys_len",
    "legacy_index_len",
    "legacy_load_index",
    "load_filter",
    "load_key_hashes",
    "load_keys",
    "load_md5",
    "load_offsets",
    "md5_file",
    "write_filter",
    "write_key_hashes",
    "write_keys",
    "write_md5",
    "write_offsets",
    "LABEL_NAMES_SUFFIX",
    "copy_label_names",
    "load_label_names",
    "write_label_names",
    "make_packer",
    "make_unpacker",
    "pack",
    "packb",
    "unpack",
    "unpack_options",
    "unpackb",
    "DATASET_SUFFIXES",
    "INDEX_SUFFIXES",
    "JOURNAL_SUFFIX",
    "LEGACY_INDEX_SUFFIX",
    "MD5_SUFFIX",
    "unpack_sample",
    "data_path",
    "index_path",
    "Progress",
    "progress_bar",
    "FileWriter",
    "RawWriter",
    "Writer",
    "close_together",
    "ShardedWriter",
    "shard_pattern",
    "VerifyReport",
    "verify",
]
