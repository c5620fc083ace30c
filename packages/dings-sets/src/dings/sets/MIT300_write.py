"""datadings\' ``MIT300_write``: the command line of :class:`dings.sets.saliency.mit300.MIT300`.

Run ``python -m dings.sets.MIT300_write --help``
or ``dings write MIT300 --help``; from Python,
``dings.sets.convert("MIT300", indir, outdir, ...)``.
"""

from __future__ import annotations

from typing import Any

from .conversion import legacy_main
from .saliency import mit300 as _module

__all__ = list(_module.__all__)
__all__ += ["main"]

main = legacy_main("MIT300")


def __getattr__(name: str) -> Any:
    """Everything else comes from the module itself, on first use (its metadata loads lazily)."""
    return getattr(_module, name)


if __name__ == "__main__":
    main()
