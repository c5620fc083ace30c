"""The metadata files shipped in ``dings/sets/meta/``: their paths, and reading them (one place for
every domain)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dings.tools import load_json, open_comp

__all__ = ["META_DIR", "load_meta", "meta_path", "read_meta_lines"]

#: the folder of the shipped metadata files
META_DIR = Path(__file__).with_name("meta")


def meta_path(name: str) -> Path:
    """Return the path of the shipped metadata file ``name``.

    Raises:
        FileNotFoundError: the file is not there (a broken installation).
    """
    path = META_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: shipped metadata file is missing; reinstall dings-sets")
    return path


def read_meta_lines(name: str) -> list[str]:
    """Return the non-empty lines of the shipped (possibly compressed) text file ``name``."""
    with open_comp(meta_path(name), "rt", encoding="utf-8") as f:
        return [line.rstrip("\r\n") for line in f if line.strip()]


def load_meta(name: str) -> Any:
    """Load the shipped (possibly gzip/xz-compressed) JSON file ``name``."""
    return load_json(meta_path(name))
