"""datadings\' ``CIFAR10_write``: the command line of :class:`dings.sets.classification.cifar10.CIFAR10`.

Run ``python -m dings.sets.CIFAR10_write --help``
or ``dings write CIFAR10 --help``; from Python,
``dings.sets.convert("CIFAR10", indir, outdir, ...)``.
"""

from __future__ import annotations

from typing import Any

from .conversion import legacy_main
from .classification import cifar10 as _module

__all__ = list(_module.__all__)
__all__ += ["main"]

main = legacy_main("CIFAR10")


def __getattr__(name: str) -> Any:
    """Everything else comes from the module itself, on first use (its metadata loads lazily)."""
    return getattr(_module, name)


if __name__ == "__main__":
    main()
