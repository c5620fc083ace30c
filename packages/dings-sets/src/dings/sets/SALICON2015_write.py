"""datadings\' ``SALICON2015_write``: the command line of :class:`dings.sets.saliency.salicon2015.SALICON2015`.

Run ``python -m dings.sets.SALICON2015_write --help``
or ``dings write SALICON2015 --help``; from Python,
``dings.sets.convert("SALICON2015", indir, outdir, ...)``.
"""

from __future__ import annotations

from typing import Any

from .conversion import legacy_main
from .saliency import salicon2015 as _module

__all__ = list(_module.__all__)
__all__ += ["main"]

main = legacy_main("SALICON2015")


def __getattr__(name: str) -> Any:
    """Everything else comes from the module itself, on first use (its metadata loads lazily)."""
    return getattr(_module, name)


if __name__ == "__main__":
    main()
