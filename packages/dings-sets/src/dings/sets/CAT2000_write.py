"""datadings\' ``CAT2000_write``: the command line of :class:`dings.sets.saliency.cat2000.CAT2000`.

Run ``python -m dings.sets.CAT2000_write --help``
or ``dings write CAT2000 --help``; from Python,
``dings.sets.convert("CAT2000", indir, outdir, ...)``.
"""

from __future__ import annotations

from typing import Any

from .conversion import legacy_main
from .saliency import cat2000 as _module

__all__ = list(_module.__all__)
__all__ += ["main"]

main = legacy_main("CAT2000")


def __getattr__(name: str) -> Any:
    """Everything else comes from the module itself, on first use (its metadata loads lazily)."""
    return getattr(_module, name)


if __name__ == "__main__":
    main()
