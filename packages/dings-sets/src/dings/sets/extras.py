"""Import the optional dependencies of a dataset domain only where a converter uses them."""

from __future__ import annotations

import importlib
from types import ModuleType

from dings.tools import MissingExtraError

__all__ = ["MissingExtraError", "require_extra"]


def require_extra(module: str, extra: str, dataset: str) -> ModuleType:
    """Import and return ``module``, or raise an ImportError naming the dings-sets extra to install.

    Args:
        module: dotted module name, e.g. ``"PIL.Image"``.
        extra: the dings-sets extra that provides it, e.g. ``"classification"``.
        dataset: the dataset whose converter needs it (for the message).

    Raises:
        MissingExtraError: an ``ImportError`` saying ``pip install "dings-sets[<extra>]"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f'the {dataset} converter needs {module!r}, which is not installed: pip install "dings-sets[{extra}]"',
            name=module,
        ) from exc
