"""Untrusted inputs, remote: a dataset replaced on the server while open, and a server that ignores Range.

A reader pins the generation of a remote dataset when it opens it (the data file's ETag, or its
Last-Modified and size): every read after a replacement raises a clear error, never returns a sample
of the new generation at the old generation's offsets. A server that ignores ``Range`` is detected
once: the data file is then downloaded once into the cache, or reading fails clearly.
"""

from __future__ import annotations

import hashlib
import random
import threading
import tracemalloc
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dings.format import IncompleteCommitError, packb
from dings.readers import MsgpackReader, RemoteError

from ..readers import remote_servers as _servers

s3 = _servers.s3
N = 60
REPLACED = r"replaced on the server while it was open; open it again"
SUFFIXES = ("", ".offsets", ".keys", ".key_hashes", ".filter", ".md5")  # no .crc32, as datadings writes them


def _write(folder: Path, prefix: str, n: int = N) -> Path:
    data = _servers.write_dataset(folder / "train.msgpack", n, prefix)
    data.with_name(data.name + ".crc32").unlink(missing_ok=True)
    return data


@pytest.fixture(scope="module")
def generations(tmp_path_factory) -> tuple[Path, Path]:
    """Two datasets of the same size with different samples (keys ``a…`` and ``b…``)."""
    old = _write(tmp_path_factory.mktemp("old"), "a")
    new = _write(tmp_path_factory.mktemp("new"), "b")
    assert old.stat().st_size == new.stat().st_size and old.read_bytes() != new.read_bytes()
    return old, new


def _files(data: Path) -> dict[str, bytes]:
    return {data.name + s: data.with_name(data.name + s).read_bytes() for s in SUFFIXES}


# --- an HTTP server that honours Range and tells the generation ---


@dataclass
class Versioned:
    """Files served over HTTP with an ETag and/or a Last-Modified per version, honouring ``Range``."""

    etag: bool = True
    if_match: bool = True
    files: dict[str, bytes] = field(default_factory=dict)
    version: int = 0
    served: int = 0

    def publish(self, data: Path) -> None:
        self.files = _files(data)
        self.version += 1

    def headers(self, content: bytes) -> dict[str, str]:
        if self.etag:
            return {"ETag": '"' + hashlib.md5(content).hexdigest() + '"'}
        return {"Last-Modified": formatdate(1_700_000_000 + 3600 * self.version, usegmt=True)}


def _handler(state: Versioned) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args) -> None:
            pass

        def _find(self) -> bytes | None:
            content = state.files.get(self.path.rsplit("/", 1)[-1])
            if content is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
            return content

        def do_HEAD(self) -> None:
            content = self._find()
            if content is not None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(content)))
                self.send_header("Accept-Ranges", "bytes")
                for name, value in state.headers(content).items():
                    self.send_header(name, value)
                self.end_headers()

        def do_GET(self) -> None:
            content = self._find()
            if content is None:
                return
            tags = state.headers(content)
            wanted = self.headers.get("If-Match")
            if state.if_match and wanted is not None and wanted != tags.get("ETag"):
                self.send_response(412)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            ranged = self.headers.get("Range")
            start, stop, status = 0, len(content), 200
            if ranged:
                first, _, last = ranged.removeprefix("bytes=").partition("-")
                start, stop, status = int(first), min(int(last) + 1 if last else len(content), len(content)), 206
            self.send_response(status)
            self.send_header("Content-Length", str(stop - start))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{stop - 1}/{len(content)}")
            for name, value in tags.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(content[start:stop])
            state.served += stop - start

    return Handler


@pytest.fixture
def serve() -> Iterator:
    """Start a server with a handler; stopped after the test."""
    servers = []

    def start(handler: type[BaseHTTPRequestHandler]) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        servers.append(server)
        host, port = server.server_address[:2]
        return f"http://{host}:{port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _open(url: str, cache_dir: Path, cache: str, **options) -> MsgpackReader:
    return MsgpackReader(url, cache_dir=cache_dir, cache=cache, retries=1, backoff=0.0, **options)


def _assert_every_read_is_refused(reader: MsgpackReader, old: Path) -> None:
    """Every sample read after the replace raises the clear error; none is another sample."""
    with MsgpackReader(old) as local:
        expected = [packb(s) for s in local]
    order = list(range(N))
    random.Random(3).shuffle(order)
    for i in order:
        with pytest.raises(IncompleteCommitError, match=REPLACED) as info:
            got = reader[i]
            assert packb(got) == expected[i], f"sample {i} is another sample"  # pragma: no cover
        assert reader.url in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(IncompleteCommitError, match=REPLACED):
        list(reader.iter(0, raw=True))


# --- replaced after open ---


