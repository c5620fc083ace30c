"""Import an optional dependency (a pip "extra" of dings-tools) only where it is used."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["MissingExtraError", "require"]


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message says which extra to install.

    Attributes:
        extra: the name of the dings-tools extra that installs it (``"table"``), if known; the
            ``dings`` command names the dings-cli extra of the same name.
    """

    def __init__(self, *args: object, name: str | None = None, extra: str | None = None) -> None:
        super().__init__(*args, name=name)
        self.extra = extra


def require(module: str, extra: str, feature: str | None = None) -> ModuleType:
    """Import and return ``module``, or raise an ImportError that says which extra installs it.

    Args:
        module: dotted module name, e.g. ``"PIL.Image"``.
        extra: the dings-tools extra that provides it, e.g. ``"image"``.
        feature: what needs the module (shown in the error), e.g. ``"encode_image"``.

    Raises:
        MissingExtraError: (an ``ImportError``) naming ``pip install "dings-tools[<extra>]"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        who = f"{feature} needs" if feature else "this needs"
        raise MissingExtraError(
            f'{who} the optional module {module!r}, which is not installed: pip install "dings-tools[{extra}]"',
            name=module,
            extra=extra,
        ) from exc
