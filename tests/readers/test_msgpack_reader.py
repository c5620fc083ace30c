"""MsgpackReader (minimal, for reading back what the writers wrote): len, get, iter, keys."""

from __future__ import annotations

import copy
import multiprocessing
import os

import msgpack
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dings.format import CorruptIndexError, DamagedDataError, FileWriter, packb, unpackb, verify
from dings.readers import MsgpackReader


@pytest.fixture
def dataset(tmp_path):
    path = tmp_path / "d.msgpack"
    with FileWriter(path, progress=False) as writer:
        for i in range(200):
            writer.write({"key": f"k{i}", "i": i, "a": np.full(i % 5, i, dtype=np.int16)})
    return path


def test_len_reads_only_the_keys_header(dataset):
    with MsgpackReader(dataset) as reader:
        assert len(reader) == 200
        assert reader._offsets is None and reader._keys is None


def test_get_by_positive_and_negative_index(dataset):
    with MsgpackReader(dataset) as reader:
        assert reader.get(7)["i"] == 7
        assert reader[-1]["key"] == "k199"
        assert reader.get(3, yield_key=True)[0] == "k3"
        assert msgpack.unpackb(reader.get(5, raw=True))["i"] == 5


def test_out_of_range_index_names_the_index(dataset):
    with MsgpackReader(dataset) as reader:
        with pytest.raises(IndexError, match="index 200 out of range"):
            reader.get(200)
        with pytest.raises(IndexError, match="-201"):
            reader.get(-201)


def test_iteration_in_order_and_from_a_start(dataset):
    with MsgpackReader(dataset) as reader:
        assert [s["i"] for s in reader] == list(range(200))
        assert [k for k, _ in reader.iter(195, yield_key=True)] == [f"k{i}" for i in range(195, 200)]
        assert [s["i"] for s in reader.iter(10, 13)] == [10, 11, 12]


def test_key_lookup_and_membership(dataset):
    with MsgpackReader(dataset) as reader:
        assert reader.find_index("k42") == 42
        assert reader.find_key(42) == "k42"
        assert "k0" in reader and "nope" not in reader and 5 not in reader
        with pytest.raises(KeyError, match="'nope'"):
            reader.find_index("nope")


def test_missing_data_and_missing_index_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="data file not found"):
        MsgpackReader(tmp_path / "none.msgpack")
    (tmp_path / "bare.msgpack").write_bytes(packb({"key": "a"}))
    with pytest.raises(FileNotFoundError, match="no index found"):
        MsgpackReader(tmp_path / "bare.msgpack")


def test_offsets_that_lie_about_the_data_size_are_refused(dataset):
    offsets = dataset.with_name(dataset.name + ".offsets")
    values = np.frombuffer(offsets.read_bytes(), dtype=">u8").copy()
    values[-1] += 10**12
    offsets.write_bytes(values.tobytes())
    with MsgpackReader(dataset) as reader:
        with pytest.raises(CorruptIndexError, match="offsets do not match the data file"):
            reader.get(0)


def test_legacy_index_is_read(tmp_path):
    path = tmp_path / "legacy.msgpack"
    samples = [{"key": f"x{i}", "v": i} for i in range(5)]
    packed = [packb(s) for s in samples]
    path.write_bytes(b"".join(packed))
    starts = np.cumsum([0] + [len(p) for p in packed[:-1]])
    index = {s["key"]: int(o) for s, o in zip(samples, starts)}
    path.with_name(path.name + ".index").write_bytes(msgpack.packb(index, use_bin_type=True))
    with MsgpackReader(path) as reader:
        assert len(reader) == 5
        assert list(reader) == samples
        assert reader.find_index("x3") == 3


# --- the full Reader API on MsgpackReader ---


def test_slices_with_negative_and_open_bounds(dataset):
    with MsgpackReader(dataset) as reader:
        assert [s["i"] for s in reader[5:8]] == [5, 6, 7]
        assert [s["i"] for s in reader[-3:]] == [197, 198, 199]
        assert [s["i"] for s in reader[:2]] == [0, 1]
        assert reader[10:5] == []
        assert [k for k, _ in reader.slice(3, 5, yield_key=True)] == ["k3", "k4"]
        with pytest.raises(ValueError, match="step 1"):
            reader[::2]


