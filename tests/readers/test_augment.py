"""Augments (Shuffler, QuasiShuffler, Cycler, Repeater, Range) over a MsgpackReader and an in-memory reader."""

from __future__ import annotations

import copy
import itertools
import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dings.format import FileWriter, unpackb
from dings.readers import Cycler, MsgpackReader, QuasiShuffler, Range, Reader, Repeater, Shuffler


class MemoryReader(Reader):
    """Samples ``{"key": "k<i>", "i": i}`` in memory, counting every sample it reads.

    ``on_read`` (if set) is called once per sample read; ``ranges`` records each ``read_range``
    call, ``singles`` each ``_read`` call.
    """

    def __init__(self, n: int) -> None:
        self.samples = [{"key": f"k{i}", "i": i} for i in range(n)]
        self.index = {s["key"]: i for i, s in enumerate(self.samples)}
        self.reads = 0
        self.ranges: list[tuple[int, int]] = []
        self.singles: list[int] = []
        self.on_read = None
        self.closed = False

    def __len__(self) -> int:
        return len(self.samples)

    def find_index(self, key: str) -> int:
        if key not in self.index:
            raise KeyError(f"{key!r} is not a key")
        return self.index[key]

    def find_key(self, index: int) -> str:
        return self.samples[self._normalize(index)]["key"]

    def _count(self) -> None:
        self.reads += 1
        if self.on_read is not None:
            self.on_read()

    def read_sample(self, index: int, *, raw: bool = False, copy: bool = True) -> dict:
        self.singles.append(index)
        self._count()
        return self._pack(dict(self.samples[index]), raw)

    def read_range(self, start, stop, *, raw=False, copy=True):
        self.ranges.append((start, stop))
        for index in range(start, stop):
            self._count()
            yield self._pack(dict(self.samples[index]), raw)

    def close(self) -> None:
        self.closed = True


def write_dataset(path, n: int):
    with FileWriter(path, progress=False) as writer:
        for i in range(n):
            writer.write({"key": f"k{i}", "i": i, "a": np.full(i % 3, i, dtype=np.int32)})
    return path


@pytest.fixture(params=["memory", "msgpack"])
def make(request, tmp_path):
    """``make(n)`` gives a reader of ``n`` samples with ``"key": "k<i>"`` and ``"i": i``."""
    opened = []

    def factory(n: int) -> Reader:
        if request.param == "memory":
            return MemoryReader(n)
        reader = MsgpackReader(write_dataset(tmp_path / f"d{n}_{len(opened)}.msgpack", n))
        opened.append(reader)
        return reader

    yield factory
    for reader in opened:
        reader.close()


def ids(samples) -> list[int]:
    return [s["i"] for s in samples]


SHUFFLERS = {
    "Shuffler": lambda reader, seed=None: Shuffler(reader, seed=seed),
    "QuasiShuffler": lambda reader, seed=None: QuasiShuffler(reader, buf_size=0.1, chunk_size=4, seed=seed),
}


@pytest.fixture(params=sorted(SHUFFLERS))
def shuffle(request):
    return SHUFFLERS[request.param]


# --- the shufflers: every sample once per pass, reproducible orders ---


def test_shufflers_yield_every_sample_once_per_pass(make, shuffle):
    shuffler = shuffle(make(300), seed=4)
    for _ in range(3):
        assert sorted(ids(shuffler)) == list(range(300))
    assert len(shuffler) == 300


def test_same_seed_same_order_other_seed_other_order(make, shuffle):
    reader = make(1000)
    first = ids(shuffle(reader, seed=7))
    assert ids(shuffle(reader, seed=7)) == first
    assert ids(shuffle(reader, seed=8)) != first
    assert first != list(range(1000))


def test_no_seed_means_a_fixed_default_so_runs_repeat(shuffle):
    reader = MemoryReader(50)
    a, b = shuffle(reader), shuffle(reader)
    assert a.seed == b.seed == 50
    assert ids(a) == ids(b)


def test_shuffler_order_is_the_documented_numpy_permutation():
    shuffler = Shuffler(MemoryReader(100), seed=123)
    for epoch in range(3):
        assert ids(shuffler) == np.random.default_rng([123, epoch]).permutation(100).tolist()


