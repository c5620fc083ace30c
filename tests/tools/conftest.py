"""Small datasets for the dings.tools tests, written with dings.format.FileWriter."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from dings.format import FileWriter
from dings.readers import MsgpackReader

from .http_server import http_server  # noqa: F401 - the fixture, for every test here


def make_sample(i: int, prefix: str = "s") -> dict:
    """Sample ``i``: a key, a numeric label, bytes, a float and a small array, all derived from ``i``."""
    return {
        "key": f"{prefix}{i:04d}",
        "label": i % 3,
        "data": bytes([i % 256]) * (i % 7 + 1),
        "value": float(i),
        "array": np.arange(i % 4 + 1, dtype=np.int16) * i,
    }


def write_dataset(path: Path, samples: Sequence[dict], overwrite: bool = False) -> Path:
    """Write ``samples`` to ``path`` with FileWriter (data, index and md5 files)."""
    with FileWriter(path, overwrite=overwrite, progress=False) as writer:
        for sample in samples:
            writer.write(sample)
    return path


def read_samples(path: Path) -> list[dict]:
    """All samples of a dataset, decoded, in file order."""
    with MsgpackReader(path) as reader:
        return list(reader)


def read_keys(path: Path) -> list[str]:
    """All keys of a dataset in file order."""
    with MsgpackReader(path) as reader:
        return list(reader.keys)


def read_raw(path: Path) -> dict[str, bytes]:
    """Key → packed sample bytes."""
    with MsgpackReader(path) as reader:
        return dict(reader.iter(start=0, yield_key=True, raw=True))


@pytest.fixture
def make_dataset(tmp_path: Path) -> Callable[..., Path]:
    """``make_dataset(name="data.msgpack", n=50, prefix="s", samples=None, folder=None, overwrite=False)``
    writes a dataset and returns its data file."""

    def make(
        name: str = "data.msgpack",
        n: int = 50,
        prefix: str = "s",
        samples: Sequence[dict] | None = None,
        folder: Path | None = None,
        overwrite: bool = False,
    ) -> Path:
        if samples is None:
            samples = [make_sample(i, prefix) for i in range(n)]
        return write_dataset((folder or tmp_path) / name, samples, overwrite)

    return make


@pytest.fixture
def ds() -> SimpleNamespace:
    """Helpers for tests: ``make_sample``, ``write``, ``read_samples``, ``read_keys``, ``read_raw``."""
    return SimpleNamespace(
        make_sample=make_sample,
        write=write_dataset,
        read_samples=read_samples,
        read_keys=read_keys,
        read_raw=read_raw,
    )
