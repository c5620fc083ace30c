"""MsgpackReader (minimal, for reading back what the writers wrote): len, get, iter, keys."""

from __future__ import annotations

import msgpack
import numpy as np
import pytest

from dings.format import CorruptIndexError, FileWriter, packb
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