def test_a_new_pass_reshuffles_and_set_epoch_goes_back(shuffle):
    shuffler = shuffle(MemoryReader(200), seed=3)
    passes = [ids(shuffler) for _ in range(3)]
    assert shuffler.epoch == 2
    assert passes[0] != passes[1] != passes[2]
    shuffler.set_epoch(1)
    assert ids(shuffler) == passes[1]
    fresh = shuffle(MemoryReader(200), seed=3)
    fresh.set_epoch(2)
    assert ids(fresh) == passes[2]
    with pytest.raises(ValueError, match="-1"):
        fresh.set_epoch(-1)


def test_an_unfinished_pass_keeps_its_order_and_continues(shuffle):
    shuffler = shuffle(MemoryReader(100), seed=1)
    full = ids(shuffler.iter(start=0))
    shuffler.set_epoch(0)
    assert ids(shuffler.iter(start=0, stop=10)) == full[:10]
    assert ids(shuffler.iter(start=0, stop=10)) == full[:10]  # not a completed pass: same order
    iterator = shuffler.iter(start=0)
    assert ids(itertools.islice(iterator, 30)) == full[:30]
    del iterator
    assert ids(shuffler.iter()) == full[30:]  # continues at the read position
    assert shuffler.epoch == 0 and shuffler[0]["i"] == full[0]
    again = ids(shuffler.iter())  # at the end: starts over, in the next epoch (as datadings)
    assert again != full and sorted(again) == sorted(full) and shuffler.epoch == 1


def test_a_pass_is_complete_when_its_last_sample_is_handed_out(shuffle):
    shuffler = shuffle(MemoryReader(20), seed=2)
    first = ids(itertools.islice(shuffler, 20))  # the iterator is never exhausted
    assert ids(itertools.islice(shuffler, 20)) != first
    assert shuffler.epoch == 1


def test_next_to_the_end_then_iter_starts_the_next_epoch(shuffle):
    shuffler = shuffle(MemoryReader(30), seed=5)
    first = [shuffler.next()["i"] for _ in range(30)]
    with pytest.raises(StopIteration):
        shuffler.next()
    assert sorted(first) == list(range(30))
    second = ids(shuffler.iter())
    assert second != first and sorted(second) == list(range(30))
    assert shuffler.epoch == 1


def test_seek_is_epoch_times_len_plus_position(shuffle):
    shuffler = shuffle(MemoryReader(30), seed=5)
    epochs = [ids(shuffler) for _ in range(3)]
    shuffler.seek(0)  # epoch 0 again, as datadings' seek(i < len)
    assert (shuffler.epoch, ids(shuffler.iter())) == (0, epochs[0])
    shuffler.seek(2 * 30 + 7)
    assert (shuffler.epoch, ids(shuffler.iter())) == (2, epochs[2][7:])
    with pytest.raises(IndexError, match="-1"):
        shuffler.seek(-1)


def test_random_access_follows_the_pass_order(make, shuffle):
    shuffler = shuffle(make(120), seed=9)
    order = ids(shuffler.iter(start=0))
    assert [shuffler[i]["i"] for i in range(120)] == order  # the finished pass stays current
    assert ids(shuffler[10:20]) == order[10:20]
    assert shuffler[-1]["i"] == order[-1]
    for position in (0, 17, 119):
        key = f"k{order[position]}"
        assert shuffler.find_index(key) == position
        assert shuffler.find_key(position) == key
    assert "k5" in shuffler and "nope" not in shuffler
    with pytest.raises(KeyError, match="nope"):
        shuffler.find_index("nope")
    with pytest.raises(IndexError, match="120"):
        shuffler.get(120)


