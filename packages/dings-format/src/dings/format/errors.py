"""Exceptions of dings.format.

Every exception subclasses both :class:`FormatError` (catch everything from this package) and the
builtin that describes it best (catch it like any other ``ValueError``/``TypeError``).
"""

from __future__ import annotations


class FormatError(Exception):
    """Base class of every error raised by dings.format."""


class UnsafeDataError(FormatError, ValueError):
    """Data would need pickle to decode or encode (an object-dtype numpy array)."""


class InvalidSampleError(FormatError, ValueError):
    """A sample cannot be written: missing, non-str or reserved key, or a value msgpack cannot hold."""


class DuplicateKeyError(InvalidSampleError):
    """A sample's key was already written to the same dataset."""


class DamagedDataError(FormatError, ValueError):
    """A dataset's files are damaged: a sample does not decode, or data and index disagree.

    Every failure caused by damaged data raises this class (or a subclass), never an internal
    exception of msgpack or numpy. The message names the file and, when known, the sample index
    and key; they are also kept as attributes.

    Attributes:
        path: the damaged file, or None.
        index: the position of the damaged sample, or None.
        key: the damaged sample's key, or None.
    """

    def __init__(self, message: str, *, path: object = None, index: int | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.index = index
        self.key = key


class CorruptIndexError(DamagedDataError):
    """An index file is truncated, malformed or inconsistent with the data file.

    A missing file raises ``FileNotFoundError`` instead.
    """


class IncompleteCommitError(DamagedDataError):
    """A dataset is half-committed (a writer died while renaming its files) and cannot be repaired
    here, or it was replaced while a reader had it open. Never read as if it were whole."""


class OutputIsInputError(FormatError, ValueError):
    """An output path is, contains or is inside an input path: writing it would destroy the input."""


class KeyHashCollisionError(FormatError, RuntimeError, ValueError):
    """No salt made all key hashes distinct (usually because keys repeat).

    A ``RuntimeError`` as in datadings, and a ``ValueError`` since the keys are the cause.
    """


class OutputLockedError(FormatError, RuntimeError):
    """Another process (of another job) is writing the same output; nothing was written.

    Attributes:
        path: the output's lock file.
    """

    def __init__(self, message: str, *, path: object = None) -> None:
        super().__init__(message)
        self.path = path