def test_slices_spanning_many_blocks_equal_sample_by_sample_reads(dataset):
    with MsgpackReader(dataset) as reader:
        reader.source.block_size = 64  # a few samples per block: the run is decoded in many parts
        whole = reader.slice(3, 197)
        singles = [reader.get(i) for i in range(3, 197)]
    assert [s["key"] for s in whole] == [s["key"] for s in singles] == [f"k{i}" for i in range(3, 197)]
    for a, b in zip(whole, singles):
        assert isinstance(a["a"], np.ndarray) and a["a"].dtype == np.int16
        np.testing.assert_array_equal(a["a"], b["a"])


def test_a_slice_whose_offsets_cut_a_sample_is_a_clear_error(dataset):
    offsets = dataset.with_name(dataset.name + ".offsets")
    values = np.frombuffer(offsets.read_bytes(), dtype=">u8").copy()
    values[2] += 3  # sample 2 now "starts" 3 bytes into itself: samples 0-1 end mid-sample
    offsets.write_bytes(values.tobytes())
    with MsgpackReader(dataset) as reader:
        with pytest.raises(
            DamagedDataError, match=r"d\.msgpack: sample 1 \(key 'k1'\) is damaged .*run `dings verify`"
        ) as caught:
            reader.slice(0, 2)
        assert (caught.value.index, caught.value.key) == (1, "k1")


def test_iter_with_negative_start_raw_and_zero_copy(dataset):
    with MsgpackReader(dataset) as reader:
        assert [s["i"] for s in reader.iter(-2)] == [198, 199]
        raw = list(reader.iter(0, 3, raw=True))
        assert all(type(r) is bytes for r in raw) and unpackb(raw[2])["i"] == 2
        views = list(reader.iter(0, 3, raw=True, copy=False))
        assert all(type(v) is memoryview for v in views) and [bytes(v) for v in views] == raw
        assert type(reader.get(4, raw=True, copy=False)) is memoryview


def test_next_seek_and_iteration_continue_from_the_read_position(dataset):
    with MsgpackReader(dataset) as reader:
        reader.seek(10)
        assert reader.next()["i"] == 10
        assert reader.rawnext() == reader.get(11, raw=True)
        it = reader.iter()
        assert [next(it)["i"] for _ in range(3)] == [12, 13, 14]
        it.close()
        assert reader.next()["i"] == 15
        reader.seek_key("k100")
        assert reader.next()["key"] == "k100"
        reader.seek(-1)
        assert reader.next()["i"] == 199
        with pytest.raises(StopIteration):
            reader.next()
        with pytest.raises(IndexError, match="seek to index 500"):
            reader.seek(500)
        with pytest.raises(KeyError, match="nope"):
            reader.seek_key("nope")


def test_copies_are_independent_readers(dataset):
    reader = MsgpackReader(dataset)
    reader.seek(50)
    clone = copy.copy(reader)
    reader.close()
    assert clone.next()["i"] == 50
    assert clone.get(0)["i"] == 0
    clone.close()


def _read_in_child(reader, queue):
    queue.put([reader.get(i)["i"] for i in (3, 150, 7)] + [reader.find_index("k42")])


def test_reader_inherited_by_forked_processes_reads_correctly(dataset):
    reader = MsgpackReader(dataset)
    reader.get(0)  # load the index before forking, as a DataLoader does
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [context.Process(target=_read_in_child, args=(reader, queue)) for _ in range(3)]
    for w in workers:
        w.start()
    results = [queue.get(timeout=30) for _ in workers]
    for w in workers:
        w.join(30)
    assert results == [[3, 150, 7, 42]] * 3
    assert reader.get(150)["i"] == 150


def test_empty_dataset_iterates_to_nothing(tmp_path):
    path = tmp_path / "empty.msgpack"
    with FileWriter(path, progress=False):
        pass
    with MsgpackReader(path) as reader:
        assert len(reader) == 0 and list(reader) == [] and reader[:] == []
        assert "x" not in reader
        with pytest.raises(IndexError):
            reader.get(0)


