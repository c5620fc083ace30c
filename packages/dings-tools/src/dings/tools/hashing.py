"""Key hashes as datadings.tools offers them: ``hash_string`` (an int) and ``hash_string_bytes``."""

from __future__ import annotations

from dings.format import hash_string as _hash_string

__all__ = ["hash_string", "hash_string_bytes"]


def hash_string(s: str, salt: bytes = b"") -> int:
    """Return the 64-bit key hash of ``s`` (:func:`dings.format.hash_string`, datadings' argument names).

    Args:
        s: the string (a sample key).
        salt: up to 8 bytes of salt.
    """
    return _hash_string(s, salt)


def hash_string_bytes(s: str, salt: bytes = b"") -> bytes:
    """Return the 8-byte key hash of ``s``: the first 8 bytes of salted blake2s of its UTF-8 bytes.

    ``int.from_bytes(hash_string_bytes(s, salt), "big") == hash_string(s, salt)``.

    Args:
        s: the string (a sample key).
        salt: up to 8 bytes of salt.
    """
    return _hash_string(s, salt).to_bytes(8, "big")
