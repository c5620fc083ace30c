"""datadings\' ``Coutrot1_write``: the command line of :class:`dings.sets.saliency.coutrot1.Coutrot1`.

Run ``python -m dings.sets.Coutrot1_write --help``
or ``dings write Coutrot1 --help``; from Python,
``dings.sets.convert("Coutrot1", indir, outdir, ...)``.
"""

from __future__ import annotations

from typing import Any

from .conversion import legacy_main
from .saliency import coutrot1 as _module

__all__ = list(_module.__all__)
__all__ += ["main"]

main = legacy_main("Coutrot1")


def __getattr__(name: str) -> Any:
    """Everything else comes from the module itself, on first use (its metadata loads lazily)."""
    return getattr(_module, name)


if __name__ == "__main__":
    main()
