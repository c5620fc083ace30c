"""Load pickles from dataset archives without running code: only numpy arrays are rebuilt.

Source archives are untrusted input. CIFAR ships Python-2 pickles of dicts holding numpy arrays;
this unpickler accepts exactly the globals needed to rebuild those and refuses anything else.
"""

from __future__ import annotations

import pickle
from typing import IO, Any

__all__ = ["UnsafePickleError", "load_pickle"]

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),  # protocol-2 pickles written by Python 3 encode bytes this way
}


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle refers to something other than plain data and numpy arrays."""


class _DataOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise UnsafePickleError(f"refusing to load {module}.{name} from a data file: only numpy arrays are allowed")


def load_pickle(file: IO[bytes], name: str = "pickle") -> Any:
    """Load a pickle of plain data and numpy arrays (Python-2 pickles read with bytes keys).

    Args:
        file: binary file object.
        name: file name for error messages.

    Raises:
        UnsafePickleError: the pickle wants to import anything but numpy's array constructors.
        ValueError: the file is not a readable pickle.
    """
    try:
        return _DataOnly(file, encoding="bytes").load()
    except UnsafePickleError as exc:
        raise UnsafePickleError(f"{name}: {exc}") from None
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise ValueError(f"{name}: not a readable pickle ({exc}); download the archive again") from exc
