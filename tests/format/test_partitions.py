"""PartitionedOutput: partitions written independently, retried, resumed, and committed whole."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from dings.format import (
    DuplicateKeyError,
    PartitionedOutput,
    ShardedWriter,
    load_manifest,
    load_md5,
    output_prefix,
    verify,
    write_label_names,
)
from dings.readers import ShardedReader


def samples(first: int, count: int, prefix: str = "k") -> list[dict]:
    """Samples ``first … first + count - 1``; sample ``i``'s bytes are seeded by ``i``."""
    return [
        {"key": f"{prefix}{i:05d}", "label": i % 7, "data": np.random.default_rng(i).bytes(5 + i % 50)}
        for i in range(first, first + count)
    ]


def write_all(out: PartitionedOutput, sizes: list[int]) -> list:
    records, first = [], 0
    for partition, size in enumerate(sizes):
        records.append(out.write_partition(partition, samples(first, size), f"p{partition}"))
        first += size
    return records


def stat_of(path):
    st = os.stat(path)
    return st.st_ino, st.st_mtime_ns


def test_output_prefix_names_folder_and_file():
    assert output_prefix("out/train") == "out/train/train"
    assert output_prefix("out/train.msgpack") == "out/train"
    assert output_prefix("s3://bucket/train/") == "s3://bucket/train/train"
    with pytest.raises(ValueError, match="not a pattern"):
        output_prefix("out/train-{:05d}.msgpack")


def test_commit_makes_the_whole_set_appear_with_a_manifest(tmp_path):
    out = PartitionedOutput(tmp_path / "train", max_samples=4)
    records = write_all(out, [10, 3, 0, 6])
    assert not list((tmp_path / "train").glob("*.msgpack"))  # nothing final before the commit
    manifest = out.commit(records)
    shards = sorted((tmp_path / "train").glob("train-*.msgpack"))
    assert [p.name for p in shards] == [
        "train-00000-00000.msgpack",
        "train-00000-00001.msgpack",
        "train-00000-00002.msgpack",
        "train-00001-00000.msgpack",
        "train-00003-00000.msgpack",
        "train-00003-00001.msgpack",
    ]
    assert not out.staging.exists()
    with ShardedReader(str(tmp_path / "train" / "train-*.msgpack")) as reader:
        assert [s["key"] for s in reader] == [s["key"] for s in samples(0, 19)]
        assert reader[12] == samples(0, 19)[12]
    assert (
        load_manifest(tmp_path / "train")
        == manifest
        == json.loads((tmp_path / "train" / "train.manifest.json").read_text())
    )
    assert manifest["samples"] == 19 and manifest["partitions"] == 4
    for entry, path in zip(manifest["shards"], shards):
        assert (
            entry["name"] == path.name
            and entry["md5"] == load_md5(path)[path.name]
            and entry["size"] == path.stat().st_size
        )
        assert verify(path).ok


def test_datadings_reads_the_set_by_glob(tmp_path):
    datadings_reader = pytest.importorskip(
        "datadings.reader.sharded", reason="datadings 3.4.7 (hatch dev env) is the oracle"
    )
    out = PartitionedOutput(tmp_path / "train.msgpack", max_samples=5)
    out.commit(write_all(out, [7, 4]))
    reader = datadings_reader.ShardedReader(str(tmp_path / "train-*.msgpack"))  # sorted glob; the manifest is ignored
    assert len(reader) == 11
    assert [reader.find_key(i) for i in range(11)] == [s["key"] for s in samples(0, 11)]
    assert reader.get(8) == samples(0, 11)[8]


