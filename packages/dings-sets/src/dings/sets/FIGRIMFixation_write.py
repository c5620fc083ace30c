"""datadings\' ``FIGRIMFixation_write``: the command line of :class:`dings.sets.saliency.figrimfixation.FIGRIMFixation`.

Run ``python -m dings.sets.FIGRIMFixation_write --help``
or ``dings write FIGRIMFixation --help``; from Python,
``dings.sets.convert("FIGRIMFixation", indir, outdir, ...)``.
"""

from __future__ import annotations

from typing import Any

from .conversion import legacy_main
from .saliency import figrimfixation as _module

__all__ = list(_module.__all__)
__all__ += ["main"]

main = legacy_main("FIGRIMFixation")


def __getattr__(name: str) -> Any:
    """Everything else comes from the module itself, on first use (its metadata loads lazily)."""
    return getattr(_module, name)


if __name__ == "__main__":
    main()
