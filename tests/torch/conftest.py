"""Shared fixtures of the dings.torch tests: small datasets on disk and in memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from dings.format import FileWriter
from dings.readers import ListReader, MsgpackReader


def write_dataset(path: Path, count: int, payload: int = 8) -> Path:
    """Write ``count`` samples ``{"key": "s<i>", "i": i, "label": i % 5, "data": bytes}`` to ``path``."""
    with FileWriter(path, overwrite=True, progress=False) as writer:
        for i in range(count):
            writer.write({"key": f"s{i:05d}", "i": i, "label": i % 5, "data": bytes([i % 256]) * payload})
    return path


@pytest.fixture
def make_file(tmp_path):
    """``make_file(count)`` writes a dataset of ``count`` samples and returns its path."""

    def make(count: int, name: str = "data", payload: int = 8) -> Path:
        return write_dataset(tmp_path / f"{name}.msgpack", count, payload)

    return make


@pytest.fixture
def make_reader(make_file):
    """``make_reader(count)`` opens a MsgpackReader over a new dataset of ``count`` samples."""
    readers = []

    def make(count: int) -> MsgpackReader:
        reader = MsgpackReader(make_file(count, name=f"data{len(readers)}"))
        readers.append(reader)
        return reader

    yield make
    for reader in readers:
        reader.close()


@pytest.fixture
def memory():
    """``memory(count)``: an in-memory reader of samples ``{"key": "s<i>", "i": i, "label": i % 5}``."""

    def make(count: int) -> ListReader:
        return ListReader([{"key": f"s{i:05d}", "i": i, "label": i % 5} for i in range(count)], numeric_labels=False)

    return make
