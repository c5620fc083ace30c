"""datadings\' ``ImageNet21k_write``: the command line of :class:`dings.sets.classification.imagenet21k.ImageNet21k`.

Run ``python -m dings.sets.ImageNet21k_write --help``
or ``dings write ImageNet21k --help``; from Python,
``dings.sets.convert("ImageNet21k", indir, outdir, ...)``.
"""

from __future__ import annotations

from typing import Any

from .conversion import legacy_main
from .classification import imagenet21k as _module

__all__ = list(_module.__all__)
__all__ += ["main"]

main = legacy_main("ImageNet21k")


def __getattr__(name: str) -> Any:
    """Everything else comes from the module itself, on first use (its metadata loads lazily)."""
    return getattr(_module, name)


if __name__ == "__main__":
    main()
