"""The YFCC100m reject list is not in the wheel: downloaded on first use and verified (issue 19, #4)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import dings.sets.YFCC100m_counts as meta
from dings.tools import ChecksumMismatchError

PUBLISHED_LIST = Path(__file__).resolve().parents[2] / "packages" / "dings-sets" / "data" / meta.REJECTED_NAME


def _load_server_module():
    name = "dings_tests_tools_http_server"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "tools" / "http_server.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


http_server = _load_server_module().http_server


def test_the_reject_list_is_downloaded_once_into_the_data_dir_and_verified(http_server, tmp_path, monkeypatch):
    url = http_server.add("/" + meta.REJECTED_NAME, PUBLISHED_LIST.read_bytes())
    monkeypatch.setitem(meta.REJECTED_SOURCE, "url", url)
    path = meta.rejected_file(tmp_path, progress=False)
    assert path == tmp_path / "YFCC100m" / meta.REJECTED_NAME
    assert path.read_bytes() == PUBLISHED_LIST.read_bytes()
    assert meta.rejected_file(tmp_path, progress=False) == path
    assert len(http_server.requests_for("/" + meta.REJECTED_NAME)) == 1  # the second call found it there


def test_a_reject_list_that_is_not_the_published_one_is_refused(http_server, tmp_path, monkeypatch):
    url = http_server.add("/" + meta.REJECTED_NAME, b"not the list")
    monkeypatch.setitem(meta.REJECTED_SOURCE, "url", url)
    with pytest.raises(ChecksumMismatchError, match=meta.REJECTED_NAME):
        meta.rejected_file(tmp_path, progress=False)


def test_sha256_is_checked_too(tmp_path, monkeypatch):
    folder = tmp_path / "YFCC100m"
    folder.mkdir()
    (folder / meta.REJECTED_NAME).write_bytes(b"same md5 in this test")
    import hashlib

    monkeypatch.setitem(meta.REJECTED_SOURCE, "md5", hashlib.md5(b"same md5 in this test").hexdigest())
    with pytest.raises(ChecksumMismatchError, match="sha256"):
        meta.rejected_file(tmp_path, progress=False)
