"""dings.torch takes dataset specs: Loader, IterableDataset and Dataset open them with open_dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from dings.format import ShardedWriter
from dings.readers import MsgpackReader, ShardedReader
from dings.tools import write_partitioned
from dings.torch import DataLoader, Dataset, IterableDataset, Loader

from ..readers import remote_servers as _servers
from .conftest import write_dataset

http_server = _servers.http_server
N = 23


def _sample(i: int) -> dict:
    return {"key": f"s{i:05d}", "i": i, "label": i % 5, "data": bytes([i % 256]) * 8}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("torch-specs")
    write_dataset(root / "one.msgpack", N)
    with ShardedWriter(root / "sharded" / "sh.msgpack", max_samples=7, progress=False) as writer:
        for i in range(N):
            writer.write(_sample(i))
    write_partitioned([0, 1, 2], lambda p: [_sample(i) for i in range(N) if i * 3 // N == p], root / "part" / "train")
    return root


def _publish_folder(server, folder: Path, prefix: str) -> str:
    for file in sorted(folder.iterdir()):
        if file.is_file():
            server.add(f"{prefix}/{file.name}", file.read_bytes())
    return server.url(prefix)


SPECS = {
    "file": lambda d, s: d / "one.msgpack",
    "glob": lambda d, s: str(d / "sharded" / "sh-*.msgpack"),
    "folder": lambda d, s: str(d / "sharded"),
    "partitioned folder": lambda d, s: d / "part" / "train",
    "list": lambda d, s: [d / "sharded" / "sh-00000.msgpack", str(d / "sharded" / "sh-0000[123].msgpack")],
    "HTTP URL of a partitioned folder": lambda d, s: _publish_folder(s, d / "part" / "train", "/t/train"),
}


def _options(kind: str, tmp_path: Path) -> dict:
    return {"reader_options": {"cache_dir": tmp_path / "cache"}} if "HTTP" in kind else {}


@pytest.mark.parametrize("kind", list(SPECS))
def test_loader_takes_a_spec(kind, data, http_server, tmp_path):
    loader = Loader(SPECS[kind](data, http_server), 5, threads=2, **_options(kind, tmp_path))
    assert [i for batch in loader for i in batch["i"].tolist()] == list(range(N))


@pytest.mark.parametrize("kind", list(SPECS))
def test_iterable_dataset_takes_a_spec(kind, data, http_server, tmp_path):
    dataset = IterableDataset(SPECS[kind](data, http_server), batch_size=4, **_options(kind, tmp_path))
    assert len(dataset) == N
    assert [i for batch in DataLoader(dataset, batch_size=4) for i in batch["i"].tolist()] == list(range(N))


@pytest.mark.parametrize("kind", ["file", "glob", "partitioned folder", "list"])
def test_dataset_takes_a_spec(kind, data, http_server):
    dataset = Dataset(SPECS[kind](data, http_server))
    assert len(dataset) == N
    assert [dataset[i]["i"] for i in range(N)] == list(range(N))


def test_a_spec_opens_the_reader_open_dataset_would(data):
    assert isinstance(Dataset(data / "one.msgpack").reader, MsgpackReader)
    assert isinstance(IterableDataset(data / "part" / "train").reader, ShardedReader)


def test_reader_options_with_a_reader_are_refused(data):
    with pytest.raises(TypeError, match="reader_options apply only when a dataset spec is given"):
        Dataset(MsgpackReader(data / "one.msgpack"), reader_options={"verify": True})


def test_a_spec_that_names_nothing_names_the_spec(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope-\*\.msgpack: no dataset matches"):
        Loader(str(tmp_path / "nope-*.msgpack"), 4)
