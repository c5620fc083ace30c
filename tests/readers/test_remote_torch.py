"""Training from a URL with a DataLoader of two forked workers (the remote reader is opened before the fork)."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch", reason="torch (hatch dev env) runs the DataLoader")
from torch.utils.data import DataLoader, get_worker_info  # noqa: E402

from dings.readers import MsgpackReader, QuasiShuffler  # noqa: E402

from . import remote_servers as _servers  # noqa: E402

s3 = _servers.s3
N = 96


@pytest.fixture(scope="module")
def url(s3, tmp_path_factory) -> str:
    return s3.upload(_servers.write_dataset(tmp_path_factory.mktemp("src") / "train.msgpack", N), "torch")


def _features(sample: dict) -> tuple:
    x = torch.tensor([len(sample["data"]) / 32.0, float(sample["label"]) / 4.0])
    return x, torch.tensor(float(sample["label"])), sample["key"]


class ChunkedStream(torch.utils.data.IterableDataset):
    """Each worker reads every other chunk of a quasi-shuffled pass of the same reader."""

    def __init__(self, reader) -> None:
        self.reader = reader

    def __iter__(self):
        info = get_worker_info()
        worker, workers = (0, 1) if info is None else (info.id, info.num_workers)
        order = QuasiShuffler(self.reader, buf_size=16, chunk_size=8, seed=5)
        for position, sample in enumerate(order):
            if (position // 8) % workers == worker:
                yield _features(sample)


def _train(loader) -> tuple[list[str], float]:
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    keys, loss = [], None
    for x, y, batch_keys in loader:
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x).squeeze(1), y)
        loss.backward()
        optimizer.step()
        keys.extend(batch_keys)
    return keys, float(loss.detach())


def test_a_model_trains_from_a_url_with_two_workers(s3, url, tmp_path):
    reader = MsgpackReader(
        url, storage_options=s3.options, cache_dir=tmp_path / "cache", cache="index", retries=2, backoff=0.0
    )
    assert len(reader) == N  # opened (index fetched) in the parent, before the workers fork
    loader = DataLoader(ChunkedStream(reader), batch_size=8, num_workers=2, multiprocessing_context="fork")
    keys, loss = _train(loader)
    assert sorted(keys) == sorted(reader.keys)  # every sample exactly once across the workers
    assert math.isfinite(loss)  # the batches were real tensors
    assert reader.requests == 0  # the workers fetched the samples, not the parent


def test_a_dings_torch_iterable_dataset_trains_from_a_url(s3, url, tmp_path):
    dings_torch = pytest.importorskip("dings.torch", reason="dings-torch is installed by the hatch dev env")
    if not hasattr(dings_torch, "IterableDataset"):
        pytest.skip("dings.torch has no IterableDataset in this checkout yet")
    reader = MsgpackReader(
        url, storage_options=s3.options, cache_dir=tmp_path / "cache", cache="index", retries=2, backoff=0.0
    )
    dataset = dings_torch.IterableDataset(reader, _features, batch_size=8, quasi=True, chunk_size=8, seed=1)
    loader = DataLoader(dataset, batch_size=8, num_workers=2, multiprocessing_context="fork")
    keys, _ = _train(loader)
    assert sorted(keys) == sorted(reader.keys)