@pytest.mark.parametrize("cache", ["index", "auto"])
@pytest.mark.parametrize(
    "server",
    [{"etag": True}, {"etag": True, "if_match": False}, {"etag": False}],
    ids=["etag", "etag-no-if-match", "last-modified"],
)
def test_a_dataset_replaced_on_an_http_server_is_never_read_as_another_sample(
    generations, serve, tmp_path, cache, server
):
    old, new = generations
    state = Versioned(**server)
    state.publish(old)
    base = serve(_handler(state))
    reader = _open(f"{base}/d/train.msgpack", tmp_path / "cache", cache)
    assert reader.keys[0] == "a0000"  # the index of the old generation is loaded
    state.publish(new)  # same sizes, other samples
    _assert_every_read_is_refused(reader, old)
    fresh = _open(f"{base}/d/train.msgpack", tmp_path / "cache", cache)
    assert fresh[0]["key"] == "b0000" and fresh.keys[-1] == f"b{N - 1:04d}"  # opened again: the new one


@pytest.mark.parametrize("cache", ["index", "auto"])
def test_a_dataset_replaced_on_s3_is_never_read_as_another_sample(generations, s3, tmp_path, cache):
    old, new = generations
    prefix = f"{s3.bucket}/replaced-{cache}"

    def upload(data: Path) -> None:
        for name, content in _files(data).items():  # the data file first, the md5 file last
            s3.fs.pipe_file(f"{prefix}/{name}", content)
        s3.fs.invalidate_cache()

    upload(old)
    url = f"s3://{prefix}/train.msgpack"
    reader = _open(url, tmp_path / "cache", cache, storage_options=s3.options)
    assert reader.keys[0] == "a0000"
    upload(new)
    _assert_every_read_is_refused(reader, old)
    fresh = _open(url, tmp_path / "cache", cache, storage_options=s3.options)
    assert fresh[0]["key"] == "b0000"


def test_index_files_cached_by_a_newer_generation_are_not_read_by_an_older_reader(generations, serve, tmp_path):
    old, new = generations
    state = Versioned()
    state.publish(old)
    url = serve(_handler(state)) + "/d/train.msgpack"
    reader = _open(url, tmp_path / "cache", "index")  # index files fetched, none loaded yet
    state.publish(new)
    newer = _open(url, tmp_path / "cache", "index")  # the same cache folder now holds the new generation
    assert newer.keys[0] == "b0000"
    with pytest.raises(IncompleteCommitError, match=REPLACED):
        reader.keys  # noqa: B018 - loading the keys index is the point
    with pytest.raises(IncompleteCommitError, match=REPLACED):
        reader.get(0)


def test_a_cached_data_file_of_an_old_generation_is_not_used(generations, serve, tmp_path):
    old, new = generations
    state = Versioned()
    state.publish(old)
    url = serve(_handler(state)) + "/d/train.msgpack"
    first = _open(url, tmp_path / "cache", "full")
    assert first.cached and first[0]["key"] == "a0000"
    state.publish(new)
    second = _open(url, tmp_path / "cache", "auto")
    assert not second.cached
    assert [s["key"] for s in second] == [f"b{i:04d}" for i in range(N)]


# --- a server that ignores Range ---


class _Counting:
    """Bytes and GET requests a ``python -m http.server`` handler served, per file name."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bytes: dict[str, int] = {}
        self.gets: dict[str, int] = {}


def _plain_handler(folder: Path, counts: _Counting) -> type[SimpleHTTPRequestHandler]:
    """The standard library's file server (it ignores Range), counting what it sends."""

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, format: str, *args) -> None:
            pass

        def do_GET(self) -> None:
            name = self.path.rsplit("/", 1)[-1]
            with counts.lock:
                counts.gets[name] = counts.gets.get(name, 0) + 1
            super().do_GET()

        def copyfile(self, source, outputfile) -> None:
            name = self.path.rsplit("/", 1)[-1]
            while chunk := source.read(16 << 10):
                try:
                    outputfile.write(chunk)
                except OSError:  # the client closed the connection
                    return
                with counts.lock:
                    counts.bytes[name] = counts.bytes.get(name, 0) + len(chunk)

    return Handler


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """About 2 MB in 200 samples of 10 kB."""
    from dings.format import FileWriter

    path = tmp_path_factory.mktemp("big") / "big.msgpack"
    rng = random.Random(7)
    with FileWriter(path, overwrite=True, progress=False) as writer:
        for i in range(200):
            writer.write({"key": f"k{i:04d}", "data": rng.randbytes(10_000)})
    path.with_name(path.name + ".crc32").unlink(missing_ok=True)
    return path


def test_a_server_ignoring_range_is_detected_once_and_read_from_one_download(big, serve, tmp_path):
    counts = _Counting()
    url = serve(_plain_handler(big.parent, counts)) + f"/{big.name}"
    reader = _open(url, tmp_path / "cache", "auto", block_size=20_000)
    order = list(range(200))
    random.Random(5).shuffle(order)
    with MsgpackReader(big) as local:
        for i in order:
            assert packb(reader[i]) == packb(local[i])
        assert [packb(s) for s in reader] == [packb(s) for s in local]
    assert reader.cached
    size = big.stat().st_size
    assert counts.gets[big.name] <= 2  # the request that detected it, and one download
    assert counts.bytes[big.name] <= 2 * size


