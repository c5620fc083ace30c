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


class CorruptIndexError(FormatError, ValueError):
    """An index file is truncated, malformed or inconsistent with the data file.

    A missing file raises ``FileNotFoundError`` instead.
    """


class KeyHashCollisionError(FormatError, RuntimeError, ValueError):
    """No salt made all key hashes distinct (usually because keys repeat).

    A ``RuntimeError`` as in datadings, and a ``ValueError`` since the keys are the cause.
    """
