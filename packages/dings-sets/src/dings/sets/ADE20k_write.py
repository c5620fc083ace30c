"""datadings\' ``ADE20k_write``: the command line of :class:`dings.sets.segmentation.ade20k.ADE20k`.

Run ``python -m dings.sets.ADE20k_write --help``
or ``dings write ADE20k --help``; from Python,
``dings.sets.convert("ADE20k", indir, outdir, ...)``.
"""

from __future__ import annotations

from typing import Any

from .conversion import legacy_main
from .segmentation import ade20k as _module

__all__ = list(_module.__all__)
__all__ += ["main"]

main = legacy_main("ADE20k")


def __getattr__(name: str) -> Any:
    """Everything else comes from the module itself, on first use (its metadata loads lazily)."""
    return getattr(_module, name)


if __name__ == "__main__":
    main()
