"""datadings\' ``ILSVRC2012_write``: the command line of :class:`dings.sets.classification.ilsvrc2012.ILSVRC2012`.

Run ``python -m dings.sets.ILSVRC2012_write --help``
or ``dings write ILSVRC2012 --help``; from Python,
``dings.sets.convert("ILSVRC2012", indir, outdir, ...)``.
"""

from __future__ import annotations

from typing import Any

from .conversion import legacy_main
from .classification import ilsvrc2012 as _module

__all__ = list(_module.__all__)
__all__ += ["main"]

main = legacy_main("ILSVRC2012")


def __getattr__(name: str) -> Any:
    """Everything else comes from the module itself, on first use (its metadata loads lazily)."""
    return getattr(_module, name)


if __name__ == "__main__":
    main()
