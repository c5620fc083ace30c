"""datadings\' ``ANP460_write``: the command line of :class:`dings.sets.saliency.anp460.ANP460`.

Run ``python -m dings.sets.ANP460_write --help``
or ``dings write ANP460 --help``; from Python,
``dings.sets.convert("ANP460", indir, outdir, ...)``.
"""

from __future__ import annotations

from typing import Any

from .conversion import legacy_main
from .saliency import anp460 as _module

__all__ = list(_module.__all__)
__all__ += ["main"]

main = legacy_main("ANP460")


def __getattr__(name: str) -> Any:
    """Everything else comes from the module itself, on first use (its metadata loads lazily)."""
    return getattr(_module, name)


if __name__ == "__main__":
    main()
