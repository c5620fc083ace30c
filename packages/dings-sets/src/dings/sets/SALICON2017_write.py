"""datadings\' ``SALICON2017_write``: the command line of :class:`dings.sets.saliency.salicon2017.SALICON2017`.

Run ``python -m dings.sets.SALICON2017_write --help``
or ``dings write SALICON2017 --help``; from Python,
``dings.sets.convert("SALICON2017", indir, outdir, ...)``.
"""

from __future__ import annotations

from typing import Any

from .conversion import legacy_main
from .saliency import salicon2017 as _module

__all__ = list(_module.__all__)
__all__ += ["main"]

main = legacy_main("SALICON2017")


def __getattr__(name: str) -> Any:
    """Everything else comes from the module itself, on first use (its metadata loads lazily)."""
    return getattr(_module, name)


if __name__ == "__main__":
    main()
