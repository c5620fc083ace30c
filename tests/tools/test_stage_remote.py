"""stage() from URLs: S3 (moto's server) and HTTP sources are copied verified, skipped when present, refused when damaged."""

from __future__ import annotations

from pathlib import Path

import pytest

from dings.format import index_path
from dings.readers import RemoteError
from dings.tools import stage, verify

from ..readers import remote_servers as _servers

s3 = _servers.s3
http_server = _servers.http_server
FAST = {"progress": False, "retries": 2, "backoff": 0.0}


@pytest.fixture
def source(tmp_path) -> Path:
    return _servers.write_dataset(tmp_path / "src" / "train.msgpack", 80)


def test_stage_copies_a_remote_dataset_and_then_skips_it(s3, source, tmp_path):
    url = s3.upload(source, "stage-one")
    local = tmp_path / "local"
    first = stage(url, local, storage_options=s3.options, **FAST)
    assert first.datasets == [local / source.name]
    assert sorted(p.name for p in first.copied) == sorted(
        [*(p.name for p in _servers.dataset_files(source)), "train.msgpack.crc32"]
    )
    assert first.copied[-1].name == "train.msgpack.md5"  # the md5 file last
    for src in _servers.dataset_files(source):
        assert (local / src.name).read_bytes() == src.read_bytes()
    assert (local / "train.msgpack.crc32").read_bytes() == index_path(source, ".crc32").read_bytes()
    assert first.bytes_copied == sum(p.stat().st_size for p in _servers.dataset_files(source)) + len(
        index_path(source, ".crc32").read_bytes()
    )
    assert verify(local / source.name, deep=True, progress=False).ok
    again = stage(url + ".md5", local, storage_options=s3.options, **FAST)  # an index file's URL names the dataset
    assert again.copied == [] and again.bytes_copied == 0 and len(again.skipped) == 7


def test_stage_takes_remote_globs_and_folders(s3, tmp_path):
    shards = [
        _servers.write_dataset(tmp_path / "src" / f"part-{i}.msgpack", 10 + i, prefix=f"p{i}-") for i in (2, 10, 1)
    ]
    for shard in shards:
        s3.upload(shard, "stage-shards")
    by_glob = stage(f"s3://{s3.bucket}/stage-shards/part-*.msgpack", tmp_path / "a", storage_options=s3.options, **FAST)
    assert [p.name for p in by_glob.datasets] == ["part-1.msgpack", "part-2.msgpack", "part-10.msgpack"]
    by_folder = stage(f"s3://{s3.bucket}/stage-shards/", tmp_path / "b", storage_options=s3.options, **FAST)
    assert [p.name for p in by_folder.datasets] == ["part-1.msgpack", "part-2.msgpack", "part-10.msgpack"]
    for shard in shards:
        assert (tmp_path / "b" / shard.name).read_bytes() == shard.read_bytes()
    with pytest.raises(FileNotFoundError, match="no .msgpack dataset matches"):
        stage(f"s3://{s3.bucket}/stage-shards/none-*.msgpack", tmp_path / "c", storage_options=s3.options, **FAST)


def test_a_damaged_remote_file_is_not_staged(http_server, source, tmp_path):
    url = _servers.publish_http(http_server, source, corrupt=True)
    local = tmp_path / "local"
    with pytest.raises(OSError, match="md5 is .* but train.msgpack.md5 says") as info:
        stage(url, local, **FAST)
    assert url in str(info.value)
    assert not (local / source.name).exists() and not index_path(local / source.name, ".md5").exists()
    assert not list(local.glob(".*"))  # no temporary file left


def test_transient_errors_are_retried_and_permanent_ones_named(http_server, source, tmp_path):
    url = _servers.publish_http(http_server, source, fail_times=2, fail_status=503)
    result = stage(url, tmp_path / "local", **FAST)
    assert (tmp_path / "local" / source.name).read_bytes() == source.read_bytes() and len(result.copied) == 6
    failing = _servers.publish_http(http_server, source, "/down", fail_times=100, fail_status=502)
    with pytest.raises(RemoteError, match="3 attempts"):
        stage(failing, tmp_path / "other", **FAST)
    http_server.add("/nomd5/train.msgpack", source.read_bytes())
    with pytest.raises(FileNotFoundError, match="md5 file missing") as info:
        stage(http_server.url("/nomd5/train.msgpack"), tmp_path / "other", **FAST)
    assert http_server.url("/nomd5/train.msgpack.md5") in str(info.value)