def test_seek_next_and_iter_from_a_start_continue_the_order(make, shuffle):
    shuffler = shuffle(make(150), seed=11)
    full = ids(shuffler.iter(start=0))
    for start in (0, 1, 37, 100, 149, 150):
        shuffler.set_epoch(0)
        assert ids(shuffler.iter(start=start)) == full[start:], start
    for start in (0, 1, 37, 100, 149):
        shuffler.seek(start)
        assert ids(shuffler.iter()) == full[start:], start
    shuffler.seek(147)
    assert [shuffler.next()["i"] for _ in range(3)] == full[-3:]
    shuffler.set_epoch(0)
    shuffler.seek_key(f"k{full[40]}")
    assert shuffler.next()["i"] == full[40]
    assert ids(shuffler.iter(stop=45)) == full[41:45]


def test_quasi_shuffler_resumes_from_every_position():
    quasi = QuasiShuffler(MemoryReader(97), buf_size=10, chunk_size=3, seed=1)
    full = ids(quasi.iter(start=0))
    for start in range(98):
        quasi.set_epoch(0)
        assert ids(quasi.iter(start=start)) == full[start:], start
        quasi.set_epoch(0)
        assert ids(quasi.slice(start, start + 5)) == full[start : start + 5], start


def test_yield_key_and_raw(make, shuffle):
    shuffler = shuffle(make(40), seed=2)
    pairs = list(shuffler.iter(start=0, yield_key=True))
    assert all(key == sample["key"] for key, sample in pairs)
    shuffler.set_epoch(0)
    raw = list(shuffler.iter(start=0, raw=True))
    assert [unpackb(r)["i"] for r in raw] == [s["i"] for _, s in pairs]
    shuffler.set_epoch(0)
    shuffler.seek(0)
    assert [unpackb(r)["key"] for r in shuffler.rawiter()] == [k for k, _ in pairs]
    shuffler.set_epoch(0)
    assert unpackb(shuffler.get(3, raw=True))["i"] == pairs[3][1]["i"]
    assert shuffler.get(3, yield_key=True)[0] == pairs[3][0]
    shuffler.seek(0)
    assert unpackb(shuffler.rawnext())["i"] == pairs[0][1]["i"]


def test_copy_has_its_own_position_and_the_same_order(make, shuffle):
    shuffler = shuffle(make(60), seed=6)
    order = [shuffler[i]["i"] for i in range(60)]
    shuffler.seek(10)
    clone = copy.copy(shuffler)
    assert ids(itertools.islice(clone.iter(), 5)) == order[10:15]
    assert shuffler.next()["i"] == order[10]
    assert clone.next()["i"] == order[15]
    assert clone.reader is not shuffler.reader and clone.epoch == shuffler.epoch == 0


# --- QuasiShuffler: bounded buffer, chunked reads ---


