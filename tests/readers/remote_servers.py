"""Servers for the remote reader tests: moto's S3 server and the tools tests' HTTP server, on 127.0.0.1.

Test modules load this file by path (pytest runs with ``--import-mode=importlib``)::

    _servers = load_remote_servers()   # see the top of test_remote.py
    s3 = _servers.s3                   # module-scoped fixture: S3 server with a bucket
    http_server = _servers.http_server # function-scoped fixture: FileServer with scripted failures

Both fixtures stop their server when the test (module) is done.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from dings.format import FileWriter

from ..tools.http_server import http_server

__all__ = ["SUFFIXES", "dataset_files", "http_server", "make_sample", "publish_http", "s3", "write_dataset"]

SUFFIXES = ("", ".offsets", ".keys", ".key_hashes", ".filter", ".md5")


def make_sample(i: int, prefix: str = "s") -> dict:
    """Sample ``i``: key, label, bytes of varying length and a small array, all derived from ``i``."""
    return {
        "key": f"{prefix}{i:04d}",
        "label": i % 5,
        "data": bytes([i % 256]) * (i % 13 + 20),
        "array": np.arange(i % 4 + 1, dtype=np.int32) * i,
    }


def write_dataset(path: Path, n: int = 120, prefix: str = "s") -> Path:
    """Write ``n`` samples with FileWriter (data, index and md5 files) and return the data file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileWriter(path, overwrite=True, progress=False) as writer:
        for i in range(n):
            writer.write(make_sample(i, prefix))
    return path


def dataset_files(data: Path) -> list[Path]:
    """The data file and its index and md5 files."""
    return [data.with_name(data.name + s) for s in SUFFIXES]


def publish_http(server, data: Path, prefix: str = "/d", **route_options) -> str:
    """Serve every file of the dataset at ``data`` under ``prefix``; return the data file's URL.

    ``route_options`` (a :class:`Route`'s options, e.g. ``fail_times``) apply to the data file only.
    """
    for file in dataset_files(data):
        if file.exists():
            options = route_options if file == data else {}
            server.add(f"{prefix}/{file.name}", file.read_bytes(), **options)
    return server.url(f"{prefix}/{data.name}")


@pytest.fixture(scope="module")
def s3() -> Iterator[SimpleNamespace]:
    """moto's S3 server on 127.0.0.1 (free port) with one bucket; stopped after the module.

    Yields a namespace with ``options`` (fsspec storage options for it), ``fs`` (an s3fs
    filesystem), ``bucket`` and ``upload(data, prefix) -> url``.
    """
    pytest.importorskip("moto", reason="moto[server] (hatch dev env) provides the local S3 server")
    s3fs = pytest.importorskip("s3fs", reason="s3fs (hatch dev env) is the S3 protocol of fsspec")
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request in the test output
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        options = {
            "endpoint_url": f"http://{host}:{port}",
            "key": "testing",
            "secret": "testing",
            "client_kwargs": {"region_name": "eu-central-1"},
        }
        fs = s3fs.S3FileSystem(skip_instance_cache=True, **options)
        bucket = f"dings-{uuid.uuid4().hex[:8]}"
        fs.mkdir(bucket)

        def upload(data: Path, prefix: str = "d") -> str:
            for file in [*dataset_files(data), data.with_name(data.name + ".crc32")]:  # per-sample checksums too
                if file.exists():
                    fs.pipe_file(f"{bucket}/{prefix}/{file.name}", file.read_bytes())
            fs.invalidate_cache()
            return f"s3://{bucket}/{prefix}/{data.name}"

        yield SimpleNamespace(options=options, fs=fs, bucket=bucket, upload=upload, endpoint=options["endpoint_url"])
    finally:
        server.stop()