@pytest.mark.parametrize("cache", ["index", "auto-without-md5"])
def test_a_server_ignoring_range_fails_clearly_where_nothing_can_be_cached(big, serve, tmp_path, cache):
    counts = _Counting()
    folder = tmp_path / "served"
    folder.mkdir()
    for name in [big.name + s for s in SUFFIXES if not (cache != "index" and s == ".md5")]:
        (folder / name).write_bytes(big.with_name(name).read_bytes())
    url = serve(_plain_handler(folder, counts)) + f"/{big.name}"
    if cache == "index":
        reader = _open(url, tmp_path / "cache", "index")
    else:
        with pytest.warns(UserWarning, match="no md5 file"):
            reader = _open(url, tmp_path / "cache", "auto")
    tracemalloc.start()
    try:
        for i in (5, 150, 77, 199):
            with pytest.raises(RemoteError, match="the server ignores HTTP Range requests") as info:
                reader.get(i)
            assert url in str(info.value) and "\n" not in str(info.value)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < big.stat().st_size // 2  # the whole-file answer was never read into memory
    with pytest.raises(RemoteError, match="the server ignores HTTP Range requests"):
        list(reader)
    assert counts.gets[big.name] == 1  # detected once
    assert counts.bytes.get(big.name, 0) <= big.stat().st_size  # never more than one copy sent


def test_whole_file_reads_from_a_server_ignoring_range_download_it_once(big, serve, tmp_path):
    from dings.readers.remote_fs import RemoteFiles

    counts = _Counting()
    url = serve(_plain_handler(big.parent, counts)) + f"/{big.name}"
    size = big.stat().st_size
    files = RemoteFiles(url)  # as dings.tools.stage copies a dataset
    assert b"".join(files.iter_blocks(url, size, 100_000, "the data file")) == big.read_bytes()
    assert counts.gets[big.name] <= 5  # the first requests found it out, then one download
    assert counts.bytes[big.name] <= 5 * size
    reader = _open(url, tmp_path / "cache", "index")
    counts.gets.clear()
    assert reader.verify_data()  # streamed once, not one whole file per block
    assert counts.gets[big.name] <= 5
    full = _open(url, tmp_path / "full", "full")
    assert full.cached and full.path.read_bytes() == big.read_bytes()


def test_a_weak_etag_is_the_same_generation_as_its_strong_form():
    from dings.readers.remote_fs import RemoteGeneration

    pin = RemoteGeneration(10, '"abc"')
    assert not pin.differs(RemoteGeneration(10, 'W/"abc"'))
    assert not pin.differs(RemoteGeneration(None))  # an answer that tells nothing
    assert pin.differs(RemoteGeneration(10, '"abd"')) and pin.differs(RemoteGeneration(11, '"abc"'))
    dated = RemoteGeneration(10, None, "Tue, 14 Nov 2023 22:13:20 GMT")
    assert dated.differs(RemoteGeneration(10, None, "Tue, 14 Nov 2023 23:13:20 GMT"))
    assert not dated.differs(RemoteGeneration(10, None, "Tue, 14 Nov 2023 22:13:20 GMT"))


def test_readers_of_a_server_ignoring_range_at_once_download_it_once(big, serve, tmp_path):
    import copy
    from concurrent.futures import ThreadPoolExecutor

    counts = _Counting()
    url = serve(_plain_handler(big.parent, counts)) + f"/{big.name}"
    reader = _open(url, tmp_path / "cache", "auto")
    copies = [copy.copy(reader) for _ in range(4)]  # as DataLoader workers each hold one
    with MsgpackReader(big) as local:
        expected = [packb(s) for s in local]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda r: [packb(r[i]) for i in range(0, 200, 3)], copies))
    assert got == [expected[0:200:3]] * 4
    assert counts.gets[big.name] <= 4 + 1  # each found it out once; one of them downloaded it


def test_a_server_ignoring_range_with_a_dataset_too_big_for_the_cache_fails_clearly(big, serve, tmp_path):
    counts = _Counting()
    url = serve(_plain_handler(big.parent, counts)) + f"/{big.name}"
    reader = _open(url, tmp_path / "cache", "auto", cache_limit=big.stat().st_size // 2)
    with pytest.raises(RemoteError, match=r"ignores HTTP Range requests.*does not fit in cache_limit"):
        reader.get(3)
    assert counts.gets[big.name] == 1


@pytest.mark.parametrize("md5", [True, False], ids=["md5", "no-md5"])
def test_an_evicted_index_file_fetched_again_must_be_the_pinned_generation(generations, serve, tmp_path, md5):
    old, new = generations
    state = Versioned()
    state.publish(old)
    if not md5:
        del state.files["train.msgpack.md5"]
    url = serve(_handler(state)) + "/d/train.msgpack"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no md5 file: a warning says so
        reader = _open(url, tmp_path / "cache", "index")
    keys = reader.path.with_name(reader.path.name + ".keys")
    keys.unlink()  # evicted by another process
    state.publish(new)
    if not md5:
        del state.files["train.msgpack.md5"]
    with pytest.raises(IncompleteCommitError, match=REPLACED):
        reader.keys  # noqa: B018 - fetching the keys index again is the point
    assert not keys.exists()