@pytest.mark.parametrize(
    ("n", "buf_size", "chunk_size"), [(500, 20, 4), (500, 7, 16), (64, 100, 8), (300, 1, 5), (1000, 0.05, 10)]
)
def test_quasi_shuffler_buffer_never_exceeds_buf_size(n, buf_size, chunk_size):
    reader = MemoryReader(n)
    quasi = QuasiShuffler(reader, buf_size=buf_size, chunk_size=chunk_size, seed=3)
    for start in (0, n // 3):
        reader.reads = 0
        seen = {"handed_out": 0, "most": 0}  # read by on_read while iterating

        def on_read(seen=seen):
            seen["most"] = max(seen["most"], reader.reads - seen["handed_out"])

        reader.on_read = on_read
        quasi.set_epoch(0)
        for _ in quasi.iter(start=start):
            seen["handed_out"] += 1
        most = seen["most"]
        assert seen["handed_out"] == n - start
        assert most <= quasi.buf_size, (start, most)
        assert reader.reads == n - start  # every sample still to come is read exactly once
        if start == 0:
            assert reader.reads == n
            assert most >= min(2, quasi.buf_size)  # the buffer is used (reads stay lazy, so it may not fill)


def test_quasi_shuffler_reads_whole_chunks_through_the_range_path():
    reader = MemoryReader(403)
    quasi = QuasiShuffler(reader, buf_size=40, chunk_size=16, seed=0)
    assert sorted(ids(quasi)) == list(range(403))
    assert not reader.singles
    assert sorted(reader.ranges) == [(s, min(s + 16, 403)) for s in range(0, 403, 16)]
    assert reader.ranges != sorted(reader.ranges)  # chunks in random order


def test_quasi_shuffler_keeps_chunk_neighbours_close_with_a_small_buffer():
    quasi = QuasiShuffler(MemoryReader(1000), buf_size=1, chunk_size=10, seed=0)
    order = ids(quasi)
    assert sorted(order) == list(range(1000))
    # a one-sample buffer hands out the chunks as they are read: runs of 10 consecutive indices
    for start in range(0, 1000, 10):
        assert order[start] % 10 == 0
        assert order[start : start + 10] == list(range(order[start], order[start] + 10))


@pytest.mark.parametrize(("length", "buf_size"), [(0, 1), (5, 10), (10, 10), (11, 10), (500, 1), (500, 37), (2000, 64)])
def test_buffer_order_matches_a_plain_simulation_of_the_buffer(length, buf_size):
    from dings.readers.order import buffer_ranks as _buffer_ranks

    fast = _buffer_ranks(np.random.default_rng(5), length, min(buf_size, length)).tolist()
    # the same random draws, played out one step at a time
    rng = np.random.default_rng(5)
    size = min(buf_size, length)
    buffer = list(range(size))
    order = []
    for step, slot in enumerate(rng.integers(0, size, size=length - size).tolist() if length > size else []):
        order.append(buffer[slot])
        buffer[slot] = size + step
    order += rng.permutation(np.array(buffer, dtype=np.int64)).tolist()
    assert fast == order


def test_both_ways_of_grouping_steps_by_slot_agree():
    from dings.readers.order import group_by_slot as _group_by_slot

    slots = np.random.default_rng(0).integers(0, 50, size=3000)
    packed, plain = _group_by_slot(slots, 50), _group_by_slot(slots, 50, packed=False)
    assert all(np.array_equal(a, b) for a, b in zip(packed, plain))


def test_buf_size_fractions_and_bad_values():
    assert QuasiShuffler(MemoryReader(1000), buf_size=0.05, chunk_size=8).buf_size == 50
    assert QuasiShuffler(MemoryReader(1000), buf_size=0.0101, chunk_size=8).buf_size == 11
    assert QuasiShuffler(MemoryReader(100), buf_size=0.01, chunk_size=16).buf_size == 16  # at least one chunk
    assert QuasiShuffler(MemoryReader(100), buf_size=5).buf_size == 5
    assert QuasiShuffler(MemoryReader(100), buf_size=5.0).buf_size == 5
    assert QuasiShuffler(MemoryReader(10), buf_size=1000).chunk_size == 16
    for bad in (0, -0.5, math.nan, math.inf):
        with pytest.raises(ValueError, match="buf_size"):
            QuasiShuffler(MemoryReader(10), buf_size=bad)
    with pytest.raises(ValueError, match="2.5"):
        QuasiShuffler(MemoryReader(10), buf_size=2.5)
    with pytest.raises(TypeError, match="buf_size"):
        QuasiShuffler(MemoryReader(10), buf_size="big")
    with pytest.raises(ValueError, match="chunk_size must be at least 1, got 0"):
        QuasiShuffler(MemoryReader(10), chunk_size=0)


def test_quasi_iter_chunk_size_is_only_a_read_hint():
    quasi = QuasiShuffler(MemoryReader(200), buf_size=20, chunk_size=8, seed=2)
    full = ids(quasi.iter(start=0))
    quasi.set_epoch(0)
    assert ids(quasi.iter(start=0, chunk_size=1)) == full


# --- Cycler ---


def test_cycler_cycles_forever(make):
    reader = make(25)
    cycler = Cycler(reader)
    assert len(cycler) == 25
    samples = ids(itertools.islice(cycler, 90))
    assert samples == (list(range(25)) * 4)[:90]
    assert cycler.get(3)["i"] == 3 and cycler.find_index("k7") == 7 and cycler.find_key(-1) == "k24"


def test_cycler_next_seek_and_start_wrap_around():
    cycler = Cycler(MemoryReader(5))
    assert [cycler.next()["i"] for _ in range(12)] == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1]
    assert ids(itertools.islice(cycler.iter(), 4)) == [2, 3, 4, 0]
    cycler.seek(4)
    assert ids(itertools.islice(cycler.iter(), 3)) == [4, 0, 1]
    assert ids(itertools.islice(cycler.iter(start=-2), 3)) == [3, 4, 0]
    cycler.seek(5)
    assert cycler.next()["i"] == 0
    assert ids(cycler.iter(start=1, stop=4)) == [1, 2, 3]  # a stop makes it finite
    keyed = list(itertools.islice(cycler.iter(start=3, yield_key=True), 4))
    assert [k for k, _ in keyed] == ["k3", "k4", "k0", "k1"]
    raw = list(itertools.islice(cycler.iter(start=0, raw=True), 6))
    assert [unpackb(r)["i"] for r in raw] == [0, 1, 2, 3, 4, 0]
    with pytest.raises(IndexError, match="6"):
        cycler.iter(start=6)


