"""Untrusted inputs: partition records and manifests written by someone else.

A staging folder on a shared file system, or a manifest of a downloaded dataset, is data from a
stranger. Whatever it says, dings must never move, remove or read a file outside the dataset, and
must say which file and which field is wrong (a ``DamagedDataError``), never a raw ``KeyError`` or
``TypeError``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from dings.format import (
    DamagedDataError,
    FileWriter,
    PartitionedOutput,
    PartitionRecord,
    ShardRecord,
    load_manifest,
    parse_manifest,
)
from dings.tools import write_partitioned

MD5 = "0" * 32


def samples(first: int, count: int) -> list[dict]:
    return [
        {"key": f"k{i:05d}", "data": np.random.default_rng(i).bytes(5 + i % 7)} for i in range(first, first + count)
    ]


def load(payload: list[int]):
    return iter(samples(payload[0], len(payload)))


def make_victim(folder: Path) -> dict[str, bytes]:
    """A dataset outside the output; returns its files' contents to compare afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    with FileWriter(folder / "v.msgpack", overwrite=True) as writer:
        for sample in samples(100, 3):
            writer.write(sample)
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def untouched(folder: Path, before: dict[str, bytes]) -> bool:
    return {p.name: p.read_bytes() for p in folder.iterdir()} == before


def good_record() -> dict:
    return {
        "dings-partition": 1,
        "partition": 1,
        "fingerprint": "fp1",
        "samples": 2,
        "shards": [
            {"name": "out-00001-00000.msgpack", "samples": 2, "size": 20, "md5": {"out-00001-00000.msgpack": MD5}}
        ],
    }


def good_manifest() -> dict:
    return {
        "dings-manifest": 1,
        "samples": 2,
        "partitions": 1,
        "shards": [{"name": "out-00001-00000.msgpack", "partition": 1, "samples": 2, "size": 20, "md5": MD5}],
    }


def changed(content: dict, where: str, value: object) -> dict:
    """``content`` with the field at ``where`` (``"shards.0.name"``) set to ``value`` (or deleted: ``...``)."""
    content = json.loads(json.dumps(content))
    *path, last = where.split(".")
    node = content
    for step in path:
        node = node[int(step)] if isinstance(node, list) else node[step]
    key = int(last) if isinstance(node, list) else last
    if value is ...:
        del node[key]
    else:
        node[key] = value
    return content


BAD_NAMES = [
    "../../../../victim2/v.msgpack",
    "/tmp/victim/v.msgpack",
    "sub/out-00001-00000.msgpack",
    "..\\out-00001-00000.msgpack",
    "out-00001-00000.msgpack\x00",
    "..",
    "other-00001-00000.msgpack",
    "out-00001.msgpack",
    "out-00001-00000.msgpack.offsets",
    5,
    None,
]

BAD_RECORD_FIELDS = [
    ("shards.0.samples", "2"),
    ("shards.0.samples", -1),
    ("shards.0.samples", True),
    ("shards.0.samples", 1.5),
    ("shards.0.samples", 10**30),
    ("shards.0.size", None),
    ("shards.0.md5", "not a dict"),
    ("shards.0.md5", {"out-00001-00000.msgpack": "xyz"}),
    ("shards.0.md5", {"out-00001-00000.msgpack": MD5, "../../etc/passwd": MD5}),
    ("shards.0.md5", {}),
    ("shards.0", "a string"),
    ("shards", {"name": "x"}),
    ("samples", 3),
    ("fingerprint", 7),
    ("partition", 2),
    ("dings-partition", 2),
    ("dings-partition", True),
    ("shards.0.name", ...),
    ("samples", ...),
    ("shards", ...),
]


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_a_record_naming_a_file_outside_the_dataset_is_refused(tmp_path, name):
    record = changed(good_record(), "shards.0.name", name)
    with pytest.raises(DamagedDataError, match=r"where\.json: .*shards\[0\]\.name"):
        PartitionRecord.from_json(json.dumps(record), "where.json", name="out", partition=1)


@pytest.mark.parametrize(("field", "value"), BAD_RECORD_FIELDS, ids=repr)
def test_a_malformed_record_names_the_file_and_the_field(field, value):
    record = changed(good_record(), field, value)
    with pytest.raises(DamagedDataError, match=r"where\.json: ") as caught:
        PartitionRecord.from_json(json.dumps(record), "where.json", name="out", partition=1)
    shown = field.split(".")[0] if field.startswith("shards") else field
    assert shown in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [b"", b"not json", b"[]", b"null", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000, b"1" * 100_000],
    ids=["empty", "text", "list", "null", "binary", "deep", "huge number"],
)
def test_a_record_or_manifest_that_is_not_json_is_damaged(text):
    with pytest.raises(DamagedDataError, match="where.json"):
        PartitionRecord.from_json(text, "where.json", name="out")
    with pytest.raises(DamagedDataError, match="where.json"):
        parse_manifest(text, "where.json", name="out")


