"""A real HTTP server on 127.0.0.1 for download tests, serving in-memory files with scripted failures.

Use the ``http_server`` fixture (it starts a :class:`FileServer` on a free port and stops it after
the test)::

    url = http_server.add("/a.bin", data, drop_after=1000, drop_times=1)
    download(url, tmp_path / "a.bin", ...)
    assert http_server.ranges("/a.bin") == [None, "bytes=1000-"]

The test folders are packages: a test module imports the fixture relatively and binds it at
module level (``from .http_server import http_server``, or ``from ..tools.http_server …``).

Per path you can make the server:

- honour ``Range`` (206 with ``Content-Range``; ``bytes=a-`` and ``bytes=a-b``) or ignore it (always
  200 with the whole file); ``HEAD`` tells the size (and uses up no scripted failure);
- drop the connection after N body bytes (closing it, or resetting it with RST) for the first K
  requests, so a retry or resume then succeeds;
- stall after N bytes (send nothing more until the server stops) for the first K requests, to make
  the client time out;
- answer a fixed status (404, 403, …) or a failing status (500, 429, …) for the first K requests;
- serve corrupted content (one byte flipped) so an md5 check fails;
- leave out ``Content-Length`` (the body then ends when the connection closes);
- answer a ``Range`` request from the wrong byte (``range_shift``), like a buggy server.

Every request is recorded (path, ``Range`` header, status sent) so tests can check that a resume
really used ``Range`` and started at the right byte, or that nothing was requested at all.
"""

from __future__ import annotations

import re
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

__all__ = ["FileServer", "Route", "RecordedRequest", "http_server"]


@dataclass
class Route:
    """What the server does for one path (see the module docstring)."""

    content: bytes
    ranges: bool = True
    status: int = 200
    fail_status: int = 500
    fail_times: int = 0
    drop_after: int | None = None
    drop_times: int = 1
    drop_mode: str = "close"
    stall_after: int | None = None
    stall_times: int = 1
    corrupt: bool = False
    content_length: bool = True
    range_shift: int = 0
    hits: int = 0

    def body(self) -> bytes:
        if not self.corrupt or not self.content:
            return self.content
        middle = len(self.content) // 2
        return self.content[:middle] + bytes([self.content[middle] ^ 0xFF]) + self.content[middle + 1 :]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it."""

    method: str
    path: str
    range: str | None
    status: int


@dataclass
class FileServer:
    """In-memory files behind a ThreadingHTTPServer on 127.0.0.1 (port chosen by the OS)."""

    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="test-http-server", daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()  # releases stalled handlers
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def add(self, path: str, content: bytes, **options) -> str:
        """Serve ``content`` at ``path`` with the :class:`Route` ``options``; return its URL."""
        self.routes[path] = Route(content, **options)
        return self.base_url + path

    def url(self, path: str) -> str:
        return self.base_url + path

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def requests_for(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def ranges(self, path: str) -> list[str | None]:
        """The ``Range`` header of every request for ``path`` (``None`` when absent), in order."""
        return [r.range for r in self.requests_for(path)]


_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


def _make_handler(server: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            range_header = self.headers.get("Range")
            with server._lock:
                route = server.routes.get(path)
                hit = route.hits if route else 0
                if route:
                    route.hits += 1
            if route is None:
                return self._status(path, range_header, 404)
            if route.status != 200:
                return self._status(path, range_header, route.status)
            if hit < route.fail_times:
                return self._status(path, range_header, route.fail_status)
            body = route.body()
            start, status = 0, 200
            stop = len(body)
            match = _RANGE.fullmatch(range_header or "")
            if route.ranges and match:
                start = int(match.group(1))
                if start >= len(body):
                    server.record(RecordedRequest("GET", path, range_header, 416))  # before answering
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                start = min(start + route.range_shift, len(body) - 1)  # a buggy server
                if match.group(2):  # a closed range "bytes=a-b" ends at b (inclusive)
                    stop = min(int(match.group(2)) + 1, len(body))
                status = 206
            server.record(RecordedRequest("GET", path, range_header, status))  # before the client can see it
            payload = body[start:stop]
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            if route.content_length:
                self.send_header("Content-Length", str(len(payload)))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{stop - 1}/{len(body)}")
            self.end_headers()
            if route.drop_after is not None and hit - route.fail_times < route.drop_times:
                self.wfile.write(payload[: max(route.drop_after - start, 0)])
                self.wfile.flush()
                if route.drop_mode == "reset":  # RST instead of FIN: the client sees a reset
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                return
            if route.stall_after is not None and hit - route.fail_times < route.stall_times:
                self.wfile.write(payload[: max(route.stall_after - start, 0)])
                self.wfile.flush()
                server._stop.wait()
                return
            self.wfile.write(payload)

        def do_HEAD(self) -> None:
            # size look-ups (fsspec asks with HEAD): no body, and no scripted failure is used up
            path = self.path.split("?", 1)[0]
            with server._lock:
                route = server.routes.get(path)
            status = 404 if route is None else route.status
            server.record(RecordedRequest("HEAD", path, None, status))
            self.send_response(status)
            if status == 200:
                self.send_header("Content-Length", str(len(route.content)))  # type: ignore[union-attr]
                self.send_header("Accept-Ranges", "bytes" if route.ranges else "none")  # type: ignore[union-attr]
            else:
                self.send_header("Content-Length", "0")
            self.end_headers()

        def _status(self, path: str, range_header: str | None, status: int) -> None:
            server.record(RecordedRequest("GET", path, range_header, status))
            message = f"status {status}\n".encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(message)))
            self.end_headers()
            self.wfile.write(message)

    return Handler


@pytest.fixture
def http_server() -> Iterator[FileServer]:
    """A running :class:`FileServer`, stopped after the test."""
    server = FileServer().start()
    try:
        yield server
    finally:
        server.stop()