def test_cycler_over_a_shuffler_reshuffles_each_cycle():
    cycler = Cycler(Shuffler(MemoryReader(40), seed=1))
    stream = ids(itertools.islice(cycler, 160))
    cycles = [stream[i : i + 40] for i in range(0, 160, 40)]
    assert all(sorted(c) == list(range(40)) for c in cycles)
    assert len({tuple(c) for c in cycles}) == 4
    again = Cycler(Shuffler(MemoryReader(40), seed=1))
    assert [again.next()["i"] for _ in range(160)] == stream  # next() passes the same way


# --- Repeater ---


def test_repeater_reads_the_reader_times_times(make):
    repeater = Repeater(make(30), 3)
    assert (len(repeater), repeater.total, repeater.times) == (30, 90, 3)  # len: one repetition (datadings)
    assert ids(repeater) == list(range(30)) * 3
    assert repeater[65]["i"] == 5 and repeater.find_key(-1) == "k29" and repeater.find_index("k4") == 4
    assert ids(repeater[25:35]) == list(range(25, 30)) + list(range(5))
    assert ids(repeater.iter(start=55, stop=62)) == list(range(25, 30)) + [0, 1]
    repeater.seek(58)  # index % len, as datadings: the rest of a repetition, then two more
    assert [repeater.next()["i"] for _ in range(4)] == [28, 29, 0, 1]
    assert ids(repeater.iter()) == list(range(2, 30)) + list(range(30))
    with pytest.raises(StopIteration):
        repeater.next()
    assert [k for k, _ in repeater.iter(start=28, stop=32, yield_key=True)] == ["k28", "k29", "k0", "k1"]
    assert [unpackb(r)["i"] for r in repeater.iter(start=29, stop=31, raw=True)] == [29, 0]


def test_repeater_over_a_quasi_shuffler_reshuffles_each_repetition():
    inner = QuasiShuffler(MemoryReader(100), buf_size=10, chunk_size=4, seed=5)
    repeater = Repeater(inner, 4)
    stream = ids(repeater)
    assert Counter(stream) == Counter({i: 4 for i in range(100)})
    passes = [stream[i : i + 100] for i in range(0, 400, 100)]
    assert all(sorted(p) == list(range(100)) for p in passes)
    assert len({tuple(p) for p in passes}) == 4
    again = Repeater(QuasiShuffler(MemoryReader(100), buf_size=10, chunk_size=4, seed=5), 4)
    assert ids(again) == stream
    again = Repeater(QuasiShuffler(MemoryReader(100), buf_size=10, chunk_size=4, seed=5), 4)
    assert [again.next()["i"] for _ in range(400)] == stream
    assert again.reader.reader.reads == 400  # next() reads as one pass, not the buffer again per call
    with pytest.raises(StopIteration):
        again.next()


