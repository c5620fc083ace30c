"""datadings\' module name for :mod:`dings.sets.classification.yfcc100m_validate`

(kept so that existing imports work).
"""

from __future__ import annotations

from typing import Any

from .classification import yfcc100m_validate as _module

__all__ = list(_module.__all__)


def __getattr__(name: str) -> Any:
    """Everything else comes from the module itself, on first use (its metadata loads lazily)."""
    return getattr(_module, name)
