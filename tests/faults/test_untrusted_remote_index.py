"""Untrusted inputs, remote: an index file far larger than its data file allows is refused unread.

A hostile server may answer a dataset's ``.keys``, ``.offsets`` or legacy ``.index`` with hundreds
of megabytes. The data file's size is pinned when the dataset is opened, and it bounds every index
file (:func:`dings.format.index_size_limit`): an answer that declares more is refused from its
headers, and one that does not declare its length is read only up to the bound. The reader runs
in a fresh interpreter whose address space is limited to 1 GiB; the server counts the bytes it
sent.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dings.format import CorruptIndexError, index_size_limit, packb

from ..readers import remote_servers as _servers
from .hostile import MEMORY, one_line, small_dataset

s3 = _servers.s3
HUGE = 300 << 20  # bytes the hostile server offers for one index file
SLACK = 16 << 20  # what socket buffers (sender and receiver) may hold beyond what the reader read
BLOCK = 1 << 16

#: opens the dataset at argv[2] in an interpreter limited to argv[1] bytes; prints one outcome line
CHILD = r"""
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1])))
import warnings
warnings.simplefilter("ignore")
from dings.format import FormatError
from dings.readers import MsgpackReader

try:
    reader = MsgpackReader(sys.argv[2], cache_dir=sys.argv[3], cache="index", retries=0)
    print("ok", len(reader), len(reader.keys), flush=True)
except (FormatError, OSError) as exc:
    print("error", type(exc).__name__, str(exc).replace("\n", " "), flush=True)
except BaseException as exc:
    print("raw", type(exc).__name__, str(exc).replace("\n", " ")[:300], flush=True)
"""


def dataset(folder: Path, count: int = 20) -> Path:
    return small_dataset(folder, count, key="k{:03d}")


def legacy_dataset(folder: Path, count: int = 20) -> Path:
    """A dataset as datadings 2 wrote it: the data file and a legacy ``.index`` (key → offset), no md5."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "d.msgpack"
    samples = [packb({"key": f"k{i:03d}", "value": i}) for i in range(count)]
    index, offset = {}, 0
    for i, sample in enumerate(samples):
        index[f"k{i:03d}"] = offset
        offset += len(sample)
    path.write_bytes(b"".join(samples))
    path.with_name(path.name + ".index").write_bytes(packb(index))
    return path


class Hostile:
    """Serves a dataset's files, but ``HUGE`` bytes for one of them, generated as they are sent."""

    def __init__(self, data: Path, suffix: str, declare_length: bool) -> None:
        self.files = {p.name: p.read_bytes() for p in data.parent.iterdir() if p.name.startswith(data.name)}
        self.huge = data.name + suffix
        self.declare_length = declare_length
        self.lock = threading.Lock()
        self.sent = 0  # bytes of the huge file that reached the socket

    def handler(self) -> type[BaseHTTPRequestHandler]:
        state = self

        class Handler(BaseHTTPRequestHandler):  # HTTP/1.0: without a length, the body ends when the connection does
            def log_message(self, format: str, *args) -> None:
                pass

            def do_HEAD(self) -> None:
                self._answer(body=False)

            def do_GET(self) -> None:
                self._answer(body=True)

            def _answer(self, body: bool) -> None:
                name = self.path.rsplit("/", 1)[-1]
                if name == state.huge:
                    self.send_response(200)
                    if state.declare_length:
                        self.send_header("Content-Length", str(HUGE))
                    self.end_headers()
                    if body:
                        self._send_huge()
                    return
                content = state.files.get(name)
                if content is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                if body:
                    self.wfile.write(content)

            def _send_huge(self) -> None:
                block = bytes(range(256)) * (BLOCK // 256)
                for _ in range(HUGE // BLOCK):
                    try:
                        self.wfile.write(block)
                    except OSError:  # the reader closed the connection
                        return
                    with state.lock:
                        state.sent += len(block)

        return Handler


@pytest.fixture
def serve() -> Iterator:
    """Start an HTTP server for a :class:`Hostile`; stopped after the test."""
    servers = []

    def start(hostile: Hostile) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), hostile.handler())
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        servers.append(server)
        host, port = server.server_address[:2]
        return f"http://{host}:{port}/d"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def open_bounded(url: str, cache_dir: Path) -> str:
    """Open the remote dataset ``url`` in an interpreter limited to ``MEMORY``; return the outcome line."""
    return one_line(CHILD, str(MEMORY), url, str(cache_dir), what=f"opening {url}")


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "no-length"])
@pytest.mark.parametrize("suffix", [".keys", ".offsets", ".index"])
def test_a_huge_remote_index_file_is_refused_without_downloading_it(tmp_path, serve, suffix, declare_length):
    data = (legacy_dataset if suffix == ".index" else dataset)(tmp_path / "source")
    hostile = Hostile(data, suffix, declare_length)
    url = f"{serve(hostile)}/{data.name}"
    bound = index_size_limit(suffix, data.stat().st_size)
    outcome = open_bounded(url, tmp_path / "cache")
    assert outcome.startswith("error CorruptIndexError "), outcome
    assert f"{url}{suffix}:" in outcome and str(bound) in outcome, outcome
    assert hostile.sent <= bound + SLACK, f"{hostile.sent} bytes sent for a bound of {bound}"
    cached = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert all(p.stat().st_size <= bound for p in cached)  # nothing of it was stored either