def test_repeater_next_after_copy_pickle_and_seek():
    import pickle

    stream = ids(Repeater(Shuffler(MemoryReader(10), seed=1), 2))
    repeater = Repeater(Shuffler(MemoryReader(10), seed=1), 2)
    assert [repeater.next()["i"] for _ in range(3)] == stream[:3]
    clone = copy.copy(repeater)
    restored = pickle.loads(pickle.dumps(repeater))
    assert [clone.next()["i"] for _ in range(3)] == [repeater.next()["i"] for _ in range(3)] == stream[3:6]
    assert restored.next()["i"] == stream[3]
    repeater.seek(12)  # index % len: position 2 of the first repetition
    assert repeater.next()["i"] == stream[2]


def test_repeater_refuses_bad_times():
    for bad in (0, -2):
        with pytest.raises(ValueError, match=f"times must be at least 1, got {bad}"):
            Repeater(MemoryReader(3), bad)
    with pytest.raises(TypeError, match="times"):
        Repeater(MemoryReader(3), "2")


# --- Range ---


def test_range_is_a_renumbered_part(make):
    part = Range(make(50), 10, 20)
    assert len(part) == 10 and (part.start, part.stop) == (10, 20)
    assert ids(part) == list(range(10, 20))
    assert part[0]["i"] == 10 and part[-1]["i"] == 19 and ids(part[2:4]) == [12, 13]
    assert part.find_index("k15") == 5 and part.find_key(5) == "k15"
    assert "k15" in part and "k9" not in part and "k20" not in part
    with pytest.raises(KeyError, match="'k20'"):
        part.find_index("k20")
    with pytest.raises(IndexError, match="10"):
        part.get(10)
    part.seek(7)
    assert part.next()["i"] == 17 and ids(part.iter()) == [18, 19]
    assert ids(part.iter(start=-3, stop=-1)) == [17, 18]
    assert [k for k, _ in part.iter(start=0, stop=2, yield_key=True)] == ["k10", "k11"]
    assert [unpackb(r)["i"] for r in part.iter(start=8, raw=True)] == [18, 19]


def test_range_bounds_like_range():
    reader = MemoryReader(50)
    assert ids(Range(reader, 45)) == list(range(45, 50))
    assert ids(Range(reader, -5)) == list(range(45, 50))
    assert ids(Range(reader, 0, -48)) == [0, 1]
    assert ids(Range(reader, 7, 7)) == []
    assert len(Range(reader)) == 50
    assert len(Range(reader, 30, 20)) == 0  # stop is clipped like a slice bound (datadings)
    assert ids(Range(reader, 40, 51)) == list(range(40, 50))
    with pytest.raises(IndexError, match="start -51 is out of range"):
        Range(reader, -51)
    with pytest.raises(IndexError, match="start 51 is out of range"):
        Range(reader, 51)
    with pytest.raises(TypeError, match="start"):
        Range(reader, 1.5)


def test_range_over_a_shuffler_is_a_fixed_random_subset(make):
    shuffler = Shuffler(make(100), seed=2)
    order = ids(shuffler.iter(start=0))
    shuffler.set_epoch(0)
    train, valid = Range(shuffler, 0, 80), Range(shuffler, 80)
    assert ids(train) == order[:80] and ids(valid) == order[80:]
    assert ids(train) == order[:80]  # passes of a Range never reshuffle what it wraps
    assert sorted(ids(train) + ids(valid)) == list(range(100))
    assert valid.find_index(f"k{order[85]}") == 5
    assert f"k{order[10]}" not in valid


def test_shuffler_over_a_range_and_cycler_over_a_repeater():
    shuffler = Shuffler(Range(MemoryReader(100), 20, 40), seed=0)
    assert sorted(ids(shuffler)) == list(range(20, 40))
    cycler = Cycler(Repeater(MemoryReader(3), 2))
    assert ids(itertools.islice(cycler, 9)) == [0, 1, 2] * 3


# --- every augment ---


AUGMENTS = {
    "Shuffler": lambda r: Shuffler(r, seed=1),
    "QuasiShuffler": lambda r: QuasiShuffler(r, seed=1),
    "Cycler": Cycler,
    "Repeater": lambda r: Repeater(r, 3),
    "Range": Range,
    "nested": lambda r: Range(Repeater(QuasiShuffler(Shuffler(r), buf_size=2, chunk_size=2), 2)),
}


