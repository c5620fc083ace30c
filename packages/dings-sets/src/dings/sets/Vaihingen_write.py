"""datadings\' ``Vaihingen_write``: the command line of :class:`dings.sets.remote_sensing.vaihingen.Vaihingen`.

Run ``python -m dings.sets.Vaihingen_write --help``
or ``dings write Vaihingen --help``; from Python,
``dings.sets.convert("Vaihingen", indir, outdir, ...)``.
"""

from __future__ import annotations

from typing import Any

from .conversion import legacy_main
from .remote_sensing import vaihingen as _module

__all__ = list(_module.__all__)
__all__ += ["main"]

main = legacy_main("Vaihingen")


def __getattr__(name: str) -> Any:
    """Everything else comes from the module itself, on first use (its metadata loads lazily)."""
    return getattr(_module, name)


if __name__ == "__main__":
    main()
