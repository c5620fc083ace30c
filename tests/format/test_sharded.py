"""ShardedWriter: complete shards, limits, unique keys across shards, all-or-nothing commit."""

from __future__ import annotations

import io
import sys

import pytest

from dings.format import DuplicateKeyError, ShardedWriter, packb, shard_pattern, verify
from dings.readers import MsgpackReader


def shards_in(folder):
    return sorted(p for p in folder.iterdir() if p.name.endswith(".msgpack"))


def keys_of(path):
    with MsgpackReader(path) as reader:
        return [s["key"] for s in reader]


def test_pattern_from_directory_data_path_or_format_string(tmp_path):
    assert shard_pattern(tmp_path / "train") == str(tmp_path / "train" / "train-{index:05d}.msgpack")
    assert shard_pattern(tmp_path / "train.msgpack") == str(tmp_path / "train-{index:05d}.msgpack")
    assert shard_pattern("x/part{:03d}.msgpack") == "x/part{:03d}.msgpack"


def test_max_samples_rolls_over_to_complete_shards(tmp_path):
    with ShardedWriter(tmp_path / "train", max_samples=4, progress=False) as writer:
        for i in range(10):
            writer.write({"key": f"k{i}"})
        assert writer.written == 10
    shards = shards_in(tmp_path / "train")
    assert [p.name for p in shards] == ["train-00000.msgpack", "train-00001.msgpack", "train-00002.msgpack"]
    assert [keys_of(p) for p in shards] == [["k0", "k1", "k2", "k3"], ["k4", "k5", "k6", "k7"], ["k8", "k9"]]
    assert all(verify(p).ok for p in shards)


def test_max_bytes_limits_packed_size_per_shard(tmp_path):
    samples = [{"key": f"k{i}", "data": bytes(100)} for i in range(10)]
    size = len(packb(samples[0]))
    with ShardedWriter(tmp_path / "d.msgpack", max_bytes=3 * size, progress=False) as writer:
        for sample in samples:
            writer.write(sample)
    shards = shards_in(tmp_path)
    assert [len(keys_of(p)) for p in shards] == [3, 3, 3, 1]
    assert all(p.stat().st_size <= 3 * size for p in shards)


def test_sample_larger_than_max_bytes_gets_its_own_shard(tmp_path):
    with ShardedWriter(tmp_path / "d.msgpack", max_bytes=50, progress=False) as writer:
        writer.write({"key": "small"})
        writer.write({"key": "big", "data": bytes(200)})
        writer.write({"key": "small2"})
    assert [keys_of(p) for p in shards_in(tmp_path)] == [["small"], ["big"], ["small2"]]


def test_keys_must_be_unique_across_shards(tmp_path):
    with ShardedWriter(tmp_path / "d.msgpack", max_samples=1, progress=False) as writer:
        writer.write({"key": "a"})
        with pytest.raises(DuplicateKeyError, match="'a'.*across shards"):
            writer.write({"key": "a"})


def test_failure_leaves_no_shard_and_keeps_older_set(tmp_path):
    with ShardedWriter(tmp_path / "d.msgpack", max_samples=2, progress=False) as writer:
        for i in range(4):
            writer.write({"key": f"old{i}"})
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(RuntimeError):
        with ShardedWriter(tmp_path / "d.msgpack", max_samples=1, overwrite=True, progress=False) as writer:
            for i in range(5):
                writer.write({"key": f"new{i}"})
            raise RuntimeError("conversion failed")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_overwrite_with_fewer_shards_removes_stale_shards(tmp_path):
    with ShardedWriter(tmp_path / "d.msgpack", max_samples=1, progress=False) as writer:
        for i in range(5):
            writer.write({"key": f"old{i}"})
    with ShardedWriter(tmp_path / "d.msgpack", max_samples=10, overwrite=True, progress=False) as writer:
        for i in range(3):
            writer.write({"key": f"new{i}"})
    shards = shards_in(tmp_path)
    assert [p.name for p in shards] == ["d-00000.msgpack"]
    assert keys_of(shards[0]) == ["new0", "new1", "new2"]
    assert len(list(tmp_path.iterdir())) == 7  # six datadings files and the .crc32 checksums


def test_existing_shards_without_terminal_raise_file_exists(tmp_path, monkeypatch):
    with ShardedWriter(tmp_path / "d.msgpack", max_samples=1, progress=False) as writer:
        writer.write({"key": "a"})
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(FileExistsError, match="overwrite=True"):
        ShardedWriter(tmp_path / "d.msgpack", max_samples=1, progress=False)


def test_no_samples_still_gives_one_empty_complete_shard(tmp_path):
    with ShardedWriter(tmp_path / "d.msgpack", max_samples=3, progress=False):
        pass
    (shard,) = shards_in(tmp_path)
    assert verify(shard).ok and keys_of(shard) == []


def test_a_limit_is_required():
    with pytest.raises(ValueError, match="max_samples or max_bytes"):
        ShardedWriter("x.msgpack")


def test_existing_shards_are_refused_even_on_a_terminal(tmp_path, monkeypatch):
    """Only FileWriter asks (as datadings); a sharded writer never waits for an answer."""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    with ShardedWriter(tmp_path / "d.msgpack", max_samples=1, progress=False) as writer:
        writer.write({"key": "a"})
    monkeypatch.setattr(sys, "stdin", Terminal("yes\n"))
    with pytest.raises(FileExistsError, match="overwrite=True"):
        ShardedWriter(tmp_path / "d.msgpack", max_samples=1, progress=False)
