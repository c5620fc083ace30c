"""datadings\' ``MIT1003_write``: the command line of :class:`dings.sets.saliency.mit1003.MIT1003`.

Run ``python -m dings.sets.MIT1003_write --help``
or ``dings write MIT1003 --help``; from Python,
``dings.sets.convert("MIT1003", indir, outdir, ...)``.
"""

from __future__ import annotations

from typing import Any

from .conversion import legacy_main
from .saliency import mit1003 as _module

__all__ = list(_module.__all__)
__all__ += ["main"]

main = legacy_main("MIT1003")


def __getattr__(name: str) -> Any:
    """Everything else comes from the module itself, on first use (its metadata loads lazily)."""
    return getattr(_module, name)


if __name__ == "__main__":
    main()
