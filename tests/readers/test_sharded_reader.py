"""ShardedReader: many shard files read as one dataset with global indices and key look-up."""

from __future__ import annotations

import copy

import pytest

from dings.format import FileWriter, ShardedWriter
from dings.readers import MsgpackReader, ShardedReader, natural_sort_key


@pytest.fixture
def shards(tmp_path):
    with ShardedWriter(tmp_path / "train", max_samples=7, progress=False) as writer:
        for i in range(30):
            writer.write({"key": f"k{i}", "i": i})
    return tmp_path / "train"


def test_glob_reads_shards_in_natural_order_with_global_indices(shards):
    with ShardedReader(str(shards / "train-*.msgpack")) as reader:
        assert len(reader.shards) == 5 and len(reader) == 30
        assert [s["i"] for s in reader] == list(range(30))
        assert reader.get(13)["i"] == 13 and reader[-1]["i"] == 29
        assert [s["i"] for s in reader[5:16]] == list(range(5, 16))
        assert [s["i"] for s in reader.iter(20, 23)] == [20, 21, 22]


def test_keys_are_found_across_shards(shards):
    with ShardedReader(str(shards / "*.msgpack")) as reader:
        assert reader.find_index("k22") == 22
        assert reader.find_key(22) == "k22"
        assert "k29" in reader and "k30" not in reader
        with pytest.raises(KeyError, match="k30"):
            reader.find_index("k30")


def test_natural_sort_puts_shard_10_after_shard_9(tmp_path):
    for number in (10, 9, 1):
        with FileWriter(tmp_path / f"part-{number}.msgpack", progress=False) as writer:
            writer.write({"key": f"p{number}"})
    with ShardedReader(str(tmp_path / "part-*.msgpack")) as reader:
        assert [s["key"] for s in reader] == ["p1", "p9", "p10"]
    assert sorted(["a10", "a9", "a1"], key=natural_sort_key) == ["a1", "a9", "a10"]


def test_list_of_paths_and_readers(shards):
    paths = sorted(shards.glob("*.msgpack"))
    with ShardedReader([paths[1], MsgpackReader(paths[0])]) as reader:
        assert [s["i"] for s in reader] == list(range(7, 14)) + list(range(0, 7))


def test_no_matching_shard_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no .msgpack file matches"):
        ShardedReader(str(tmp_path / "none-*.msgpack"))
    with pytest.raises(ValueError, match="at least one shard"):
        ShardedReader([])


def test_copies_are_independent(shards):
    reader = ShardedReader(str(shards / "*.msgpack"))
    reader.seek(8)
    clone = copy.copy(reader)
    reader.close()
    assert clone.next()["i"] == 8
