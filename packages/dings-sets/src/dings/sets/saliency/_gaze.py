"""What the eye-tracking converters share: zip access with clear errors, .mat bytes, point arrays."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from dings.tools import loadmat

from ..extras import require_extra

__all__ = ["is_clutter", "load_mat_bytes", "open_zip", "points", "read_member"]

#: path components of archive clutter (macOS resource forks, Subversion folders)
_CLUTTER_PARTS = {"__MACOSX", ".svn", ".DS_Store"}


def open_zip(path: Path, url: str | None = None) -> zipfile.ZipFile:
    """Open the zip archive ``path``; a file that is not a zip gives one clear line.

    Args:
        path: the archive.
        url: where it comes from, named in the message when the file is an HTML page (such as
            Google Drive's "cannot scan this file for viruses" confirmation page) instead of the zip.

    Raises:
        ValueError: not a readable zip archive.
    """
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        with open(path, "rb") as f:
            head = f.read(512).lstrip().lower()
        if head.startswith((b"<!doctype html", b"<html")):
            source = f" from {url}" if url else ""
            raise ValueError(
                f"{path}: an HTML page, not a zip archive (a download page instead of the file?); "
                f"delete it, download the file{source} in a web browser and put it at {path}"
            ) from None
        raise ValueError(f"{path}: not a readable zip archive ({exc}); delete it and download it again") from None


def read_member(archive: zipfile.ZipFile, member: str) -> bytes:
    """Return the bytes of ``member``; a missing or broken member gives one clear line.

    Raises:
        ValueError: the member is missing or cannot be decompressed.
    """
    try:
        return archive.read(member)
    except KeyError:
        raise ValueError(f"{archive.filename}: member {member} is missing; download the archive again") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:  # CRC error, truncated data, zlib error
        raise ValueError(
            f"{archive.filename}: member {member} is damaged ({exc}); download the archive again"
        ) from None


def load_mat_bytes(data: bytes, name: str, dataset: str) -> dict[str, Any]:
    """Load a MATLAB file held in memory (see :func:`dings.tools.matlab.loadmat`).

    Args:
        data: the ``.mat`` file's bytes.
        name: what to call it in error messages, e.g. ``"DATA.zip:DATA/u1/a.mat"``.
        dataset: the converter, named when scipy is missing.

    Raises:
        ValueError: not a readable MATLAB v5 file (the message names ``name``).
        MissingExtraError: scipy is missing (names ``dings-sets[saliency]``).
    """
    require_extra("scipy.io", "saliency", dataset)
    handle = io.BytesIO(data)
    handle.name = name  # loadmat names the file object in its messages
    return loadmat(handle)


def points(value: Any, name: str) -> np.ndarray:
    """Return gaze points as a float32 array of shape (N, 2), x then y.

    MATLAB arrays lose singleton dimensions when loaded, so one point arrives with shape (2,) and
    an empty array with shape (0,); both are reshaped.

    Args:
        value: the numeric array read from a ``.mat`` file.
        name: where it comes from, for the error message.

    Raises:
        ValueError: not a numeric array with two columns.
    """
    array = np.asarray(value)
    if array.dtype.kind not in "biuf" or array.ndim == 0 or array.ndim > 2 or (array.size and array.shape[-1] != 2):
        raise ValueError(f"{name}: expected gaze points as a numeric (N, 2) array, got {array.dtype} {array.shape}")
    return np.ascontiguousarray(array.reshape(-1, 2), dtype=np.float32)


def is_clutter(member: str) -> bool:
    """True for archive clutter: ``__MACOSX/``, ``.svn/``, ``.DS_Store`` and ``._*`` resource forks."""
    parts = member.split("/")
    return any(part in _CLUTTER_PARTS for part in parts) or parts[-1].startswith("._")