def test_a_retried_partition_replaces_only_its_own_shards(tmp_path):
    out = PartitionedOutput(tmp_path / "train", max_samples=3)
    write_all(out, [8, 5])  # partition 0: 3 shards, partition 1: 2 shards
    other = [stat_of(p) for p in sorted(out.staging.glob("train-00001-*.msgpack*"))]
    again = out.write_partition(0, samples(0, 4), "p0-again")  # a retry that now has 2 shards
    assert [s.name for s in again.shards] == ["train-00000-00000.msgpack", "train-00000-00001.msgpack"]
    assert not list(out.staging.glob("train-00000-00002.msgpack*"))  # the first attempt's third shard is gone
    assert [stat_of(p) for p in sorted(out.staging.glob("train-00001-*.msgpack*"))] == other


def test_resume_skips_verified_partitions_and_refuses_damaged_or_changed_ones(tmp_path):
    out = PartitionedOutput(tmp_path / "train", max_samples=4)
    records = write_all(out, [6, 6])
    assert out.verified(0, "p0") == records[0] and out.verified(1, "p1") == records[1]
    assert out.verified(1, "made from something else") is None
    shard = out.staging / records[1].shards[0].name
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes: only the md5 sees it
    shard.write_bytes(bytes(data))
    assert out.verified(1, "p1") is None
    assert out.verified(1, "p1", check_data=False) == records[1]
    rewritten = out.write_partition(1, samples(6, 6), "p1")
    assert out.verified(1, "p1") == rewritten
    out.commit([records[0], rewritten])
    with ShardedReader(str(tmp_path / "train" / "train-*.msgpack")) as reader:
        assert list(reader) == samples(0, 12)


def test_a_partition_killed_before_its_record_is_not_verified(tmp_path):
    out = PartitionedOutput(tmp_path / "train")
    write_all(out, [5])
    out.record_path(0).unlink()  # as if the task died after its shards, before its record
    assert out.verified(0, "p0") is None


def test_duplicate_keys_across_partitions_fail_the_commit_and_leave_nothing_final(tmp_path):
    out = PartitionedOutput(tmp_path / "train")
    first = out.write_partition(0, samples(0, 5), "a")
    second = out.write_partition(1, samples(4, 5), "b")  # k00004 again
    with pytest.raises(DuplicateKeyError, match=r"'k00004' is in partition 0 .* and in partition 1"):
        out.commit([first, second])
    assert not list((tmp_path / "train").glob("train*.msgpack*")) and not out.manifest.exists()
    assert out.verified(0, "a") is not None  # the partitions stay for a corrected run


def test_a_new_set_replaces_an_older_one_in_one_commit(tmp_path):
    with ShardedWriter(tmp_path / "train", max_samples=5, progress=False) as writer:  # train-00000.msgpack …
        for sample in samples(0, 7, "old"):
            writer.write(sample)
    out = PartitionedOutput(tmp_path / "train", max_samples=2)
    out.commit(write_all(out, [4, 4, 4]), overwrite=True)
    assert len(out.existing()) == 6 and not (tmp_path / "train" / "train-00000.msgpack").exists()
    for path in out.existing():
        write_label_names(path, ["a", "b"])
    with pytest.raises(FileExistsError, match="overwrite"):
        out.check_overwrite(False)
    out.commit([out.write_partition(0, samples(0, 3, "n"), "n")], overwrite=True)
    assert [p.name for p in out.existing()] == ["train-00000-00000.msgpack", "train-00000-00001.msgpack"]
    assert load_manifest(tmp_path / "train")["samples"] == 3
    assert sorted(p.name for p in (tmp_path / "train").glob("*.labels.json")) == [
        "train-00000-00000.msgpack.labels.json",
        "train-00000-00001.msgpack.labels.json",
    ]


def test_wait_for_names_missing_partitions(tmp_path):
    out = PartitionedOutput(tmp_path / "train")
    out.write_partition(0, samples(0, 2), "p0")
    assert [r.partition for r in out.wait_for([0], ["p0"], timeout=0)] == [0]
    with pytest.raises(TimeoutError, match=r"1 of 2 partition\(s\) \(1\)"):
        out.wait_for([0, 1], ["p0", "p1"], timeout=0, poll=0.01)
