"""datadings\' ``VOC2012_write``: the command line of :class:`dings.sets.segmentation.voc2012.VOC2012`.

Run ``python -m dings.sets.VOC2012_write --help``
or ``dings write VOC2012 --help``; from Python,
``dings.sets.convert("VOC2012", indir, outdir, ...)``.
"""

from __future__ import annotations

from typing import Any

from .conversion import legacy_main
from .segmentation import voc2012 as _module

__all__ = list(_module.__all__)
__all__ += ["main"]

main = legacy_main("VOC2012")


def __getattr__(name: str) -> Any:
    """Everything else comes from the module itself, on first use (its metadata loads lazily)."""
    return getattr(_module, name)


if __name__ == "__main__":
    main()
