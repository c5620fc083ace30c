"""The optional dependencies of a dataset domain, imported only where a converter uses them.

The import and the error type are dings.tools' (:func:`dings.tools.require`); only the
message differs: it names the dings-sets extra to install, not a dings-tools one.
"""

from __future__ import annotations

from types import ModuleType

from dings.tools import MissingExtraError, require

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
        return require(module, extra, f"the {dataset} converter")
    except MissingExtraError as exc:
        raise MissingExtraError(
            f'the {dataset} converter needs {module!r}, which is not installed: pip install "dings-sets[{extra}]"',
            name=module,
        ) from exc
