"""Key hashes as bytes (datadings' ``hash_string_bytes``); the int form is :func:`dings.format.hash_string`."""

from __future__ import annotations

from dings.format import hash_string

__all__ = ["hash_string", "hash_string_bytes"]


def hash_string_bytes(s: str, salt: bytes = b"") -> bytes:
    """Return the 8-byte key hash of ``s``: the first 8 bytes of salted blake2s of its UTF-8 bytes.

    ``int.from_bytes(hash_string_bytes(s, salt), "big") == hash_string(s, salt)``.

    Args:
        s: the string (a sample key).
        salt: up to 8 bytes of salt.
    """
    return hash_string(s, salt).to_bytes(8, "big")
