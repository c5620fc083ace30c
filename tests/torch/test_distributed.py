"""Real torch.distributed runs (gloo on 127.0.0.1, 2 and 3 processes): every sample exactly once per
epoch across ranks and DataLoader workers, the same number of batches on every rank (each batch is
all-reduced, as DDP does with gradients, so a rank with an extra batch would stall the test), the
rank taken from the process group, and resuming mid-epoch."""

from __future__ import annotations

import multiprocessing
import socket
import traceback
from collections import Counter
from datetime import timedelta
from itertools import chain

import pytest
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader

from dings.readers import ListReader
from dings.torch import IterableDataset, Loader

SCENARIOS = [(23, 4), (2, 5)]  # (samples, batch size)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reader_of(count: int) -> ListReader:
    return ListReader([{"key": f"s{i}", "i": i} for i in range(count)])


def lockstep(loader) -> tuple[list[list[int]], float]:
    """Iterate like a DDP training loop: one all_reduce per batch. Returns batches and the reduced sum."""
    batches, total = [], 0.0
    for batch in loader:
        value = batch["i"].sum().to(torch.float64).reshape(1)
        dist.all_reduce(value)
        total += value.item()
        batches.append(batch["i"].tolist())
    return batches, total


def rank_main(rank: int, world: int, port: int, queue) -> None:
    try:
        dist.init_process_group(
            "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world, timeout=timedelta(seconds=40)
        )
        results = {}
        for count, batch in SCENARIOS:
            for workers in (0, 1, 2):
                ds = IterableDataset(reader_of(count), batch_size=batch, shuffle=True, seed=1)
                results[(count, batch, workers)] = (
                    ds.rank,
                    ds.world_size,
                    *lockstep(DataLoader(ds, batch_size=batch, num_workers=workers)),
                )
            for threads in (1, 3):  # the Loader: same batches, from the process group's ranks
                loader = Loader(reader_of(count), batch, threads=threads, shuffle=True, seed=1)
                results[("loader", count, batch, threads)] = (*loader.ranks(), *lockstep(loader))
        # resume: two batches, a "restart" with a different number of workers, the rest
        ds = IterableDataset(reader_of(37), batch_size=3, shuffle=True, seed=2)
        loader = DataLoader(ds, batch_size=3, num_workers=2)
        head = []
        for batch in loader:
            head.append(batch["i"].tolist())
            if len(head) == 2:
                break
        state = ds.state_dict(batches=2)
        resumed = IterableDataset(reader_of(37), batch_size=3, shuffle=True, seed=2)
        resumed.load_state_dict(state)
        rest, _ = lockstep(DataLoader(resumed, batch_size=3, num_workers=1))
        results["resume"] = (head, rest, state)
        loader = Loader(reader_of(37), 3, shuffle=True, seed=2, threads=2)
        for seen, _ in enumerate(loader, 1):
            if seen == 2:
                break
        resumed_loader = Loader(reader_of(37), 3, shuffle=True, seed=2, threads=1)
        resumed_loader.load_state_dict(loader.state_dict())
        results["loader resume"] = (loader.state_dict(), lockstep(resumed_loader)[0])
        dist.barrier()
        queue.put((rank, results))
    except BaseException:
        queue.put((rank, traceback.format_exc()))
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


@pytest.mark.parametrize("world", [2, 3])
def test_ranks_and_workers_share_every_epoch_exactly(world):
    if not dist.is_available() or not dist.is_gloo_available():
        pytest.skip("torch.distributed with the gloo backend is not available in this torch build")
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    port = free_port()
    processes = [context.Process(target=rank_main, args=(rank, world, port, queue)) for rank in range(world)]
    for process in processes:
        process.start()
    try:
        results = dict(queue.get(timeout=120) for _ in range(world))
    finally:
        for process in processes:
            process.join(timeout=20)
            if process.is_alive():
                process.kill()
    for rank, result in results.items():
        assert not isinstance(result, str), f"rank {rank} failed:\n{result}"
    for count, batch in SCENARIOS:
        per_workers = []
        for workers in (0, 1, 2):
            outcome = [results[rank][(count, batch, workers)] for rank in range(world)]
            assert [(r, w) for r, w, _, _ in outcome] == [
                (rank, world) for rank in range(world)
            ]  # from the process group
            batches = [b for _, _, b, _ in outcome]
            assert len({len(b) for b in batches}) == 1  # every rank the same number of batches
            seen = Counter(chain.from_iterable(chain.from_iterable(batches)))
            assert set(seen) == set(range(count)) and sum(seen.values()) - count <= world - 1
            assert len({total for _, _, _, total in outcome}) == 1  # all ranks took part in every all_reduce
            per_workers.append(batches)
        assert per_workers[0] == per_workers[1] == per_workers[2]
        for threads in (1, 3):
            outcome = [results[rank][("loader", count, batch, threads)] for rank in range(world)]
            assert [(r, w) for r, w, _, _ in outcome] == [(rank, world) for rank in range(world)]
            assert [b for _, _, b, _ in outcome] == per_workers[0]  # the same batches as IterableDataset's
    states = [results[rank]["resume"][2] for rank in range(world)]
    assert all(s == states[0] for s in states) and states[0]["consumed"] == 2 * 3 * world
    head = Counter(i for rank in range(world) for b in results[rank]["resume"][0] for i in b)
    rest = Counter(i for rank in range(world) for b in results[rank]["resume"][1] for i in b)
    assert max(head.values()) == 1 and set(head) | set(rest) == set(range(37))
    assert sum(rest.values()) - len(rest) + len(set(rest) & set(head)) <= world - 1  # only padding repeats
    for rank in range(world):  # the Loader resumes the same way, with another thread count
        state, rest_of_rank = results[rank]["loader resume"]
        assert state == states[0]
        assert rest_of_rank == results[rank]["resume"][1]
