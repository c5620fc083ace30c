"""datadings\' ``InriaBuildings_write``: the command line of :class:`dings.sets.remote_sensing.inriabuildings.InriaBuildings`.

Run ``python -m dings.sets.InriaBuildings_write --help``
or ``dings write InriaBuildings --help``; from Python,
``dings.sets.convert("InriaBuildings", indir, outdir, ...)``.
"""

from __future__ import annotations

from typing import Any

from .conversion import legacy_main
from .remote_sensing import inriabuildings as _module

__all__ = list(_module.__all__)
__all__ += ["main"]

main = legacy_main("InriaBuildings")


def __getattr__(name: str) -> Any:
    """Everything else comes from the module itself, on first use (its metadata loads lazily)."""
    return getattr(_module, name)


if __name__ == "__main__":
    main()
