"""JSON from files dings did not write: one error naming the source, whatever the bytes are."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .errors import DamagedDataError

__all__ = ["parse_json"]


def parse_json(data: bytes | str, where: str, error: Callable[[str], Exception] = DamagedDataError) -> Any:
    """Decode JSON read from an untrusted file; any failure becomes one error naming ``where``.

    Invalid JSON, bytes that are not UTF-8 and nesting deeper than Python's recursion limit
    (``[[[[…]]]]``, which :func:`json.loads` fails with a ``RecursionError``) all raise
    ``error(f"{where}: …")``.

    Args:
        data: the JSON text (bytes: UTF-8, -16 or -32, as :func:`json.loads` detects).
        where: names the source for the message: a file, ``file:line`` or a member.
        error: the exception class (or factory) to raise; it takes the message.

    Raises:
        DamagedDataError: (or ``error``) the data is not JSON that can be decoded.
    """
    try:
        return json.loads(data)
    except RecursionError:
        raise error(f"{where}: JSON nested too deeply to decode; the file is damaged or hostile") from None
    except UnicodeDecodeError as exc:
        raise error(f"{where}: not valid JSON (not UTF-8 text: {exc.reason} at byte {exc.start})") from None
    except ValueError as exc:
        raise error(f"{where}: not valid JSON ({exc})") from None
