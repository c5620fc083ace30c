"""Where datasets are downloaded and converted by default."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_dir"]


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """Return the data directory: ``path`` if given, else ``$DINGS_DATA``, else
    ``$XDG_DATA_HOME/dings`` (``~/.local/share/dings`` when XDG_DATA_HOME is unset)."""
    if path is not None:
        return Path(path).expanduser()
    if os.environ.get("DINGS_DATA"):
        return Path(os.environ["DINGS_DATA"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "dings"
