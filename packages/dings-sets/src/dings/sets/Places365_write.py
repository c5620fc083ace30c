"""datadings\' ``Places365_write``: the command line of :class:`dings.sets.classification.places365.Places365`.

Run ``python -m dings.sets.Places365_write --help``
or ``dings write Places365 --help``; from Python,
``dings.sets.convert("Places365", indir, outdir, ...)``.
"""

from __future__ import annotations

from typing import Any

from .conversion import legacy_main
from .classification import places365 as _module

__all__ = list(_module.__all__)
__all__ += ["main"]

main = legacy_main("Places365")


def __getattr__(name: str) -> Any:
    """Everything else comes from the module itself, on first use (its metadata loads lazily)."""
    return getattr(_module, name)


if __name__ == "__main__":
    main()
