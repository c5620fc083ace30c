"""The public sample-source protocol: a reader for a new storage, and readers written for datadings."""

from __future__ import annotations

import numpy as np
import pytest

from dings.format import packb, unpackb
from dings.readers import QuasiShuffler, Range, Reader, ShardedReader, Shuffler


class BytesDictReader(Reader):
    """A new storage: packed samples in a dict of bytes, implementing only the protocol's core."""

    def __init__(self, n: int, prefix: str = "b") -> None:
        self.order = [f"{prefix}{i:03d}" for i in range(n)]
        self.store = {key: packb({"key": key, "i": i}) for i, key in enumerate(self.order)}

    def __len__(self) -> int:
        return len(self.order)

    def find_index(self, key: str) -> int:
        if key not in self.store:
            raise KeyError(f"{key!r} is not in this dict")
        return self.order.index(key)

    def find_key(self, index: int) -> str:
        return self.order[self._normalize(index)]

    def read_sample(self, index: int, *, raw: bool = False, copy: bool = True):
        packed = self.store[self.order[index]]
        return packed if raw else unpackb(packed)


def keys(samples) -> list[str]:
    return [s["key"] for s in samples]


def test_a_custom_storage_gets_the_whole_reader_api():
    reader = BytesDictReader(10)
    assert reader.get(-1)["i"] == 9 and reader[3]["key"] == "b003"
    assert keys(reader[2:5]) == ["b002", "b003", "b004"]
    assert keys(reader.iter(7)) == ["b007", "b008", "b009"]
    assert reader.get(4, raw=True) == packb({"key": "b004", "i": 4})
    assert [len(run) for run in reader.read_runs([(0, 3), (8, 10)])] == [3, 2]
    spans = reader.read_spans([5, 1, 1])
    decoded = {int(w): unpackb(bytes(s.buffer[a:b])) for s in spans for a, b, w in zip(s.starts, s.stops, s.where)}
    assert [decoded[i]["i"] for i in range(3)] == [5, 1, 1]
    assert "b002" in reader and "x" not in reader


def test_spans_read_a_shuffled_batch_in_storage_order_and_answer_in_the_order_asked():
    reader = BytesDictReader(12)
    asked = []
    read_runs = reader.read_runs
    reader.read_runs = lambda runs, **options: asked.append(runs) or read_runs(runs, **options)  # type: ignore[method-assign]
    order = [9, 2, 8, 3, 2, 10, 0]
    (span,) = reader.read_spans(order)
    assert asked == [[(0, 1), (2, 4), (8, 11)]]  # one run per stretch of adjacent samples, repeats read once
    assert [unpackb(bytes(span.buffer[a:b]))["i"] for a, b in zip(span.starts, span.stops)] == order
    assert span.where.tolist() == list(range(len(order)))
    assert reader.read_spans([])[0].where.tolist() == []


def test_a_custom_storage_works_through_augments_and_shards():
    reader = BytesDictReader(30)
    assert sorted(keys(Shuffler(reader, seed=1))) == sorted(reader.order)
    assert keys(Shuffler(reader, seed=1)) != reader.order
    assert sorted(keys(QuasiShuffler(reader, buf_size=8, chunk_size=4, seed=2))) == sorted(reader.order)
    assert keys(Range(reader, 5, 8)) == ["b005", "b006", "b007"]
    sharded = ShardedReader([BytesDictReader(4, "a"), reader])
    assert len(sharded) == 34 and sharded[4]["key"] == "b000" and sharded.find_index("b002") == 6
    assert keys(sharded.iter(2, 6)) == ["a002", "a003", "b000", "b001"]
    spans = sharded.read_spans([5, 0, 33])
    assert sorted(int(w) for s in spans for w in s.where) == [0, 1, 2]


def test_a_custom_storage_feeds_a_torch_iterable_dataset():
    torch_module = pytest.importorskip("dings.torch")
    dataset = torch_module.IterableDataset(BytesDictReader(20), batch_size=4, seed=3)
    seen = [sample["key"] for sample in dataset]
    assert sorted(seen) == [f"b{i:03d}" for i in range(20)]


def test_a_quasi_shuffler_over_a_reader_that_yields_too_few_is_a_clear_error():
    class Short(BytesDictReader):
        def read_range(self, start, stop, *, raw=False, copy=True):
            return iter([self.read_sample(start, raw=raw, copy=copy)])  # one sample, whatever was asked

    from dings.format import DamagedDataError

    with pytest.raises(DamagedDataError, match="fewer samples than its length"):
        list(QuasiShuffler(Short(12), buf_size=4, chunk_size=4, seed=0))


class DatadingsStyle(Reader):
    """Written to datadings 3.4.7's abstract methods: get and slice, no read_sample."""

    def __init__(self, n: int) -> None:
        self.samples = [{"key": f"d{i}", "i": i} for i in range(n)]

    def __len__(self):
        return len(self.samples)

    def __contains__(self, key):
        return any(s["key"] == key for s in self.samples)

    def __exit__(self, *exc):
        pass

    def find_key(self, index):
        return self.samples[index]["key"]

    def find_index(self, key):
        return next(i for i, s in enumerate(self.samples) if s["key"] == key)

    def get(self, index, yield_key=False, raw=False, copy=True):
        sample = dict(self.samples[index])
        sample = packb(sample) if raw else sample
        return (self.find_key(index), sample) if yield_key else sample

    def slice(self, start, stop=None, yield_key=False, raw=False, copy=True):
        return [self.get(i, yield_key, raw, copy) for i in range(*slice(start, stop).indices(len(self)))]


def test_a_reader_written_for_datadings_is_instantiable_and_works():
    reader = DatadingsStyle(6)
    assert reader.get(2)["i"] == 2 and reader.read_sample(3)["i"] == 3
    assert [s["i"] for s in reader] == list(range(6))
    assert [s["i"] for s in reader.slice(1, 3)] == [1, 2]
    assert [s["i"] for s in Shuffler(reader, seed=0)] != list(range(6))
    assert [s["i"] for s in Range(reader, 2, 4)] == [2, 3]
    assert sorted(s["i"] for s in QuasiShuffler(reader, buf_size=2, chunk_size=2, seed=0)) == list(range(6))


def test_a_reader_without_read_sample_or_get_is_refused_at_instantiation():
    class Incomplete(Reader):
        def __len__(self):
            return 0

        def find_index(self, key):
            raise KeyError(key)

        def find_key(self, index):
            raise IndexError(index)

    with pytest.raises(TypeError, match="must implement read_sample"):
        Incomplete()


def test_spans_of_augments_map_indices_to_the_wrapped_reader():
    base = BytesDictReader(12)
    for wrapped, _mapping in ((Range(base, 4, 10), lambda i: i + 4), (Shuffler(base, seed=5), None)):
        order = np.arange(len(wrapped))[::-1]
        spans = wrapped.read_spans(order)
        got = {}
        for span in spans:
            for a, b, w in zip(span.starts.tolist(), span.stops.tolist(), span.where.tolist()):
                got[w] = unpackb(bytes(span.buffer[a:b]))["key"]
        assert [got[i] for i in range(len(order))] == [wrapped.find_key(int(i)) for i in order]
