"""Untrusted samples: writers never store a map that datadings would decode with pickle.

msgpack-numpy encodes an object-dtype numpy array as a map ``{b"nd": True, b"kind": b"O", …}``
whose data is a pickle, and decodes such a map with ``pickle.loads``, which can execute code.
dings refuses to build one from an object array, and must equally refuse the map itself when a
sample holds it already encoded (a dict from an untrusted source, or packed bytes copied by
``shuffle``/``merge``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import msgpack
import msgpack_numpy
import numpy as np
import pytest

from dings.format import FileWriter, RawWriter, ShardedWriter, UnsafeDataError, packb
from dings.readers import MsgpackReader
from dings.tools import merge, shuffle

OBJECTS = np.array([1, "x"], dtype=object)
#: msgpack-numpy's encoding of an object array: a plain dict that msgpack packs as it is
ENCODED = msgpack_numpy.encode(OBJECTS)
#: the same map as a stranger might spell it, with str keys and values
ENCODED_STR = {"nd": True, "type": "|O", "kind": "O", "shape": [2], "data": ENCODED[b"data"]}


def read_keys(path: Path) -> list[str]:
    with MsgpackReader(path) as reader:
        return [sample["key"] for sample in reader]


def test_the_encoded_map_would_be_unpickled_by_msgpack_numpy():
    packed = msgpack.packb({"key": "k", "a": ENCODED}, use_bin_type=True)
    # how datadings reads a sample: msgpack-numpy's hook calls pickle.loads on the data
    sample = msgpack.unpackb(packed, object_hook=msgpack_numpy.decode, raw=False)
    assert isinstance(sample["a"], np.ndarray) and sample["a"].dtype == object


@pytest.mark.parametrize(
    "sample, field",
    [
        ({"key": "k", "a": ENCODED}, r"sample\['a'\]"),
        ({"key": "k", "meta": {"list": [1, ENCODED]}}, r"sample\['meta'\]\['list'\]\[1\]"),
        ({"key": "k", "a": ENCODED_STR}, r"sample\['a'\]"),
        ({"key": "k", b"a": ENCODED}, r"sample\['a'\]"),
    ],
)
def test_file_writer_refuses_an_encoded_object_array_and_names_key_and_field(tmp_path, sample, field):
    path = tmp_path / "d.msgpack"
    with FileWriter(path, progress=False) as writer:
        writer.write({"key": "good"})
        with pytest.raises(UnsafeDataError, match=rf"d\.msgpack.*sample 'k'.*{field}.*object-dtype array.*pickle"):
            writer.write(sample)
    assert read_keys(path) == ["good"]
    assert ENCODED[b"data"] not in path.read_bytes()


def test_allow_unsafe_writes_the_encoded_map_which_datadings_unpickles(tmp_path):
    datadings_reader = pytest.importorskip("datadings.reader")
    path = tmp_path / "d.msgpack"
    with FileWriter(path, progress=False, allow_unsafe=True) as writer:
        writer.write({"key": "k", "a": ENCODED})
    with MsgpackReader(path, allow_unsafe=True) as reader:
        assert list(reader.get(0)["a"]) == [1, "x"]
    with datadings_reader.MsgpackReader(path) as reader:  # datadings calls pickle.loads, unasked
        unpickled = reader.get(0)["a"]
    assert isinstance(unpickled, np.ndarray) and unpickled.dtype == object


def test_maps_that_merely_look_alike_are_written(tmp_path):
    path = tmp_path / "d.msgpack"
    samples = [
        {"key": "a", "kind": "O", "shape": [2]},  # no "nd": msgpack-numpy leaves it a map
        {"key": "b", "array": np.arange(6).reshape(2, 3), "record": np.zeros(2, dtype=[("x", "<i4")])},
    ]
    with FileWriter(path, progress=False) as writer:
        for sample in samples:
            writer.write(sample)
    assert read_keys(path) == ["a", "b"]


def test_sharded_writer_refuses_an_encoded_object_array(tmp_path):
    with ShardedWriter(tmp_path / "set.msgpack", max_samples=10, progress=False) as writer:
        with pytest.raises(UnsafeDataError, match="sample 'k'.*'a'"):
            writer.write({"key": "k", "a": ENCODED})


@pytest.mark.parametrize(
    "packed",
    [
        msgpack.packb({"key": "k", "a": ENCODED}, use_bin_type=True),
        msgpack.packb({"key": "k", "a": ENCODED_STR}, use_bin_type=True),
        # the same entry with a non-canonical str8 header for "O": valid msgpack all the same
        msgpack.packb({"key": "k", "a": ENCODED}, use_bin_type=True).replace(b"kind\xc4\x01O", b"kind\xd9\x01O"),
    ],
    ids=["bin", "str", "str8"],
)
def test_raw_writer_refuses_packed_bytes_holding_an_encoded_object_array(tmp_path, packed):
    path = tmp_path / "raw.msgpack"
    with RawWriter(path, progress=False) as writer:
        with pytest.raises(UnsafeDataError, match=r"raw\.msgpack.*sample 'k'.*'a'"):
            writer.write("k", packed)
    assert read_keys(path) == []


def test_raw_writer_write_many_writes_the_samples_before_the_unsafe_one_only(tmp_path):
    path = tmp_path / "raw.msgpack"
    pieces = [packb({"key": "a"}), msgpack.packb({"key": "b", "x": ENCODED}, use_bin_type=True), packb({"key": "c"})]
    offsets = np.cumsum([0] + [len(p) for p in pieces])
    with RawWriter(path, progress=False) as writer:
        with pytest.raises(UnsafeDataError, match="sample 'b'"):
            writer.write_many(["a", "b", "c"], b"".join(pieces), offsets)
    assert read_keys(path) == ["a"]


@pytest.fixture
def unsafe_dataset(tmp_path) -> Path:
    """A dataset whose second sample holds an object array (as a trusting writer stores it)."""
    path = tmp_path / "unsafe.msgpack"
    with FileWriter(path, progress=False, allow_unsafe=True) as writer:
        writer.write({"key": "a", "v": 1})
        writer.write({"key": "b", "v": OBJECTS})
    return path


def test_shuffle_refuses_a_dataset_holding_an_object_array_and_writes_nothing(tmp_path, unsafe_dataset):
    out = tmp_path / "out.msgpack"
    with pytest.raises(UnsafeDataError, match="sample 'b'.*'v'"):
        shuffle(unsafe_dataset, out, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in tmp_path.glob("unsafe.msgpack*"))


def test_merge_refuses_a_dataset_holding_an_object_array_and_writes_nothing(tmp_path, unsafe_dataset):
    other = tmp_path / "other.msgpack"
    with FileWriter(other, progress=False) as writer:
        writer.write({"key": "o"})
    out = tmp_path / "out.msgpack"
    for prefix in (False, True):
        with pytest.raises(UnsafeDataError, match="sample '.*b'.*'v'"):
            merge([other, unsafe_dataset], out, prefix_keys=prefix, progress=False)
        assert not list(tmp_path.glob("out.msgpack*")) and not list(tmp_path.glob(".out.msgpack*"))


def test_dings_shuffle_fails_with_one_line(tmp_path, unsafe_dataset):
    out = tmp_path / "out.msgpack"
    result = subprocess.run(
        [sys.executable, "-m", "dings", "shuffle", str(unsafe_dataset), str(out), "-y", "-q"],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "'b'" in lines[0] and "pickle" in lines[0]
    assert not out.exists()
