"""datadings\' ``RIT18_write``: the command line of :class:`dings.sets.remote_sensing.rit18.RIT18`.

Run ``python -m dings.sets.RIT18_write --help``
or ``dings write RIT18 --help``; from Python,
``dings.sets.convert("RIT18", indir, outdir, ...)``.
"""

from __future__ import annotations

from typing import Any

from .conversion import legacy_main
from .remote_sensing import rit18 as _module

__all__ = list(_module.__all__)
__all__ += ["main"]

main = legacy_main("RIT18")


def __getattr__(name: str) -> Any:
    """Everything else comes from the module itself, on first use (its metadata loads lazily)."""
    return getattr(_module, name)


if __name__ == "__main__":
    main()
