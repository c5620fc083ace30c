"""IterableDataset with a DataLoader: exactly-once epochs over ranks × workers, seeded global
shuffling, epochs with and without persistent workers, fixed-size epochs, and exact resuming.

Ranks are simulated with ``rank=``/``world_size=`` here; tests/torch/test_distributed.py runs real
torch.distributed process groups.
"""

from __future__ import annotations

from collections import Counter
from itertools import chain

import pytest
from torch.utils.data import DataLoader

from dings.readers import EpochOrder, Reader
from dings.torch import Compose, IterableDataset


def batches_of(ds, workers=0, batch_size=None, limit=None, persistent=False):
    """The ``i`` values of each batch the DataLoader delivers (up to ``limit`` batches)."""
    loader = DataLoader(
        ds, batch_size=batch_size or ds.batch_size, num_workers=workers, persistent_workers=persistent and workers > 0
    )
    out = []
    for batch in loader:
        out.append(batch["i"].tolist())
        if limit is not None and len(out) == limit:
            break
    return out


def epoch_of(reader, world, workers=0, **options):
    """Batches of every rank for one epoch."""
    return [batches_of(IterableDataset(reader, rank=r, world_size=world, **options), workers) for r in range(world)]


@pytest.mark.parametrize("count,world,batch", [(23, 3, 4), (50, 2, 7)])
def test_every_sample_exactly_once_and_equal_batches(memory, count, world, batch):
    reader = memory(count)
    results = {}
    for workers in (0, 1, 2):
        ranks = epoch_of(reader, world, workers, batch_size=batch, shuffle=True, seed=5)
        counts = Counter(chain.from_iterable(chain.from_iterable(ranks)))
        assert set(counts) == set(range(count)) and sum(counts.values()) - count <= world - 1
        assert len({len(batches) for batches in ranks}) == 1  # every rank: the same number of batches
        results[workers] = ranks
    assert results[0] == results[1] == results[2]  # the same batches whatever the number of workers
    plain = epoch_of(reader, world, 2, batch_size=batch, shuffle=True, seed=5, even=False)
    assert sorted(chain.from_iterable(chain.from_iterable(plain))) == list(range(count))
    dropped = Counter(
        chain.from_iterable(chain.from_iterable(epoch_of(reader, world, 2, batch_size=batch, even="drop")))
    )
    assert max(dropped.values()) == 1 and count - len(dropped) <= world - 1
    assert len({len(batches) for batches in epoch_of(reader, world, 0, batch_size=batch, even="drop")}) == 1


def test_small_and_uneven_lengths_in_the_main_process(memory):
    for count, world, batch in [(1, 3, 4), (2, 3, 1), (5, 3, 4), (16, 2, 4), (31, 4, 3)]:
        for even in (True, False, "drop"):
            ranks = epoch_of(memory(count), world, 0, batch_size=batch, shuffle=True, even=even)
            counts = Counter(chain.from_iterable(chain.from_iterable(ranks)))
            total = sum(counts.values())
            if even is False:
                assert counts == Counter(range(count))
                continue
            if even is True:
                assert set(counts) == set(range(count)) and total - count <= world - 1
            else:
                assert total == len(counts) and set(counts) <= set(range(count)) and count - total <= world - 1
            assert len({len(batches) for batches in ranks}) == 1


def test_shuffle_is_global_seeded_and_new_every_epoch(memory):
    reader = memory(40)
    options = dict(batch_size=4, shuffle=True, seed=11)
    first = epoch_of(reader, 2, **options)
    again = epoch_of(reader, 2, **options)
    second = epoch_of(reader, 2, epoch=1, **options)
    other_seed = epoch_of(reader, 2, batch_size=4, shuffle=True, seed=12)
    assert first == again and first != second and first != other_seed
    rank0 = sorted(chain.from_iterable(first[0]))
    assert rank0 != list(range(rank0[0], rank0[0] + 20))  # not a contiguous block of the dataset
    for epoch in (first, second):
        assert sorted(chain.from_iterable(chain.from_iterable(epoch))) == list(range(40))


