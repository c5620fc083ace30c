"""Build small CIFAR archives with the real internal layout (Python-2 style pickles, bytes keys)."""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np


def add_member(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


def batch(rng: np.random.Generator, names: list[str], labels: dict[bytes, list[int]]) -> bytes:
    content = {
        b"batch_label": b"synthetic batch",
        b"data": rng.integers(0, 256, size=(len(names), 3072), dtype=np.uint8),
        b"filenames": [n.encode() for n in names],
        **labels,
    }
    return pickle.dumps(content, protocol=2)


def make_cifar10(indir: Path, per_batch: int = 2, seed: int = 0) -> dict[str, list[tuple[str, np.ndarray, int]]]:
    """Write ``indir/cifar-10-python.tar.gz``; return split -> [(key, row, label)] in file order."""
    rng = np.random.default_rng(seed)
    expected: dict[str, list] = {"train": [], "test": []}
    indir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(indir / "cifar-10-python.tar.gz", "w:gz") as tar:
        members = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
        for member in members:
            split = "test" if member == "test_batch" else "train"
            names = [f"{member}_img_{j}.png" for j in range(per_batch)]
            labels = [int(x) for x in rng.integers(0, 10, per_batch)]
            payload = batch(rng, names, {b"labels": labels})
            rows = pickle.loads(payload, encoding="bytes")[b"data"]
            expected[split] += list(zip(names, rows, labels))
            add_member(tar, f"cifar-10-batches-py/{member}", payload)
        add_member(tar, "cifar-10-batches-py/readme.html", b"<html></html>")
    return expected


def make_cifar100(
    indir: Path, names: dict[str, list[str]] | None = None, seed: int = 0
) -> dict[str, list[tuple[str, np.ndarray, int, int]]]:
    """Write ``indir/cifar-100-python.tar.gz`` with ``train`` and ``test`` pickles.

    Args:
        indir: folder to create the archive in.
        names: split -> file names of its rows (repeats allowed); default: train repeats one name.
        seed: seed of the random pixels and labels.

    Returns:
        split -> [(file name, row, fine label, coarse label)] in file order (names as written).
    """
    rng = np.random.default_rng(seed)
    names = names or {
        "train": ["bike_s_01.png", "apple_s_07.png", "bike_s_01.png", "bike_s_01.png"],
        "test": ["otter_s_3.png", "cloud_s_9.png"],
    }
    expected: dict[str, list] = {}
    indir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(indir / "cifar-100-python.tar.gz", "w:gz") as tar:
        for split in ("train", "test"):
            fine = [int(x) for x in rng.integers(0, 100, len(names[split]))]
            coarse = [int(x) for x in rng.integers(0, 20, len(names[split]))]
            payload = batch(rng, names[split], {b"fine_labels": fine, b"coarse_labels": coarse})
            rows = pickle.loads(payload, encoding="bytes")[b"data"]
            expected[split] = list(zip(names[split], rows, fine, coarse))
            add_member(tar, f"cifar-100-python/{split}", payload)
        add_member(tar, "cifar-100-python/file.txt~", b"")
    return expected
