"""Docstring text that lists the keys of the samples a sample function makes (datadings' ``document_keys``)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["document_keys"]


def document_keys(
    typefun: Callable[..., dict[str, Any]],
    block: str = "Important:",
    prefix: str = "Samples have the following keys:",
    postfix: str = "",
) -> str:
    """Return a docstring block that lists the keys of the samples ``typefun`` makes.

    ``typefun`` is called once with ``1`` for each of its parameters, and the keys of the dict it
    returns are listed in order, one ``- ``"key"``` line each, indented by four spaces below
    ``block`` and ``prefix``, followed by ``postfix``.

    Args:
        typefun: a sample function such as ``dings.sets.samples.ImageClassificationData``.
        block: the block's heading (a Google-style section).
        prefix: the text before the list.
        postfix: the text after the list.

    Raises:
        TypeError: ``typefun`` does not return a dict.
    """
    count = len(inspect.signature(typefun).parameters)
    sample = typefun(*[1] * count)
    if not isinstance(sample, dict):
        raise TypeError(f"document_keys: {typefun!r} returned a {type(sample).__name__}, not a sample dict")
    items = "\n".join(f'    - ``"{key}"``' for key in sample)
    return f"{block}\n    {prefix}\n\n{items}\n{postfix}"
