"""dings.tools: whole-dataset operations and the converters' toolbox."""

from .__about__ import __version__
from .download import DownloadError, download
from .progress import print_over, progress_bar
from .sources import (
    ChecksumMismatchError,
    Md5FileError,
    MissingSourceFileError,
    SourceFileError,
    hash_md5hex,
    load_md5file,
    locate_files,
    prepare_indir,
    verify_files,
)

__all__ = [
    "ChecksumMismatchError",
    "DownloadError",
    "Md5FileError",
    "MissingSourceFileError",
    "SourceFileError",
    "__version__",
    "download",
    "hash_md5hex",
    "load_md5file",
    "locate_files",
    "prepare_indir",
    "print_over",
    "progress_bar",
    "verify_files",
]