@pytest.mark.parametrize("persistent", [False, True])
def test_epochs_advance_and_set_epoch_reaches_workers(memory, persistent):
    reader = memory(24)
    expected = {e: batches_of(IterableDataset(reader, batch_size=4, shuffle=True, epoch=e)) for e in (0, 1, 2, 7)}
    ds = IterableDataset(reader, batch_size=4, shuffle=True)
    loader = DataLoader(ds, batch_size=4, num_workers=2, persistent_workers=persistent)
    run = lambda: [b["i"].tolist() for b in loader]  # noqa: E731
    assert run() == expected[0]
    assert run() == expected[1]  # the next epoch without set_epoch
    ds.set_epoch(7)
    assert run() == expected[7]
    ds.set_epoch(1)
    assert run() == expected[1] and ds.epoch == 1
    assert run() == expected[2]


def test_iterating_in_the_main_process_advances_epochs(memory):
    ds = IterableDataset(memory(9), batch_size=2, shuffle=True)
    orders = [[s["i"] for s in ds] for _ in range(3)]
    assert orders == [
        [s["i"] for s in IterableDataset(memory(9), batch_size=2, shuffle=True, epoch=e)] for e in range(3)
    ]
    assert len({tuple(o) for o in orders}) == 3


def test_fixed_size_epochs_continue(memory):
    reader = memory(10)
    ds = IterableDataset(reader, batch_size=2, shuffle=True, seed=4, epoch_size=7)
    assert len(ds) == 7
    loader = DataLoader(ds, batch_size=2, num_workers=2, persistent_workers=True)
    epochs = [[i for batch in loader for i in batch["i"].tolist()] for _ in range(10)]
    assert all(len(e) == 7 for e in epochs)
    order = EpochOrder(10, "shuffle", seed=4)
    assert list(chain.from_iterable(epochs)) == list(
        chain.from_iterable(order.permutation(p).tolist() for p in range(7))
    )


