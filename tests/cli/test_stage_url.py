"""`dings stage URL DIR` copies a remote dataset (S3 or HTTP) to local disk, verified; bad URLs fail clearly."""

from __future__ import annotations

import os
import subprocess

from dings.tools import verify

from ..readers import remote_servers as _servers

s3 = _servers.s3
http_server = _servers.http_server


def stage(cli, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [cli.script(), "stage", *args, "-q"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def test_stage_from_s3_with_fsspec_environment_settings(cli, s3, tmp_path):
    source = _servers.write_dataset(tmp_path / "src" / "train.msgpack", 50)
    url = s3.upload(source, "cli-stage")
    env = {
        "FSSPEC_S3_ENDPOINT_URL": s3.endpoint,
        "FSSPEC_S3_KEY": "testing",
        "FSSPEC_S3_SECRET": "testing",
        "AWS_DEFAULT_REGION": "eu-central-1",
    }
    result = stage(cli, url, str(tmp_path / "local"), env=env)
    assert result.returncode == 0, result.stderr
    for file in _servers.dataset_files(source):
        assert (tmp_path / "local" / file.name).read_bytes() == file.read_bytes()
    assert verify(tmp_path / "local" / "train.msgpack", progress=False).ok


def test_stage_from_http_and_a_missing_url(cli, http_server, tmp_path):
    source = _servers.write_dataset(tmp_path / "src" / "val.msgpack", 30)
    url = _servers.publish_http(http_server, source)
    result = stage(cli, url, str(tmp_path / "local"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "local" / "val.msgpack").read_bytes() == source.read_bytes()
    missing = stage(cli, http_server.url("/nowhere/x.msgpack"), str(tmp_path / "other"))
    assert missing.returncode == 1
    assert "nowhere/x.msgpack" in missing.stderr and "Traceback" not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "other" / "x.msgpack").exists()
