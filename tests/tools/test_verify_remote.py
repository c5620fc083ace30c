"""verify and verify_dataset over URLs: an HTTP data file and partitioned set, and a set in S3 (moto).

The index files are fetched and checked like local ones, the data file streamed in blocks for its
md5 sum and per-sample checksums; damage is named by the shard's URL and the sample.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dings.format import index_path
from dings.readers import MsgpackReader
from dings.tools import verify, verify_dataset, write_partitioned

from ..readers import memory_storage
from ..readers import remote_servers as _servers

s3 = _servers.s3
FAST = {"progress": False, "retries": 1, "backoff": 0.0}
EVERY_CHECK = ["md5", "offsets", "keys", "key_hashes", "filter", "checksums"]


def publish(server, data: Path, prefix: str = "/d", **route_options) -> str:
    """Serve the dataset's files and its per-sample checksums; the data file's URL."""
    server.add(f"{prefix}/{data.name}.crc32", index_path(data, ".crc32").read_bytes())
    return _servers.publish_http(server, data, prefix, **route_options)


def flipped(content: bytes, position: int) -> bytes:
    damaged = bytearray(content)
    damaged[position] ^= 0xFF
    return bytes(damaged)


@pytest.fixture
def source(tmp_path) -> Path:
    return _servers.write_dataset(tmp_path / "src" / "train.msgpack", 60)


def start_and_key(data: Path, index: int) -> tuple[int, str]:
    with MsgpackReader(data) as reader:
        return int(reader.offsets[index]), reader.keys[index]


# --- one data file over HTTP ---


def test_a_sound_http_dataset_passes_every_check(http_server, source):
    url = publish(http_server, source)
    report = verify(url, deep=True, **FAST)
    assert report.ok, report.problems
    assert report.path == url and report.length == 60
    assert report.checked == [*EVERY_CHECK, "deep"]
    [whole] = verify_dataset(url, **FAST)  # one data file: one report, as locally
    assert whole.ok and whole.checked == EVERY_CHECK


def test_the_data_file_is_streamed_in_blocks_never_whole(http_server, source):
    url = publish(http_server, source)
    assert verify(url, block_size=256, **FAST).ok
    ranges = [r for r in http_server.ranges("/d/train.msgpack") if r is not None]
    spans = [int(end) - int(begin) + 1 for begin, end in (r.removeprefix("bytes=").split("-") for r in ranges)]
    assert len(spans) > 2 and max(spans) <= 256
    assert sum(spans) == source.stat().st_size  # one pass, every byte once


def test_a_bit_flip_on_the_server_names_the_url_and_the_sample(http_server, source):
    start, key = start_and_key(source, 17)
    url = publish(http_server, source, "/bad")
    http_server.add("/bad/train.msgpack", flipped(source.read_bytes(), start + 30))
    report = verify(url, **FAST)
    assert not report.ok
    assert report.problems[0].startswith(f"{url}: md5 mismatch")
    assert report.damaged == [17] and report.damaged_keys == [key]
    assert f"{url}: 1 damaged sample(s) (checksum mismatch): 17 (key {key!r})" in report.problems
    deep = verify(url, deep=True, **FAST)  # the flipped byte is inside a sample's bytes: it decodes
    assert deep.problems == report.problems and deep.checked[-1] == "deep"


def test_the_deep_check_names_a_sample_whose_key_was_changed(http_server, source):
    start, _ = start_and_key(source, 7)
    content = source.read_bytes()
    position = content.index(b"s0007", start)
    url = _servers.publish_http(http_server, source, "/k")  # no per-sample checksums
    http_server.add("/k/train.msgpack", content[:position] + b"s9999" + content[position + 5 :])
    report = verify(url, deep=True, **FAST)
    assert not report.ok and report.bad_index == 7 and report.bad_key == "s0007"
    assert any("no per-sample checksums" in note for note in report.notes)


@pytest.mark.parametrize("suffix", [".offsets", ".keys"])
def test_a_damaged_index_file_on_the_server_is_named(http_server, source, suffix):
    url = publish(http_server, source)
    http_server.add(f"/d/train.msgpack{suffix}", flipped(index_path(source, suffix).read_bytes(), 3))
    report = verify(url, **FAST)
    assert not report.ok
    assert f"{url}{suffix}: md5 mismatch" in report.problems[0]


def test_a_missing_md5_file_or_data_file_is_a_report(http_server, source):
    url = _servers.publish_http(http_server, source, "/nomd5")
    http_server.add("/nomd5/train.msgpack.md5", b"", status=404)
    report = verify(url, **FAST)
    assert not report.ok and f"{url}.md5: md5 file is missing" in report.problems[0]
    missing = verify(http_server.url("/none/train.msgpack"), **FAST)
    assert not missing.ok and missing.problems[0].startswith(http_server.url("/none/train.msgpack"))


# --- sets: a partitioned folder over HTTP, shards in S3 ---


def load(payload: list[int]):
    for i in payload:
        yield {"key": f"k{i:04d}", "label": i % 3, "data": np.random.default_rng(i).bytes(4 + i % 9)}


@pytest.fixture
def parts(tmp_path) -> Path:
    folder = tmp_path / "parts" / "set"
    write_partitioned([list(range(p * 6, p * 6 + 6)) for p in range(3)], load, folder, shard_size=4)
    return folder


def publish_folder(server, folder: Path) -> str:
    """Serve the set's files under /p/set/; the folder's URL."""
    for file in folder.iterdir():
        if file.is_file() and not file.name.endswith(".lock"):
            server.add(f"/p/set/{file.name}", file.read_bytes())
    return server.url("/p/set")


def test_a_partitioned_set_over_http_is_checked_through_its_manifest(http_server, parts):
    url = publish_folder(http_server, parts)
    reports = verify_dataset(url, deep=True, **FAST)
    assert len(reports) == 6 + 1 and all(r.ok for r in reports), [r.problems for r in reports]
    assert reports[0].path == http_server.url("/p/set/set-00000-00000.msgpack")
    assert reports[-1].path == http_server.url("/p/set/set.manifest.json")
    assert reports[-1].length == 18 and reports[-1].checked == ["manifest", "label names"]


def test_a_remote_manifest_that_disagrees_with_a_shard_is_named(http_server, parts):
    url = publish_folder(http_server, parts)
    manifest = json.loads((parts / "set.manifest.json").read_text())
    manifest["shards"][2]["md5"] = "0" * 32
    http_server.add("/p/set/set.manifest.json", json.dumps(manifest).encode())
    reports = verify_dataset(url, **FAST)
    assert [r.ok for r in reports] == [True] * 6 + [False]
    name = manifest["shards"][2]["name"]
    assert f"shards[2] {name}: its md5 file says" in reports[-1].problems[0]
    assert reports[-1].problems[0].startswith(http_server.url("/p/set/set.manifest.json"))


def test_a_damaged_shard_of_a_remote_set_is_named(http_server, parts):
    url = publish_folder(http_server, parts)
    shard = parts / "set-00001-00000.msgpack"
    http_server.add("/p/set/" + shard.name, flipped(shard.read_bytes(), shard.stat().st_size - 2))
    reports = verify_dataset(url, **FAST)
    failed = [r.path for r in reports if not r.ok]
    assert failed == [http_server.url("/p/set/" + shard.name)]


def test_a_damaged_remote_manifest_is_a_report(http_server, parts):
    url = publish_folder(http_server, parts)
    http_server.add("/p/set/set.manifest.json", b'{"dings-manifest": 1, "samples": "many"}')
    [report] = verify_dataset(url, **FAST)
    assert not report.ok and "set.manifest.json" in report.problems[0]


def test_shards_in_s3_are_checked_and_a_damaged_one_named(s3, tmp_path):
    shards = [_servers.write_dataset(tmp_path / "src" / f"part-{i}.msgpack", 10 + i, prefix=f"p{i}-") for i in range(3)]
    for shard in shards:
        s3.upload(shard, "verify-shards")
    pattern = f"s3://{s3.bucket}/verify-shards/part-*.msgpack"
    reports = verify_dataset(pattern, deep=True, storage_options=s3.options, **FAST)
    assert all(r.ok for r in reports) and [r.length for r in reports] == [10, 11, 12, 33]
    assert reports[0].checked == [*EVERY_CHECK, "deep"]
    start, key = start_and_key(shards[1], 4)
    s3.fs.pipe_file(f"{s3.bucket}/verify-shards/part-1.msgpack", flipped(shards[1].read_bytes(), start + 25))
    reports = verify_dataset(pattern, storage_options=s3.options, **FAST)
    bad = f"s3://{s3.bucket}/verify-shards/part-1.msgpack"
    assert [r.path for r in reports if not r.ok] == [bad]
    assert reports[1].damaged_keys == [key] and reports[1].problems[0].startswith(f"{bad}: md5 mismatch")


def test_a_partitioned_set_in_s3_disagreeing_with_its_manifest(s3, parts):
    for file in parts.iterdir():
        if file.is_file() and not file.name.endswith(".lock"):
            s3.fs.pipe_file(f"{s3.bucket}/verify-parts/set/{file.name}", file.read_bytes())
    manifest = json.loads((parts / "set.manifest.json").read_text())
    manifest["shards"][0]["samples"] += 1
    manifest["samples"] += 1
    s3.fs.pipe_file(f"{s3.bucket}/verify-parts/set/set.manifest.json", json.dumps(manifest).encode())
    s3.fs.invalidate_cache()
    reports = verify_dataset(f"s3://{s3.bucket}/verify-parts/set", storage_options=s3.options, **FAST)
    assert all(r.ok for r in reports[:-1]) and not reports[-1].ok
    assert "shards[0]" in reports[-1].problems[0] and "the manifest says 5" in reports[-1].problems[0]


def test_a_registered_storage_is_checked_through_its_byte_source(source):
    memory_storage.register()
    try:
        url = memory_storage.upload(source, "verify")
        report = verify(url, deep=True, progress=False)
        assert report.ok and report.path == url and report.length == 60 and "deep" in report.checked
        memory_storage.FILES[url] = flipped(memory_storage.FILES[url], 100)
        damaged = verify(url, progress=False)
        assert not damaged.ok and damaged.problems[0].startswith(f"{url}: md5 mismatch")
    finally:
        memory_storage.unregister()


def test_a_server_that_ignores_range_is_a_report_that_says_what_to_do(http_server, source):
    url = publish(http_server, source, "/norange", ranges=False)
    assert verify(url, **FAST).ok  # one block: the whole file is what was asked for
    report = verify(url, block_size=256, **FAST)
    assert not report.ok and len(report.problems) == 1
    assert report.problems[0].startswith(f"{url}: cannot be checked") and "Range" in report.problems[0]
    assert "stage the dataset" in report.problems[0]
