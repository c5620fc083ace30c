"""download(): complete, resumed, restarted, retried and refused downloads against a real local HTTP server."""

from __future__ import annotations

import random
import socket
from pathlib import Path

import pytest

from dings.tools import DownloadError, download

from . import http_server as _server

http_server = _server.http_server

SIZE = 100_000
DATA = random.Random(4).randbytes(SIZE)
FAST = {"progress": False, "backoff": 0.0, "chunk_size": 8192}


def _part(path: Path) -> Path:
    return path.with_name(path.name + ".part")


def test_complete_download(http_server, tmp_path):
    url = http_server.add("/data.bin", DATA)
    target = tmp_path / "sub" / "data.bin"
    result = download(url, str(target), **FAST)
    assert result == target and isinstance(result, Path)
    assert target.read_bytes() == DATA
    assert not _part(target).exists()
    assert http_server.ranges("/data.bin") == [None]


def test_replaces_existing_file(http_server, tmp_path):
    url = http_server.add("/data.bin", DATA)
    target = tmp_path / "data.bin"
    target.write_bytes(b"old content")
    download(url, target, **FAST)
    assert target.read_bytes() == DATA


def test_resume_after_dropped_connection_uses_range(http_server, tmp_path):
    url = http_server.add("/data.bin", DATA, drop_after=40_000, drop_times=1)
    target = tmp_path / "data.bin"
    download(url, target, retries=2, **FAST)
    assert target.read_bytes() == DATA
    requests = http_server.requests_for("/data.bin")
    assert [r.range for r in requests] == [None, "bytes=40000-"]
    assert [r.status for r in requests] == [200, 206]


def test_failed_download_keeps_part_and_next_call_resumes(http_server, tmp_path):
    url = http_server.add("/data.bin", DATA, drop_after=30_000, drop_times=1)
    target = tmp_path / "data.bin"
    with pytest.raises(DownloadError) as info:
        download(url, target, retries=0, **FAST)
    message = str(info.value)
    assert "failed after 1 attempt," in message
    assert url in message and "30000 of 100000" in message and str(_part(target)) in message
    assert not target.exists()
    assert _part(target).read_bytes() == DATA[:30_000]

    download(url, target, retries=0, **FAST)
    assert target.read_bytes() == DATA
    assert http_server.ranges("/data.bin") == [None, "bytes=30000-"]
    assert not _part(target).exists()


def test_connection_reset_is_retried(http_server, tmp_path):
    url = http_server.add("/data.bin", DATA, drop_after=50_000, drop_times=2, drop_mode="reset")
    target = tmp_path / "data.bin"
    download(url, target, retries=3, **FAST)
    assert target.read_bytes() == DATA
    requests = http_server.requests_for("/data.bin")
    assert len(requests) == 3
    assert requests[0].range is None
    # a reset may discard bytes in flight, so the resume point is anywhere up to the drop point
    for r in requests[1:]:
        if r.range is not None:
            assert 0 < int(r.range.removeprefix("bytes=").rstrip("-")) <= 50_000


def test_server_ignoring_range_restarts_from_scratch(http_server, tmp_path):
    url = http_server.add("/data.bin", DATA, ranges=False, drop_after=60_000, drop_times=1)
    target = tmp_path / "data.bin"
    download(url, target, retries=2, **FAST)
    assert target.read_bytes() == DATA  # not the first 60 kB followed by the whole file again
    requests = http_server.requests_for("/data.bin")
    assert [r.range for r in requests] == [None, "bytes=60000-"]
    assert [r.status for r in requests] == [200, 200]


def test_stale_part_is_discarded_when_range_is_ignored(http_server, tmp_path):
    url = http_server.add("/data.bin", DATA, ranges=False)
    target = tmp_path / "data.bin"
    _part(target).write_bytes(b"x" * 5000)
    download(url, target, **FAST)
    assert target.read_bytes() == DATA
    assert http_server.ranges("/data.bin") == ["bytes=5000-"]


def test_resume_at_wrong_byte_starts_over(http_server, tmp_path):
    url = http_server.add("/data.bin", DATA, range_shift=100)
    target = tmp_path / "data.bin"
    _part(target).write_bytes(DATA[:5000])
    download(url, target, retries=1, **FAST)
    assert target.read_bytes() == DATA
    assert http_server.ranges("/data.bin") == ["bytes=5000-", None]


def test_complete_part_file_is_renamed_after_416(http_server, tmp_path):
    url = http_server.add("/data.bin", DATA)
    target = tmp_path / "data.bin"
    _part(target).write_bytes(DATA)
    download(url, target, **FAST)
    assert target.read_bytes() == DATA
    assert [r.status for r in http_server.requests_for("/data.bin")] == [416]


def test_oversized_part_file_starts_over(http_server, tmp_path):
    url = http_server.add("/data.bin", DATA)
    target = tmp_path / "data.bin"
    _part(target).write_bytes(DATA + b"trailing garbage")
    download(url, target, retries=1, **FAST)
    assert target.read_bytes() == DATA
    assert http_server.ranges("/data.bin") == [f"bytes={SIZE + 16}-", None]