def plant(out: PartitionedOutput, partition: int, content: dict | bytes) -> None:
    out.staging.mkdir(parents=True, exist_ok=True)
    text = content if isinstance(content, bytes) else json.dumps(content).encode()
    out.record_path(partition).write_bytes(text)
    out.hashes_path(partition).write_bytes(b"\0" * 8 * 2)


def test_rank_0_never_moves_a_dataset_outside_the_output(tmp_path):
    """Another rank's record names ``../../../victim2/v.msgpack``: rank 0 refuses, the victim stays."""
    victim = tmp_path / "a" / "victim2"  # what the name reaches from the staging folder a/b/out/out.partial
    before = make_victim(victim)
    (tmp_path / "victim2").mkdir()  # where the name leads from the output folder
    out = PartitionedOutput(tmp_path / "a" / "b" / "out")
    hostile = changed(good_record(), "shards.0.name", "../../../victim2/v.msgpack")
    hostile["fingerprint"] = "p1"
    hostile["shards"][0]["md5"] = {"../../../victim2/v.msgpack": MD5}
    plant(out, 1, hostile)
    with pytest.raises(DamagedDataError, match=r"out-00001\.partition\.json: .*shards\[0\]\.name"):
        write_partitioned(
            [[0, 1], [2, 3]], load, out.folder, engine="ranks", rank=0, world_size=2,
            fingerprints=["p0", "p1"], timeout=5,
        )  # fmt: skip
    assert untouched(victim, before)
    assert not list(out.folder.glob("*.msgpack")) and not any((tmp_path / "victim2").iterdir())


def test_commit_refuses_records_outside_the_dataset_before_moving_anything(tmp_path):
    victim = tmp_path / "victim"
    before = make_victim(victim)
    out = PartitionedOutput(tmp_path / "out")
    good = out.write_partition(0, samples(0, 3), "p0")
    hostile = PartitionRecord(
        1, "p1", 3, [ShardRecord("../../victim/v.msgpack", 3, 10, {"../../victim/v.msgpack": MD5})]
    )
    out.hashes_path(1).write_bytes(b"\1" * 24)
    with pytest.raises(DamagedDataError, match=r"shards\[0\]\.name"):
        out.commit([good, hostile])
    assert untouched(victim, before)
    assert not list((tmp_path / "out").glob("*.msgpack")) and out.staging.is_dir()


def test_a_symlinked_shard_in_the_staging_folder_is_not_committed(tmp_path):
    victim = tmp_path / "victim"
    before = make_victim(victim)
    out = PartitionedOutput(tmp_path / "out")
    record = out.write_partition(0, samples(0, 3), "p0")
    staged = out.staging / record.shards[0].name
    staged.unlink()
    staged.symlink_to(victim / "v.msgpack")
    with pytest.raises(DamagedDataError, match="not a regular file"):
        out.commit([record])
    assert untouched(victim, before)


def test_key_hashes_of_the_wrong_size_are_damaged_not_read(tmp_path):
    out = PartitionedOutput(tmp_path / "out")
    record = out.write_partition(0, samples(0, 3), "p0")
    out.hashes_path(0).unlink()
    out.hashes_path(0).symlink_to("/dev/zero")
    with pytest.raises(DamagedDataError, match=r"out-00000\.keyhashes"):
        out.commit([record])


