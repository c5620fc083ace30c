"""dings.torch.DataLoader: torch's DataLoader with a larger pipe for the workers' batches; the
batches themselves are exactly torch's."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch.utils.data

from dings.torch import DataLoader, Dataset, IterableDataset, enlarge_pipe

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="only Linux can resize pipes (F_SETPIPE_SZ)"
)


def pipe_max_size() -> int:
    return int(Path("/proc/sys/fs/pipe-max-size").read_text())


def pipe_size(connection) -> int:
    import fcntl

    return fcntl.fcntl(connection.fileno(), fcntl.F_GETPIPE_SZ)


def keys(loader) -> list[list[str]]:
    return [list(batch["key"]) for batch in loader]


@pytest.mark.parametrize("workers,persistent", [(0, False), (2, False), (2, True)])
def test_batches_are_those_of_torchs_dataloader(make_reader, workers, persistent):
    reader = make_reader(300)
    for dataset in (IterableDataset(reader, batch_size=16, shuffle=True, seed=3), Dataset(reader)):
        options = dict(batch_size=16, num_workers=workers, persistent_workers=persistent)
        ours, theirs = DataLoader(dataset, **options), torch.utils.data.DataLoader(dataset, **options)
        if isinstance(dataset, IterableDataset):
            dataset.set_epoch(0)
        expected = keys(theirs)
        if isinstance(dataset, IterableDataset):
            dataset.set_epoch(0)
        assert keys(ours) == expected
        assert sorted(k for batch in expected for k in batch) == [f"s{i:05d}" for i in range(300)]


@linux_only
@pytest.mark.parametrize("persistent", [False, True])
def test_the_workers_result_pipe_is_enlarged_every_epoch(make_reader, persistent):
    loader = DataLoader(
        IterableDataset(make_reader(64), batch_size=8), batch_size=8, num_workers=2, persistent_workers=persistent
    )
    wanted = min(1 << 20, pipe_max_size())
    for _ in range(2):
        iterator = iter(loader)
        assert pipe_size(iterator._worker_result_queue._reader) == wanted == loader.result_pipe_size
        assert sum(len(batch["key"]) for batch in iterator) == 64


@linux_only
def test_pipe_size_none_keeps_the_system_default(make_reader):
    dataset = IterableDataset(make_reader(16), batch_size=8)
    ours = iter(DataLoader(dataset, batch_size=8, num_workers=1, pipe_size=None))
    theirs = iter(torch.utils.data.DataLoader(dataset, batch_size=8, num_workers=1))
    assert pipe_size(ours._worker_result_queue._reader) == pipe_size(theirs._worker_result_queue._reader)
    assert len(list(ours)) == len(list(theirs)) == 2


def test_without_workers_there_is_no_pipe(make_reader):
    loader = DataLoader(IterableDataset(make_reader(10), batch_size=4), batch_size=4)
    assert [len(batch["key"]) for batch in loader] == [4, 4, 2]
    assert loader.result_pipe_size is None


class Fd:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def fileno(self) -> int:
        return self.fd


@linux_only
def test_enlarge_pipe_is_capped_at_the_system_limit_and_never_raises():
    read, write = os.pipe()
    try:
        assert enlarge_pipe(Fd(read), 256 << 10) == 256 << 10 == pipe_size(Fd(write))
        assert enlarge_pipe(Fd(read), 1 << 40) == pipe_max_size()
        assert enlarge_pipe(Fd(read), 0) is None
        assert enlarge_pipe(None, 1 << 20) is None
    finally:
        os.close(read)
        os.close(write)
    assert enlarge_pipe(Fd(read), 1 << 20) is None  # closed: left alone, no exception
    with open(os.devnull, "rb") as not_a_pipe:
        assert enlarge_pipe(not_a_pipe, 1 << 20) is None


class Tensors(torch.utils.data.IterableDataset):
    """Samples with an int label, a small float vector and (optionally) a large one."""

    def __init__(self, count: int, large: int = 0) -> None:
        self.count, self.large = count, large

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        workers, worker = (1, 0) if info is None else (info.num_workers, info.id)
        for i in range(worker, self.count, workers):
            sample = {
                "label": i,
                "small": torch.full((3,), float(i)),
                "half": torch.full((2,), i, dtype=torch.bfloat16),
            }
            if self.large:
                sample["large"] = torch.full((self.large,), float(i))
            yield sample


def test_small_tensors_arrive_by_copy_and_large_ones_in_shared_memory():
    options = dict(batch_size=8, num_workers=2)
    dataset = Tensors(32, large=2048)  # a batch of "large" is 8 × 2048 × 4 = 64 kB
    ours = list(DataLoader(dataset, inline_tensors=16 << 10, **options))
    theirs = list(torch.utils.data.DataLoader(dataset, **options))
    assert len(ours) == len(theirs) == 4
    for mine, expected in zip(ours, theirs):
        for key in ("label", "small", "half", "large"):
            assert mine[key].dtype == expected[key].dtype and torch.equal(mine[key], expected[key])
        assert all(expected[key].is_shared() for key in expected)  # torch: everything via shared memory
        assert not mine["label"].is_shared() and not mine["small"].is_shared()  # copied inline
        assert mine["large"].is_shared()  # above inline_tensors
        assert mine["half"].is_shared()  # bfloat16 has no numpy dtype: torch's way
    assert sorted(torch.cat([batch["label"] for batch in ours]).tolist()) == list(range(32))


def test_inline_tensors_off_sends_every_tensor_like_torch():
    batches = list(DataLoader(Tensors(16), batch_size=8, num_workers=1, inline_tensors=0))
    assert all(batch["label"].is_shared() for batch in batches)


def record_worker(worker_id: int) -> None:
    Path(os.environ["DINGS_TEST_WORKERS"], str(worker_id)).touch()


def test_the_users_worker_init_fn_still_runs_in_every_worker(tmp_path, monkeypatch):
    monkeypatch.setenv("DINGS_TEST_WORKERS", str(tmp_path))
    loader = DataLoader(Tensors(8), batch_size=4, num_workers=2, worker_init_fn=record_worker)
    assert len(list(loader)) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0", "1"]
    assert not any(batch["label"].is_shared() for batch in loader)


class Special(torch.utils.data.IterableDataset):
    """Tensors the small-tensor path must leave to torch: sparse, and a non-contiguous view."""

    def __iter__(self):
        dense = torch.arange(12.0).reshape(3, 4)
        yield {"sparse": dense.to_sparse(), "view": dense.t()}


@pytest.mark.filterwarnings(
    "ignore:Sparse invariant checks:UserWarning"
)  # torch's own, when it rebuilds a sparse tensor
def test_special_tensors_arrive_unchanged():
    loader = DataLoader(Special(), batch_size=None, num_workers=1)
    (sample,) = list(loader)
    dense = torch.arange(12.0).reshape(3, 4)
    assert sample["sparse"].is_sparse and torch.equal(sample["sparse"].to_dense(), dense)
    assert torch.equal(sample["view"], dense.t())


def test_spawned_workers_get_the_small_tensor_path(make_reader):
    dataset = IterableDataset(make_reader(40), batch_size=8)
    options = dict(batch_size=8, num_workers=2, multiprocessing_context="spawn")
    ours = list(DataLoader(dataset, **options))
    theirs = list(torch.utils.data.DataLoader(dataset, **options))
    assert [b["i"].tolist() for b in ours] == [b["i"].tolist() for b in theirs]
    assert not any(b["label"].is_shared() for b in ours) and all(b["label"].is_shared() for b in theirs)
