"""Checks that explain why a sample cannot be written.

The writers pack first and only walk the sample when packing failed, so valid samples pay nothing
for these checks; an invalid one gets an error naming its key and the offending value's place.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InvalidSampleError, UnsafeDataError

__all__ = ["MAX_LENGTH", "RESERVED_KEYS", "check_key", "explain_pack_error", "find_problem"]

#: longest str/bin and most entries of a map or array msgpack can hold (2**32 - 1)
MAX_LENGTH = 2**32 - 1
#: top-level sample keys used by msgpack-numpy's encoding
RESERVED_KEYS = ("nd", "complex")
_INT_RANGE = (-(2**63), 2**64 - 1)


def check_key(sample: Any) -> str:
    """Return the sample's key, or raise :class:`InvalidSampleError` if it is missing or not a str,
    if the sample is not a dict, or if it uses a reserved top-level key.

    Args:
        sample: the sample to check.
    """
    if not isinstance(sample, dict):
        raise InvalidSampleError(f"a sample must be a dict with a str 'key', got {type(sample).__name__}")
    try:
        key = sample["key"]
    except KeyError:
        raise InvalidSampleError("sample has no 'key': every sample needs a unique str 'key'") from None
    if type(key) is not str:
        raise InvalidSampleError(f"sample key {key!r} is a {type(key).__name__}; keys must be str")
    for reserved in RESERVED_KEYS:
        if reserved in sample:
            raise InvalidSampleError(
                f"sample {key!r} uses the reserved key {reserved!r} (msgpack-numpy uses it); rename it"
            )
    return key


def find_problem(value: Any, where: str = "sample") -> str | None:
    """Return a description of the first value msgpack cannot hold, or ``None``.

    Args:
        value: the value to walk (maps, lists and tuples are walked recursively).
        where: how to name ``value`` in the description.
    """
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return None
    if isinstance(value, int):
        if not _INT_RANGE[0] <= value <= _INT_RANGE[1]:
            return f"{where} is an int beyond 64 bits ({value.bit_length()} bits); store it as str or bytes"
        return None
    if isinstance(value, str):
        if len(value) > MAX_LENGTH // 4 and len(value.encode("utf-8", "surrogatepass")) > MAX_LENGTH:
            return f"{where} is a str longer than 2**32-1 bytes; split it"
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        if memoryview(value).nbytes > MAX_LENGTH:
            return f"{where} is {memoryview(value).nbytes} bytes, more than 2**32-1; split it"
        return None
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            return f"{where} is an object-dtype array, which would need pickle; convert it to a numeric dtype"
        if value.nbytes > MAX_LENGTH:
            return f"{where} is an array of {value.nbytes} bytes, more than 2**32-1; split it"
        return None
    if isinstance(value, (np.generic, complex)):
        return None
    if isinstance(value, dict):
        if len(value) > MAX_LENGTH:
            return f"{where} is a map with more than 2**32-1 entries"
        for k, v in value.items():
            problem = find_problem(k, f"{where} key {k!r}") or find_problem(v, f"{where}[{k!r}]")
            if problem:
                return problem
        return None
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_LENGTH:
            return f"{where} is a list with more than 2**32-1 entries"
        for i, v in enumerate(value):
            problem = find_problem(v, f"{where}[{i}]")
            if problem:
                return problem
        return None
    return f"{where} has type {type(value).__name__}, which msgpack cannot store"


def explain_pack_error(sample: dict, key: str, exc: BaseException) -> InvalidSampleError | UnsafeDataError:
    """Turn an exception raised while packing ``sample`` into an error naming the key and the value.

    Args:
        sample: the sample that failed to pack.
        key: its key.
        exc: what the packer raised.
    """
    problem = None
    try:
        problem = find_problem(sample)
    except RecursionError:
        problem = "sample is nested too deeply"
    cls = UnsafeDataError if isinstance(exc, UnsafeDataError) else InvalidSampleError
    return cls(f"cannot write sample {key!r}: {problem or exc}")