def test_an_index_file_within_its_bound_is_read_as_before(tmp_path, serve):
    data = dataset(tmp_path / "source")
    hostile = Hostile(data, ".nothing", declare_length=False)
    url = f"{serve(hostile)}/{data.name}"
    assert open_bounded(url, tmp_path / "cache") == "ok 20 20"


def test_a_huge_md5_file_is_refused_without_downloading_it(tmp_path, serve):
    data = dataset(tmp_path / "source")
    hostile = Hostile(data, ".md5", declare_length=False)
    url = f"{serve(hostile)}/{data.name}"
    outcome = open_bounded(url, tmp_path / "cache")
    bound = index_size_limit(".md5", data.stat().st_size)
    assert outcome.startswith("error CorruptIndexError "), outcome
    assert f"{url}.md5:" in outcome and str(bound) in outcome, outcome
    assert hostile.sent <= bound + SLACK


def test_a_huge_index_object_on_s3_is_refused_by_its_size(tmp_path, s3):
    from dings.readers import MsgpackReader

    data = dataset(tmp_path / "source")
    keys = data.with_name(data.name + ".keys")
    bound = index_size_limit(".keys", data.stat().st_size)
    keys.write_bytes(keys.read_bytes() + bytes(2 << 20))
    url = s3.upload(data, "huge-keys")
    with pytest.raises(CorruptIndexError, match=str(bound)) as info:
        MsgpackReader(url, cache_dir=tmp_path / "cache", cache="index", retries=0, storage_options=s3.options)
    assert f"{url}.keys:" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("size", [99, 100, 101, 5000])
def test_remote_files_read_at_most_max_size_bytes_on_any_protocol(size):
    pytest.importorskip("fsspec")
    from dings.readers import RemoteFiles

    url = f"memory://bounded/{size}.bin"
    files = RemoteFiles(url)
    files.fs.pipe_file(files.path(url), bytes(size))
    if size <= 100:
        assert files.get(url, "a test file", max_size=100)[0] == bytes(size)
    else:
        with pytest.raises(CorruptIndexError, match=f"{url}: .*100 bytes"):
            files.get(url, "a test file", max_size=100)
    assert files.get(url, "a test file")[0] == bytes(size)  # without a bound: whole, as before


@pytest.mark.parametrize("protocol", ["s3", "http"])
def test_index_files_larger_than_one_network_read_are_read_whole(tmp_path, s3, serve, protocol):
    from dings.readers import MsgpackReader

    data = dataset(tmp_path / "source", count=30_000)
    assert data.with_name(data.name + ".offsets").stat().st_size > 200_000
    if protocol == "s3":
        url, options = s3.upload(data, "big-index"), {"storage_options": s3.options}
    else:
        url, options = f"{serve(Hostile(data, '.nothing', declare_length=True))}/{data.name}", {}
    reader = MsgpackReader(url, cache_dir=tmp_path / "cache", cache="auto", retries=0, **options)
    assert len(reader) == 30_000 and reader.keys[-1] == "k29999"
    assert reader[29_999] == {"key": "k29999", "value": 29_999}
