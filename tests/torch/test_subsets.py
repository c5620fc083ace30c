"""Reader wrappers: IndexedReader, ClassFilter, Oversample, FractionRange, Repeat (and read_labels)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from dings.readers import MsgpackReader, Shuffler
from dings.torch import ClassFilter, FractionRange, IndexedReader, IterableDataset, Oversample, Repeat, read_labels


def values(reader, key="i"):
    return [s[key] for s in reader.iter(start=0)]


def test_indexed_reader_reads_chosen_samples_and_runs(make_reader):
    base = make_reader(20)
    reader = IndexedReader(base, [5, 6, 7, 2, 2, 19])
    assert len(reader) == 6 and values(reader) == [5, 6, 7, 2, 2, 19]
    assert [reader[i]["i"] for i in range(6)] == [5, 6, 7, 2, 2, 19] and reader[-1]["i"] == 19
    assert reader.find_key(3) == "s00002" and reader.find_index("s00002") == 3 and "s00007" in reader
    assert "s00008" not in reader
    with pytest.raises(KeyError, match="s00008"):
        reader.find_index("s00008")
    assert [s["i"] for s in reader.iter(start=1, stop=4, raw=False)] == [6, 7, 2]
    assert len(IndexedReader(base, [])) == 0 and values(IndexedReader(base, np.arange(3))) == [0, 1, 2]
    with pytest.raises(ValueError, match="index 20 is out of range"):
        IndexedReader(base, [0, 20])
    with pytest.raises(ValueError, match="flat sequence of ints"):
        IndexedReader(base, [0.5])
    with pytest.raises(TypeError, match="Reader"):
        IndexedReader([1, 2], [0])


def test_class_filter_keeps_or_drops_labels(make_reader):
    base = make_reader(23)  # label = i % 5
    kept = ClassFilter(base, keep=[1, 3])
    assert values(kept) == [i for i in range(23) if i % 5 in (1, 3)]
    dropped = ClassFilter(base, drop=[0])
    assert values(dropped) == [i for i in range(23) if i % 5 != 0]
    by_list = ClassFilter(base, keep=["a"], labels=["a" if i < 4 else "b" for i in range(23)])
    assert values(by_list) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="exactly one of keep"):
        ClassFilter(base, keep=[1], drop=[2])
    with pytest.raises(ValueError, match="labels has 2 entries"):
        ClassFilter(base, keep=[1], labels=[1, 2])
    with pytest.raises(KeyError, match="has no 'cls'"):
        ClassFilter(base, keep=[1], label_key="cls")


def test_oversample_balances_classes():
    from dings.readers import ListReader

    labels = [0] * 10 + [1] * 3 + [2] * 4
    base = ListReader(
        [{"key": f"k{i}", "i": i, "label": label} for i, label in enumerate(labels)], numeric_labels=False
    )
    reader = Oversample(base, seed=1)
    counts = Counter(s["label"] for s in reader.iter(start=0))
    assert counts == {0: 10, 1: 10, 2: 10} and reader.class_counts == {0: 10, 1: 3, 2: 4}
    per_sample = Counter(s["i"] for s in reader.iter(start=0))
    assert all(per_sample[i] == 1 for i in range(10))  # the largest class is not repeated
    assert {per_sample[i] for i in range(10, 13)} <= {3, 4} and {per_sample[i] for i in range(13, 17)} <= {2, 3}
    assert values(Oversample(base, seed=1)) == values(reader) and values(reader) == sorted(values(reader))
    assert values(Oversample(base, seed=2)) != values(reader)


def test_fraction_range_splits_without_overlap(make_reader):
    base = make_reader(10)
    train, val = FractionRange(base, 0.0, 0.7), FractionRange(base, 0.7, 1.0)
    assert values(train) == list(range(7)) and values(val) == [7, 8, 9]
    assert values(FractionRange(base, 0.25, 0.75)) == [3, 4, 5, 6, 7]  # 2.5 and 7.5 round up
    assert len(FractionRange(base, 0.5, 0.5)) == 0
    for bad in ((-0.1, 1.0), (0.0, 1.5), (0.8, 0.2), ("a", 1.0)):
        with pytest.raises(ValueError):
            FractionRange(base, *bad)


def test_repeat_by_times_or_minimum_size(make_reader):
    base = make_reader(4)
    assert values(Repeat(base, 3)) == [0, 1, 2, 3] * 3
    assert len(Repeat(base, min_size=9)) == 12 and len(Repeat(base, min_size=3)) == 4
    with pytest.raises(ValueError, match="exactly one of"):
        Repeat(base)
    with pytest.raises(ValueError, match="min_size"):
        Repeat(base, min_size=0)


def test_wrappers_nest_and_feed_an_iterable_dataset(make_reader):
    base = make_reader(40)
    reader = Repeat(ClassFilter(Shuffler(base, seed=3), drop=[4]), 2)
    ds = IterableDataset(reader, batch_size=4, shuffle=True, rank=1, world_size=2)
    other = IterableDataset(reader, batch_size=4, shuffle=True, rank=0, world_size=2)
    seen = Counter(s["i"] for s in list(ds) + list(other))
    assert seen == Counter({i: 2 for i in range(40) if i % 5 != 4})


def test_read_labels(make_file):
    reader = MsgpackReader(make_file(7))
    assert read_labels(reader) == [0, 1, 2, 3, 4, 0, 1]
    assert read_labels(reader, "i") == list(range(7))