def test_a_damaged_record_is_rewritten_on_resume(tmp_path):
    out = PartitionedOutput(tmp_path / "out")
    out.write_partition(0, samples(0, 3), "p0")
    plant(out, 0, changed(good_record(), "partition", 0) | {"fingerprint": "p0"})  # names partition 1's shard
    assert out.verified(0, "p0") is None
    result = write_partitioned([[0, 1, 2]], load, tmp_path / "out", fingerprints=["p0"])
    assert result.written == [0] and result.samples == 3


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_a_manifest_naming_a_file_outside_the_dataset_is_refused(tmp_path, name):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "out.manifest.json").write_text(json.dumps(changed(good_manifest(), "shards.0.name", name)))
    with pytest.raises(DamagedDataError, match=r"out\.manifest\.json: .*shards\[0\]\.name"):
        load_manifest(folder)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("shards.0.md5", {"a": 1}),
        ("shards.0.md5", "abc"),
        ("shards.0.partition", "1"),
        ("shards.0.partition", 2),  # the name says partition 1
        ("shards.0.samples", -3),
        ("shards.0.size", 2**70),
        ("samples", 5),
        ("partitions", None),
        ("shards", None),
        ("shards.0", 1),
        ("shards.0.name", ...),
        ("samples", ...),
        ("dings-manifest", ...),
    ],
    ids=repr,
)
def test_a_malformed_manifest_names_the_file_and_the_field(tmp_path, field, value):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "out.manifest.json").write_text(json.dumps(changed(good_manifest(), field, value)))
    with pytest.raises(DamagedDataError, match=r"out\.manifest\.json: ") as caught:
        load_manifest(folder)
    assert field.split(".")[0] in str(caught.value)


def test_a_manifest_that_is_not_a_regular_file_is_refused(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "out.manifest.json").symlink_to("/dev/zero")
    with pytest.raises(DamagedDataError, match="not a regular file"):
        load_manifest(folder)
    (folder / "out.manifest.json").unlink()
    os.mkfifo(folder / "out.manifest.json")
    with pytest.raises(DamagedDataError, match="not a regular file"):
        load_manifest(folder)


def test_ray_finds_shards_only_inside_the_dataset(tmp_path):
    from dings.tools.ray import _find_shards

    hostile = json.dumps(changed(good_manifest(), "shards.0.name", "../../secret.msgpack"))
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "out.manifest.json").write_text(hostile)
    with pytest.raises(DamagedDataError, match=r"shards\[0\]\.name"):
        _find_shards(str(folder), None)
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    fs.pipe_file("/hostile/out/out.manifest.json", hostile.encode())
    with pytest.raises(DamagedDataError, match=r"out\.manifest\.json: .*shards\[0\]\.name"):
        _find_shards("memory://hostile/out", None)
    fs.pipe_file("/hostile/out/out.manifest.json", json.dumps(changed(good_manifest(), "shards", ...)).encode())
    with pytest.raises(DamagedDataError, match=r"out\.manifest\.json: .*shards"):
        _find_shards("memory://hostile/out", None)


def test_a_valid_manifest_still_loads(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "out.manifest.json").write_text(json.dumps(good_manifest()))
    assert load_manifest(folder) == good_manifest()


def test_records_under_a_url_are_checked_too():
    fsspec = pytest.importorskip("fsspec")
    from dings.tools import RemotePartitionedOutput

    out = RemotePartitionedOutput("memory://untrusted/out")
    good = out.write_partition(0, samples(0, 3), "p0")
    hostile = changed(good_record(), "shards.0.name", "../../../victim/v.msgpack")
    fs = fsspec.filesystem("memory")
    fs.pipe_file("/untrusted/victim/v.msgpack", b"keep me")
    fs.pipe_file("/untrusted/out/out.partial/out-00001.partition.json", json.dumps(hostile).encode())
    with pytest.raises(DamagedDataError, match=r"out-00001\.partition\.json: .*shards\[0\]\.name"):
        out.load_record(1)
    assert out.verified(1, "fp1") is None  # rewritten on resume
    forged = PartitionRecord(1, "p1", 3, [ShardRecord("../victim/v.msgpack", 3, 7, {"../victim/v.msgpack": MD5})])
    with pytest.raises(DamagedDataError, match=r"shards\[0\]\.name"):
        out.commit([good, forged])
    assert fs.cat_file("/untrusted/victim/v.msgpack") == b"keep me"
    assert not fs.exists("/untrusted/out/out-00000-00000.msgpack")


def test_a_file_in_a_url_staging_folder_is_read_only_up_to_its_bound():
    fsspec = pytest.importorskip("fsspec")
    from dings.tools import RemotePartitionedOutput

    out = RemotePartitionedOutput("memory://bounded/out")
    fs = fsspec.filesystem("memory")
    fs.pipe_file("/bounded/out/out.partial/out-00000.partition.json", b"[" * 64)
    assert out._cat("memory://bounded/out/out.partial/out-00000.partition.json", max_size=64) == b"[" * 64
    with pytest.raises(DamagedDataError, match=r"out-00000\.partition\.json: larger than 63 bytes"):
        out._cat("memory://bounded/out/out.partial/out-00000.partition.json", max_size=63)