def test_verify_data_and_index_against_md5(dataset):
    with MsgpackReader(dataset) as reader:
        assert reader.verify_data() and reader.verify_index()
    data = bytearray(dataset.read_bytes())
    data[5] ^= 1
    dataset.write_bytes(bytes(data))
    with MsgpackReader(dataset) as reader:
        assert not reader.verify_data()
        assert reader.verify_index()
    keys = dataset.with_name(dataset.name + ".keys")
    keys.write_bytes(keys.read_bytes()[:-1])
    assert not MsgpackReader(dataset).verify_index()


def test_garbage_keys_file_is_a_clear_error(dataset):
    dataset.with_name(dataset.name + ".keys").write_bytes(os.urandom(64))
    with MsgpackReader(dataset) as reader:
        assert reader.get(0)["i"] == 0  # reading by index needs only the offsets
        with pytest.raises(CorruptIndexError, match=r"d\.msgpack\.keys"):
            reader.find_key(0)


def test_truncated_data_file_is_refused_before_reading(dataset):
    dataset.write_bytes(dataset.read_bytes()[:-10])
    with MsgpackReader(dataset) as reader:
        with pytest.raises(CorruptIndexError, match="offsets do not match the data file"):
            list(reader)


def test_object_arrays_in_a_file_are_refused_on_every_path(tmp_path):
    path = tmp_path / "unsafe.msgpack"
    with FileWriter(path, progress=False, allow_unsafe=True) as writer:
        writer.write({"key": "a", "o": np.array([1, None], dtype=object)})
    with MsgpackReader(path) as reader:
        with pytest.raises(ValueError, match="pickle"):
            reader.get(0)
        with pytest.raises(ValueError, match="pickle"):
            list(reader)


sample_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=20) | st.binary(max_size=300),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=10,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(sample_values, max_size=40), big=st.integers(0, 3))
def test_random_datasets_read_back_exactly_on_every_path(tmp_path_factory, values, big):
    path = tmp_path_factory.mktemp("h") / "d.msgpack"
    samples = [{"key": f"s{i}", "v": v, "pad": bytes(20000 * big)} for i, v in enumerate(values)]
    with FileWriter(path, progress=False) as writer:
        for sample in samples:
            writer.write(sample)
    assert verify(path).ok
    with MsgpackReader(path) as reader:
        assert list(reader) == samples
        assert [reader.get(i) for i in range(len(samples))] == samples
        assert [unpackb(r) for r in reader.iter(0, raw=True, copy=False)] == samples
        assert reader[:] == samples
        assert all(reader.find_index(s["key"]) == i for i, s in enumerate(samples))
        assert all(reader.find_key(i) == s["key"] for i, s in enumerate(samples))


@pytest.mark.parametrize("absent_every", [1, 2, 10, 1000])
def test_membership_is_exact_whether_or_not_the_bloom_filter_is_in_use(dataset, absent_every):
    """The reader switches its Bloom filter on and off by how many look-ups miss; answers never change."""
    import random

    rng = random.Random(absent_every)
    with MsgpackReader(dataset) as reader:
        for round_ in range(5000):
            if round_ % absent_every == 0:
                key = f"absent-{rng.randrange(10**6)}"
                assert key not in reader
                with pytest.raises(KeyError):
                    reader.find_index(key)
            else:
                i = rng.randrange(200)
                assert f"k{i}" in reader
                assert reader.find_index(f"k{i}") == i
        assert reader._use_filter == (absent_every <= 2)  # mostly absent: the filter pays off


def test_a_pickled_reader_reads_the_same_samples(dataset):
    """Spawned DataLoader workers receive readers by pickling; the copy reopens the file itself."""
    import pickle

    with MsgpackReader(dataset) as reader:
        assert reader.find_index("k7") == 7  # look-up structures loaded before pickling
        reader.seek(3)
        clone = pickle.loads(pickle.dumps(reader))
        assert clone.path == reader.path and len(clone) == len(reader)
        assert [s["i"] for s in clone.iter(stop=6)] == [3, 4, 5]
        assert clone.find_index("k150") == 150 and "nope" not in clone
        assert clone.get(-1)["i"] == 199
        clone.close()
        assert reader.get(0)["i"] == 0  # the original is untouched