@pytest.mark.parametrize("name", sorted(AUGMENTS))
def test_empty_datasets_iterate_to_nothing(make, name):
    augment = AUGMENTS[name](make(0))
    assert len(augment) == 0
    assert list(itertools.islice(augment, 5)) == []
    assert list(itertools.islice(augment.iter(start=0), 5)) == [] and augment.slice(0, 5) == []
    with pytest.raises(StopIteration):
        augment.next()
    with pytest.raises(IndexError):
        augment.get(0)
    assert "k0" not in augment


@pytest.mark.parametrize("name", sorted(AUGMENTS))
def test_close_and_with_reach_the_wrapped_reader(name):
    reader = MemoryReader(10)
    with AUGMENTS[name](reader) as augment:
        assert ids(itertools.islice(augment, 3))
    assert reader.closed


def test_close_releases_a_msgpack_reader(tmp_path):
    reader = MsgpackReader(write_dataset(tmp_path / "c.msgpack", 5))
    with Range(Shuffler(reader), 1) as part:
        assert len(part) == 4
    assert reader._view is None and reader.source._map is None


def test_augments_wrap_only_readers():
    with pytest.raises(TypeError, match="list"):
        Shuffler([1, 2, 3])
    with pytest.raises(ValueError, match="seed must be a non-negative int, got -1"):
        Shuffler(MemoryReader(3), seed=-1)
    with pytest.raises(TypeError, match="seed"):
        QuasiShuffler(MemoryReader(3), seed="x")


def test_repr_names_the_stack():
    text = repr(Range(Shuffler(MemoryReader(10), seed=4), 2, 5))
    assert text.startswith("Range(Shuffler(") and "seed=4" in text and "start=2, stop=5" in text


# --- properties ---


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(0, 300),
    seed=st.integers(0, 2**64),
    chunk_size=st.integers(1, 40),
    buf_size=st.one_of(st.integers(1, 80), st.floats(0.001, 0.999)),
    epoch=st.integers(0, 3),
)
def test_shufflers_yield_permutations(n, seed, chunk_size, buf_size, epoch):
    reader = MemoryReader(n)
    quasi = QuasiShuffler(reader, buf_size=buf_size, chunk_size=chunk_size, seed=seed)
    quasi.set_epoch(epoch)
    handed_out = 0
    most = 0

    def on_read():
        nonlocal most
        most = max(most, reader.reads - handed_out)

    reader.on_read = on_read
    order = []
    for sample in quasi.iter(start=0):
        handed_out += 1
        order.append(sample["i"])
    assert sorted(order) == list(range(n))
    assert most <= quasi.buf_size
    assert [quasi[i]["i"] for i in range(n)] == order
    shuffler = Shuffler(MemoryReader(n), seed=seed)
    shuffler.set_epoch(epoch)
    assert sorted(ids(shuffler)) == list(range(n))


# --- one home per job: the modules behind dings.readers.augment ---


def test_augment_module_keeps_the_datadings_names():
    from dings.readers import augment

    for name in ("Augment", "Cycler", "QuasiShuffler", "Range", "Repeater", "Shuffler"):
        assert getattr(augment, name) is getattr(__import__("dings.readers", fromlist=[name]), name)


def test_repeater_min_size_repeats_until_the_total_reaches_it():
    reader = Repeater(MemoryReader(4), min_size=9)
    assert reader.times == 3 and reader.total == 12 and len(reader) == 4
    assert [s["i"] for s in reader.iter(start=0)] == [0, 1, 2, 3] * 3
    with pytest.raises(ValueError, match="exactly one"):
        Repeater(MemoryReader(4))
    with pytest.raises(ValueError, match="empty"):
        Repeater(MemoryReader(0), min_size=1)


def test_shuffler_and_epoch_order_give_the_same_permutation():
    from dings.readers import EpochOrder

    n, seed = 50, 7
    shuffler = Shuffler(MemoryReader(n), seed=seed)
    order = EpochOrder(n, "shuffle", seed)
    for epoch in range(3):
        shuffler.set_epoch(epoch)
        assert [s["i"] for s in shuffler.iter(start=0)] == order.permutation(epoch).tolist()
