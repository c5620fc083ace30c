"""Splitting an epoch among ranks and workers (exactly once, even batch counts, resumable prefixes)
and the global epoch order (seeded, shared by all ranks, continuing fixed-size epochs)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dings.readers import EpochOrder
from dings.torch.partition import Split, even_mode


def local_batches(split: Split, rank: int, workers: int) -> list[tuple[int, int]]:
    """A rank's batches in the order a DataLoader delivers them (one from each worker in turn)."""
    per_worker = [list(split.batches(rank, w, workers)) for w in range(workers)]
    delivered = []
    for step in range(max(map(len, per_worker), default=0)):
        for w in range(workers):
            if step < len(per_worker[w]):
                delivered.append(per_worker[w][step])
    return delivered


@settings(max_examples=300, deadline=None)
@given(
    remaining=st.integers(0, 300),
    world=st.integers(1, 5),
    batch=st.integers(1, 9),
    workers=st.integers(1, 3),
    even=st.sampled_from(["repeat", "drop", "none"]),
)
def test_every_position_once_and_even_batch_counts(remaining, world, batch, workers, even):
    split = Split(remaining, world, batch, even)
    positions: Counter = Counter()
    counts = []
    for rank in range(world):
        batches = local_batches(split, rank, workers)
        assert batches == sorted(batches)  # delivered in the order of the global positions
        assert len(batches) == split.rank_batches(rank)
        assert sum(b - a for a, b in batches) == split.rank_samples(rank)
        assert all(b - a == batch for a, b in batches[:-1]) and all(0 < b - a <= batch for a, b in batches)
        counts.append(len(batches))
        for a, b in batches:
            positions.update(p if p < remaining else p - remaining for p in range(a, b))
    inside = {p for p in positions if p < remaining}
    extra = sum(positions.values()) - len(positions)
    if even == "none":
        assert positions == Counter(range(remaining))
        assert max(counts) - min(counts) <= 1
    elif even == "repeat":
        assert inside == set(range(remaining)) and extra <= world - 1
        assert len(set(counts)) == 1
    else:
        assert extra == 0 and set(positions) <= set(range(remaining)) and remaining - len(positions) <= world - 1
        assert len(set(counts)) == 1


@settings(max_examples=200, deadline=None)
@given(
    remaining=st.integers(1, 200),
    world=st.integers(1, 4),
    batch=st.integers(1, 8),
    even=st.sampled_from(["repeat", "drop", "none"]),
)
def test_batches_delivered_by_every_rank_are_a_prefix(remaining, world, batch, even):
    split = Split(remaining, world, batch, even)
    per_rank = [local_batches(split, rank, 2) for rank in range(world)]
    most = max(map(len, per_rank))
    for b in range(split.full_rounds + 1):
        used, done = split.consumed(b)
        assert used == b * world * batch
        covered = sorted(p for batches in per_rank for a, stop in batches[:b] for p in range(a, stop))
        assert covered == list(range(used))
        assert done == (b == most or used >= remaining)
    assert split.consumed(most)[1] is True
    with pytest.raises(ValueError, match="batches=.*at most"):
        split.consumed(most + 1)


def test_even_modes():
    assert [even_mode(x) for x in (True, False, "repeat", "drop", "none")] == [
        "repeat",
        "none",
        "repeat",
        "drop",
        "none",
    ]
    with pytest.raises(ValueError, match="even must be"):
        even_mode("sometimes")


@pytest.mark.parametrize("mode", ["sequential", "shuffle", "quasi"])
def test_each_pass_is_a_permutation_fixed_by_seed_and_pass(mode):
    order = EpochOrder(103, mode, seed=7, chunk=8)
    first = order.permutation(0)
    assert sorted(first.tolist()) == list(range(103))
    assert np.array_equal(EpochOrder(103, mode, seed=7, chunk=8).permutation(0), first)  # another "machine"
    if mode != "sequential":
        assert not np.array_equal(order.permutation(1), first)
        assert not np.array_equal(EpochOrder(103, mode, seed=8, chunk=8).permutation(0), first)


def test_quasi_order_reads_whole_chunks():
    order = EpochOrder(50, "quasi", seed=3, chunk=8).permutation(0).tolist()
    position, starts = 0, []
    while position < 50:  # the order is a sequence of whole chunks (the last one is short)
        start = order[position]
        size = min(8, 50 - start)
        assert start % 8 == 0 and order[position : position + size] == list(range(start, start + size))
        starts.append(start)
        position += size
    assert sorted(starts) == list(range(0, 50, 8)) and starts != sorted(starts)


def test_fixed_size_epochs_continue_where_the_last_one_stopped():
    order = EpochOrder(10, "shuffle", seed=1, epoch_size=7)
    stream = np.concatenate([order.indices(e, 0, 7) for e in range(10)])  # 70 positions = 7 passes
    passes = np.concatenate([order.permutation(p) for p in range(7)])
    assert np.array_equal(stream, passes)
    assert np.array_equal(order.indices(1, 2, 6), stream[9:13])
    assert (
        order.epoch_length == 7 and EpochOrder(10).epoch_length == 10 and EpochOrder(0, epoch_size=5).epoch_length == 0
    )


def test_order_arguments_are_checked():
    with pytest.raises(ValueError, match="order mode"):
        EpochOrder(5, "random")
    with pytest.raises(ValueError, match="seed"):
        EpochOrder(5, seed=-1)
    with pytest.raises(ValueError, match="epoch_size"):
        EpochOrder(5, epoch_size=0)
    with pytest.raises(ValueError, match="chunk_size"):
        EpochOrder(5, chunk=0)
