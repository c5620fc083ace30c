"""datadings\' ``CIFAR100_write``: the command line of :class:`dings.sets.classification.cifar100.CIFAR100`.

Run ``python -m dings.sets.CIFAR100_write --help``
or ``dings write CIFAR100 --help``; from Python,
``dings.sets.convert("CIFAR100", indir, outdir, ...)``.
"""

from __future__ import annotations

from typing import Any

from .conversion import legacy_main
from .classification import cifar100 as _module

__all__ = list(_module.__all__)
__all__ += ["main"]

main = legacy_main("CIFAR100")


def __getattr__(name: str) -> Any:
    """Everything else comes from the module itself, on first use (its metadata loads lazily)."""
    return getattr(_module, name)


if __name__ == "__main__":
    main()
