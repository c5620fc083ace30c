"""What CIFAR10 and CIFAR100 share: reading the pickled batches and encoding rows as PNG."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .extras import require_extra
from .safe_pickle import load_pickle

__all__ = ["encode_row", "read_batch"]


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


def encode_row(row: np.ndarray) -> bytes:
    """Encode a channel-planar 3072-value CIFAR row as a 32x32 RGB PNG (optimized)."""
    Image = require_extra("PIL.Image", "classification", "CIFAR")
    image = Image.fromarray(np.ascontiguousarray(row.reshape(3, 32, 32).transpose(1, 2, 0)), "RGB")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
