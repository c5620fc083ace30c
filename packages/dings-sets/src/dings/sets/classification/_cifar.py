"""What CIFAR10 and CIFAR100 share: reading the pickled batches and encoding rows as PNG."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..extras import require_extra
from ..safe_pickle import load_pickle

__all__ = ["encode_row", "int_labels", "read_batch", "rows", "unique_keys"]


def read_batch(archive: Path, member: str) -> dict[bytes, Any]:
    """Load one pickled batch ``member`` from the CIFAR tar.gz ``archive`` (no code is run).

    Raises:
        ValueError: the member is missing or its content is not a CIFAR batch.
    """
    with tarfile.open(archive, "r:*") as tar:
        try:
            handle = tar.extractfile(member)
        except KeyError:
            handle = None
        if handle is None:
            raise ValueError(f"{archive}: member {member} is missing; download the archive again")
        batch = load_pickle(handle, f"{archive}:{member}")
    if not isinstance(batch, dict) or not isinstance(batch.get(b"data"), np.ndarray):
        raise ValueError(f"{archive}:{member}: not a CIFAR batch (a dict with b'data', b'filenames' and labels)")
    data = batch[b"data"]
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(f"{archive}:{member}: b'data' must be uint8 of shape (N, 3072), got {data.dtype} {data.shape}")
    return batch


def rows(batch: dict[bytes, Any]) -> Iterator[tuple[str, np.ndarray, int]]:
    """Yield ``(file name, row, index)`` for every image of a batch."""
    for index, (name, row) in enumerate(zip(batch[b"filenames"], batch[b"data"])):
        yield (name.decode("utf-8") if isinstance(name, bytes) else str(name)), row, index


def int_labels(batch: dict[bytes, Any], field: bytes, source: str) -> list[int]:
    """Return the labels ``batch[field]`` as ints, one per image of the batch.

    Args:
        batch: a batch from :func:`read_batch`.
        field: e.g. ``b"labels"`` or ``b"fine_labels"``.
        source: ``archive:member`` for error messages.

    Raises:
        ValueError: the field is missing or does not hold one int per image.
    """
    labels = batch.get(field)
    count = len(batch[b"data"])
    if not isinstance(labels, (list, tuple, np.ndarray)) or len(labels) != count:
        raise ValueError(f"{source}: {field!r} must list one label per image ({count}); the batch is damaged")
    try:
        return [int(label) for label in labels]
    except (TypeError, ValueError):
        raise ValueError(f"{source}: {field!r} holds a value that is not an int; the batch is damaged") from None


def unique_keys(names: list[str]) -> list[str]:
    """Make file names unique as CIFAR-100 needs: the k-th occurrence (k >= 2) of a name gets ``k``
    appended after the whole name (``a.png``, ``a.png2``, ``a.png3``); first occurrences keep theirs.

    Raises:
        ValueError: a renamed key collides with a file name that exists as such.
    """
    seen: dict[str, int] = {}
    keys = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        keys.append(name if seen[name] == 1 else f"{name}{seen[name]}")
    if len(set(keys)) != len(keys):
        duplicate = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"renaming repeated file names gives the key {duplicate!r} twice; the batch is damaged")
    return keys


def encode_row(row: np.ndarray) -> bytes:
    """Encode a channel-planar 3072-value CIFAR row as a 32x32 RGB PNG (optimized)."""
    Image = require_extra("PIL.Image", "classification", "CIFAR")
    image = Image.fromarray(np.ascontiguousarray(row.reshape(3, 32, 32).transpose(1, 2, 0)), "RGB")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