class CountingReader(Reader):
    """Samples ``{"key", "i"}`` in memory; records single reads and range reads."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.singles = 0
        self.ranges: list[int] = []

    def __len__(self) -> int:
        return self.n

    def find_index(self, key: str) -> int:
        return int(key[1:])

    def find_key(self, index: int) -> str:
        return f"s{self._normalize(index)}"

    def read_sample(self, index: int, *, raw: bool = False, copy: bool = True) -> dict:
        self.singles += 1
        return {"key": f"s{index}", "i": index}

    def read_range(self, start, stop, *, raw=False, copy=True):
        self.ranges.append(stop - start)
        for index in range(start, stop):
            yield {"key": f"s{index}", "i": index}


def test_quasi_shuffle_reads_runs_and_mixes_each_batch(memory):
    reader = CountingReader(100)
    ds = IterableDataset(reader, batch_size=16, chunk_size=8, quasi=True, seed=2)
    epochs = [batches_of(ds) for _ in range(2)]
    for epoch in epochs:
        assert sorted(chain.from_iterable(epoch)) == list(range(100))
    assert epochs[0] != epochs[1]
    assert reader.singles <= 4 and min(reader.ranges) >= 2 and sum(reader.ranges) >= 196
    first = epochs[0][0]
    assert first != sorted(first)  # the batch's runs come out mixed
    runs = sorted(first)
    assert sum(1 for a, b in zip(runs, runs[1:]) if b != a + 1) <= 3  # ... but it holds about two chunks


def test_sequential_reads_use_the_readers_range_path():
    reader = CountingReader(64)
    assert list(chain.from_iterable(batches_of(IterableDataset(reader, batch_size=16), workers=0))) == list(range(64))
    assert reader.singles == 0 and reader.ranges == [16, 16, 16, 16]
    small = CountingReader(20)  # batches smaller than chunk_size are read together
    assert [s["i"] for s in IterableDataset(small, batch_size=1, chunk_size=8)] == list(range(20))
    assert small.singles == 0 and small.ranges == [8, 8, 4]


def test_transforms_and_rng_apply(memory):
    ds = IterableDataset(
        memory(6), transforms={"i": Compose(lambda v, number: v + number)}, rng=lambda s: {"number": 100}, batch_size=3
    )
    assert batches_of(ds) == [[100, 101, 102], [103, 104, 105]]
    samples = list(IterableDataset(memory(3), transforms=lambda s: {"i": -s["i"]}))
    assert samples == [{"i": 0}, {"i": -1}, {"i": -2}]


def test_matches_datadings_without_shuffling(make_file):
    from datadings.reader import MsgpackReader as TheirReader
    from datadings.torch import IterableDataset as Theirs

    from dings.readers import MsgpackReader

    path = make_file(30)
    assert list(IterableDataset(MsgpackReader(path), batch_size=5)) == list(Theirs(TheirReader(path), batch_size=5))


def test_len_is_this_ranks_samples_and_the_loader_length_its_batches(memory):
    for rank in range(3):
        ds = IterableDataset(memory(23), batch_size=4, rank=rank, world_size=3)
        assert len(ds) == 8 and len(DataLoader(ds, batch_size=4)) == 2
    uneven = [len(IterableDataset(memory(23), batch_size=4, rank=r, world_size=3, even=False)) for r in range(3)]
    assert uneven == [7, 8, 8]
    empty = IterableDataset(memory(0), batch_size=4, shuffle=True)
    assert len(empty) == 0 and list(empty) == []


@pytest.mark.parametrize(
    "options,message",
    [
        (dict(batch_size=0), "batch_size"),
        (dict(chunk_size=0), "chunk_size"),
        (dict(seed=-1), "seed"),
        (dict(epoch=-2), "epoch"),
        (dict(epoch_size=0), "epoch_size"),
        (dict(even="maybe"), "even"),
        (dict(rank=3, world_size=3), "rank must be"),
        (dict(world_size=0), "world_size"),
    ],
)
def test_bad_options_are_named(memory, options, message):
    with pytest.raises(ValueError, match=message):
        IterableDataset(memory(5), **options)


# --- resuming ---


def run_ranks(reader, world, workers, limit=None, state=None, **options):
    """One epoch (or its first ``limit`` batches) on every rank; returns (batches per rank, datasets)."""
    results, datasets = [], []
    for rank in range(world):
        ds = IterableDataset(reader, rank=rank, world_size=world, **options)
        if state is not None:
            ds.load_state_dict(state)
        results.append(batches_of(ds, workers, limit=limit))
        datasets.append(ds)
    return results, datasets


@pytest.mark.parametrize("new_world,new_workers", [(2, 1), (3, 2), (1, 0)])
def test_resume_mid_epoch_yields_exactly_the_rest(memory, new_world, new_workers):
    reader = memory(37)
    options = dict(batch_size=4, shuffle=True, seed=3, epoch=2)
    head, datasets = run_ranks(reader, 2, 2, limit=3, **options)
    states = [ds.state_dict(batches=3) for ds in datasets]
    assert states[0] == states[1] and states[0]["epoch"] == 2 and states[0]["consumed"] == 24
    rest, resumed = run_ranks(reader, new_world, new_workers, state=states[0], **options)
    consumed = Counter(chain.from_iterable(chain.from_iterable(head)))
    remaining = Counter(chain.from_iterable(chain.from_iterable(rest)))
    assert max(consumed.values()) == 1
    assert set(consumed) | set(remaining) == set(range(37))
    repeated = sum(remaining.values()) - len(remaining) + len(set(remaining) & set(consumed))
    assert repeated <= new_world - 1  # only the even-padding repeats anything
    if new_world == 2:
        full, _ = run_ranks(reader, 2, 0, **options)
        assert [b[3:] for b in full] == rest  # the same batches the uninterrupted run delivered
        # the epoch after the resumed one is a whole normal epoch
        following, _ = run_ranks(reader, new_world, 0, **dict(options, epoch=3))
        assert [batches_of(ds, new_workers) for ds in resumed] == following


def test_resume_with_the_main_process_counting_itself(memory):
    reader = memory(20)
    ds = IterableDataset(reader, batch_size=3, shuffle=True)
    head = batches_of(ds, workers=0, limit=2)
    state = ds.state_dict()
    assert state["consumed"] == 6
    again = IterableDataset(reader, batch_size=3, shuffle=True)
    again.load_state_dict(state)
    again.set_epoch(0)  # a loop that calls set_epoch(epoch) first keeps the resume position
    rest = batches_of(again, workers=1)
    assert sorted(chain.from_iterable(head + rest)) == list(range(20))
    assert again.state_dict(batches=len(rest)) == dict(state, epoch=1, consumed=0)


def test_the_main_process_counts_samples_handed_out_not_samples_read(memory):
    ds = IterableDataset(memory(40), batch_size=3)  # reads are joined into runs of 16+ samples
    samples = iter(ds)
    taken = [next(samples)["i"] for _ in range(7)]
    assert taken == list(range(7))
    assert ds.state_dict()["consumed"] == 6  # two whole batches of 3 were handed out
    taken += [next(samples)["i"] for _ in range(11)]
    assert ds.state_dict()["consumed"] == 18


def test_state_dict_needs_batches_when_workers_iterate(memory):
    ds = IterableDataset(memory(20), batch_size=4)
    assert ds.state_dict()["consumed"] == 0  # nothing iterated yet
    batches_of(ds, workers=1, limit=2)
    with pytest.raises(ValueError, match="needs batches="):
        ds.state_dict()
    assert ds.state_dict(batches=2)["consumed"] == 8
    assert ds.state_dict(batches=5) == dict(ds.state_dict(batches=0), epoch=1, consumed=0)
    with pytest.raises(ValueError, match="at most 5"):
        ds.state_dict(batches=6)


def test_set_epoch_to_another_epoch_drops_the_resume_position(memory):
    ds = IterableDataset(memory(10), batch_size=2)
    ds.load_state_dict({"epoch": 1, "consumed": 4})
    assert len(ds) == 6
    ds.set_epoch(2)
    assert len(ds) == 10 and ds.epoch == 2


@pytest.mark.parametrize(
    "state,message",
    [
        ({"epoch": 0}, "needs 'epoch' and 'consumed'"),
        ("nonsense", "needs 'epoch' and 'consumed'"),
        ({"epoch": 0, "consumed": 0, "seed": 9}, "seed=9 but this dataset has seed=0"),
        ({"epoch": 0, "consumed": 0, "length": 11}, "length=11"),
        ({"epoch": 0, "consumed": 0, "mode": "sequential"}, "mode='sequential'"),
        ({"epoch": 0, "consumed": 11}, "more than an epoch"),
        ({"epoch": -1, "consumed": 0}, "epoch"),
    ],
)
def test_load_state_dict_refuses_foreign_states(memory, state, message):
    with pytest.raises(ValueError, match=message):
        IterableDataset(memory(10), shuffle=True).load_state_dict(state)


def test_spawned_workers_share_the_epochs(memory):
    ds = IterableDataset(memory(20), batch_size=4, shuffle=True, rank=1, world_size=2)
    loader = DataLoader(ds, batch_size=4, num_workers=2, multiprocessing_context="spawn", persistent_workers=True)
    first = [b["i"].tolist() for b in loader]
    ds.set_epoch(5)  # reaches the running spawned workers
    fifth = [b["i"].tolist() for b in loader]
    assert first == epoch_of(memory(20), 2, batch_size=4, shuffle=True)[1]
    assert fifth == epoch_of(memory(20), 2, batch_size=4, shuffle=True, epoch=5)[1]


def test_a_pickled_copy_has_its_own_epochs(memory):
    import pickle

    ds = IterableDataset(memory(10), batch_size=2, shuffle=True)
    ds.load_state_dict({"epoch": 3, "consumed": 4})
    copy = pickle.loads(pickle.dumps(ds))
    assert copy.epoch == 3 and len(copy) == 6
    copy.set_epoch(7)
    assert ds.epoch == 3 and copy.epoch == 7


@pytest.mark.parametrize(
    "options", [dict(quasi=True, chunk_size=3), dict(epoch_size=15, shuffle=True), dict(even="drop", shuffle=True)]
)
def test_resume_in_every_order_mode(memory, options):
    reader = memory(25)
    full = [
        batches_of(IterableDataset(reader, batch_size=2, rank=r, world_size=2, epoch=1, **options)) for r in range(2)
    ]
    datasets = [IterableDataset(reader, batch_size=2, rank=r, world_size=2, epoch=1, **options) for r in range(2)]
    for ds in datasets:
        batches_of(ds, limit=2)
    state = datasets[0].state_dict(batches=2)
    rest = []
    for r in range(2):
        resumed = IterableDataset(reader, batch_size=2, rank=r, world_size=2, **options)
        resumed.load_state_dict(state)
        rest.append(batches_of(resumed, workers=1))
    assert [b[2:] for b in full] == rest