@pytest.mark.parametrize("status", [403, 404, 410])
def test_permanent_http_error_fails_at_once(http_server, tmp_path, status):
    url = http_server.add("/data.bin", DATA, status=status)
    target = tmp_path / "data.bin"
    with pytest.raises(DownloadError) as info:
        download(url, target, retries=5, **FAST)
    assert info.value.status == status and info.value.url == url
    message = str(info.value)
    assert url in message and f"HTTP {status}" in message and "\n" not in message
    assert len(http_server.requests_for("/data.bin")) == 1  # not retried
    assert not target.exists() and not _part(target).exists()


def test_unknown_path_is_404(http_server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        download(http_server.url("/nothing"), tmp_path / "x", **FAST)
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("status", [500, 503, 429])
def test_transient_http_error_is_retried(http_server, tmp_path, status):
    url = http_server.add("/data.bin", DATA, fail_status=status, fail_times=2)
    target = tmp_path / "data.bin"
    download(url, target, retries=2, **FAST)
    assert target.read_bytes() == DATA
    assert [r.status for r in http_server.requests_for("/data.bin")] == [status, status, 200]


def test_gives_up_after_retries(http_server, tmp_path):
    url = http_server.add("/data.bin", DATA, fail_status=500, fail_times=100)
    target = tmp_path / "data.bin"
    with pytest.raises(DownloadError) as info:
        download(url, target, retries=3, **FAST)
    assert "after 4 attempts" in str(info.value) and "HTTP 500" in str(info.value)
    assert info.value.status == 500
    assert len(http_server.requests_for("/data.bin")) == 4
    assert not target.exists()


def test_timeout_mid_body_is_retried_with_range(http_server, tmp_path):
    url = http_server.add("/data.bin", DATA, stall_after=20_000, stall_times=1)
    target = tmp_path / "data.bin"
    download(url, target, retries=1, timeout=1.0, **FAST)
    assert target.read_bytes() == DATA
    assert http_server.ranges("/data.bin") == [None, "bytes=20000-"]


def test_without_content_length(http_server, tmp_path):
    url = http_server.add("/data.bin", DATA, content_length=False)
    target = tmp_path / "data.bin"
    download(url, target, **FAST)
    assert target.read_bytes() == DATA


def test_connection_refused_is_retried_then_fails(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/data.bin"
    with pytest.raises(DownloadError, match="after 2 attempts.*cannot connect") as info:
        download(url, tmp_path / "data.bin", retries=1, **FAST)
    assert info.value.status is None
    assert not (tmp_path / "data.bin").exists()


def test_file_url(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(DATA)
    target = tmp_path / "out" / "data.bin"
    _part(target).parent.mkdir()
    _part(target).write_bytes(b"stale")  # no Range for file://: fetched whole
    download(source.as_uri(), target, **FAST)
    assert target.read_bytes() == DATA


@pytest.mark.parametrize("url", ["not a url", "gopher://example.org/x"])
def test_invalid_url(tmp_path, url):
    with pytest.raises(DownloadError, match="cannot download|not a valid URL"):
        download(url, tmp_path / "x", **FAST)


@pytest.mark.parametrize("option", [{"retries": -1}, {"timeout": 0}, {"chunk_size": 0}, {"backoff": -1}])
def test_invalid_arguments(tmp_path, option):
    with pytest.raises(ValueError, match="download"):
        download("http://127.0.0.1:1/x", tmp_path / "x", **{**FAST, **option})


def test_progress_flag(http_server, tmp_path, capsys):
    url = http_server.add("/data.bin", DATA)
    download(url, tmp_path / "a.bin", progress=False, backoff=0.0)
    assert capsys.readouterr().err == ""
    download(url, tmp_path / "b.bin", progress=True, backoff=0.0)
    err = capsys.readouterr().err
    assert "b.bin" in err and "B/s" in err


# --- download confirmation pages (Google Drive's "can't scan this file for viruses") ---


class DriveLike:
    """A local server that answers ``/uc?id=…`` like Google Drive does for large files: an HTML page
    asking to confirm (a form, or in the older style a link plus a cookie), and the file only to the
    confirmed request, which honours ``Range``."""

    FORM = """<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title></head><body>
    <p>Google Drive can't scan this file for viruses.</p>
    <form id="download-form" action="{base}/download" method="get">
      <input type="submit" value="Download anyway"/>
      <input type="hidden" name="id" value="{id}"><input type="hidden" name="export" value="download">
      <input type="hidden" name="confirm" value="t"><input type="hidden" name="uuid" value="u-123">
    </form></body></html>"""
    LINK = """<html><body><a id="uc-download-link" href="/uc?export=download&amp;confirm=Xy9z&amp;id={id}">Download anyway</a></body></html>"""

    def __init__(self, data: bytes, style: str) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from threading import Thread
        from urllib.parse import parse_qs, urlsplit

        drive = self
        self.data, self.style, self.requests = data, style, []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                drive.requests.append((url.path, query, self.headers.get("Range"), self.headers.get("Cookie")))
                confirmed = (
                    url.path == "/download" and query.get("confirm") == "t" and query.get("uuid") == "u-123"
                ) or (
                    url.path == "/uc"
                    and query.get("confirm") == "Xy9z"
                    and "download_warning_7=Xy9z" in (self.headers.get("Cookie") or "")
                )
                if confirmed:
                    start = int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers.get("Range") else 0
                    self.send_response(206 if start else 200)
                    self.send_header("Content-Type", "application/zip")
                    self.send_header("Content-Length", str(len(drive.data) - start))
                    if start:
                        self.send_header("Content-Range", f"bytes {start}-{len(drive.data) - 1}/{len(drive.data)}")
                    self.end_headers()
                    self.wfile.write(drive.data[start:])
                    return
                page = (
                    (drive.FORM if drive.style == "form" else drive.LINK)
                    .format(base=drive.base, id=query.get("id", ""))
                    .encode()
                )
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                if drive.style == "link":
                    self.send_header("Set-Cookie", "download_warning_7=Xy9z; Path=/")
                self.end_headers()
                self.wfile.write(page)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(params=["form", "link"])
def drive(request):
    server = DriveLike(DATA, request.param)
    yield server
    server.close()


def test_a_download_confirmation_page_is_followed(drive, tmp_path):
    target = download(f"{drive.base}/uc?id=7&export=download", tmp_path / "image.zip", **FAST)
    assert target.read_bytes() == DATA
    assert len(drive.requests) == 2  # the page, then the confirmed request
    if drive.style == "link":
        assert "download_warning_7=Xy9z" in drive.requests[1][3]  # the page's cookie was sent back


def test_a_resumed_download_follows_the_confirmation_again_and_asks_for_the_rest(drive, tmp_path):
    target = tmp_path / "image.zip"
    _part(target).write_bytes(DATA[:30_000])
    download(f"{drive.base}/uc?id=7&export=download", target, **FAST)
    assert target.read_bytes() == DATA
    assert drive.requests[-1][2] == "bytes=30000-"


def test_an_html_page_that_asks_for_nothing_is_saved_as_the_file(tmp_path):
    page = b"<html><body><p>Quota exceeded. <a href='/help'>Help</a></p><form method='post' action='/x'></form></body></html>"

    class Quota(DriveLike):
        FORM = LINK = page.decode()

    server = Quota(DATA, "form")
    try:
        target = download(f"{server.base}/uc?id=7", tmp_path / "image.zip", **FAST)
    finally:
        server.close()
    assert target.read_bytes() == page


def test_confirmation_pages_without_end_are_refused(tmp_path):
    class Endless(DriveLike):
        FORM = """<form id="download-form" action="{base}/uc" method="get"><input type="hidden" name="id" value="7"></form>"""

    server = Endless(DATA, "form")
    try:
        with pytest.raises(DownloadError, match="keeps asking to confirm the download; download it in a browser"):
            download(f"{server.base}/uc?id=7", tmp_path / "image.zip", **FAST)
    finally:
        server.close()
    assert len(server.requests) == 4  # the first page and three confirmations
    assert not (tmp_path / "image.zip").exists()


def test_a_confirmation_pointing_outside_http_is_not_followed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("local file")

    class Hostile(DriveLike):
        FORM = f"""<form id="download-form" action="file://{secret}" method="get"><input type="hidden" name="confirm" value="t"></form>"""

    server = Hostile(DATA, "form")
    try:
        target = download(f"{server.base}/uc?id=7", tmp_path / "image.zip", **FAST)
    finally:
        server.close()
    assert b"download-form" in target.read_bytes()  # saved as the page it is, never the local file


def test_a_host_that_does_not_resolve_fails_at_once_without_promising_a_resume(tmp_path, monkeypatch):
    import time as time_module

    waits = []
    monkeypatch.setattr(time_module, "sleep", waits.append)
    target = tmp_path / "data.bin"
    with pytest.raises(DownloadError, match="cannot reach no-such-host.invalid") as info:
        download("http://no-such-host.invalid/data.bin", target, retries=5, backoff=10)
    assert waits == []  # no retries: waiting cannot make the name resolve
    assert ".part" not in str(info.value) and "check the network connection" in str(info.value)
    assert not target.exists() and not (tmp_path / "data.bin.part").exists()


def test_giving_up_promises_a_resume_only_when_a_part_file_exists(http_server, tmp_path):
    url = http_server.add("/data.bin", DATA, fail_status=500, fail_times=100)
    with pytest.raises(DownloadError) as info:
        download(url, tmp_path / "data.bin", retries=1, **FAST)
    assert "resume" not in str(info.value) and "run again to retry" in str(info.value)
    assert not (tmp_path / "data.bin.part").exists()
    dropped = http_server.add("/cut.bin", DATA, drop_after=10_000, drop_times=100)
    with pytest.raises(DownloadError, match=r"run again to resume from .*cut\.bin\.part"):
        download(dropped, tmp_path / "cut.bin", retries=1, **FAST)
    assert (tmp_path / "cut.bin.part").stat().st_size > 0
