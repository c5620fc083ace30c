"""datadings\' ``CAMVID_write``: the command line of :class:`dings.sets.segmentation.camvid.CAMVID`.

Run ``python -m dings.sets.CAMVID_write --help``
or ``dings write CAMVID --help``; from Python,
``dings.sets.convert("CAMVID", indir, outdir, ...)``.
"""

from __future__ import annotations

from typing import Any

from .conversion import legacy_main
from .segmentation import camvid as _module

__all__ = list(_module.__all__)
__all__ += ["main"]

main = legacy_main("CAMVID")


def __getattr__(name: str) -> Any:
    """Everything else comes from the module itself, on first use (its metadata loads lazily)."""
    return getattr(_module, name)


if __name__ == "__main__":
    main()
