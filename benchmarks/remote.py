"""Remote read benchmark: samples/s from a local S3 server (moto) versus the same file on local disk.

One dataset (``--samples`` samples of ``--size`` bytes) is written with FileWriter, uploaded to
moto's S3 server on 127.0.0.1, and read

- sequentially (``iter``), quasi-shuffled (``QuasiShuffler``, chunks of ``--chunk`` samples) and
  at random (``get`` of ``--random`` samples) from the plain local file;
- the same way through ``MsgpackReader("s3://…", cache="index")`` (every sample fetched remotely;
  ranged reads coalesced per chunk / block);
- sequentially again after the data file was cached (``cache="auto"``: the first complete pass
  stores it; the next open reads it locally);
- quasi-shuffled and in random batches (``read_runs`` of ``--batch`` scattered samples) from an
  HTTP server on 127.0.0.1 that waits ``--latency`` ms before every answer, a stand-in for an
  object store across a network: once with one request at a time, once with the reader's
  concurrent requests (``concurrent_requests``), to show what keeping requests in flight buys.

For each: samples/s (best of ``--repeat``) and ranged requests per 1000 samples. moto is a
Python server, so remote numbers show the request overhead more than a real object store would;
the request counts carry over. Needs the hatch dev env (fsspec, s3fs, moto[server]).
Run: ``hatch run bench-remote [--samples N --size B --chunk C --repeat R --json]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from dings.format import FileWriter
from dings.readers import MsgpackReader, QuasiShuffler, RemoteMsgpackReader


def build(path: Path, count: int, size: int) -> Path:
    payload = os.urandom(size + count)
    with FileWriter(path, overwrite=True, progress=False) as writer:
        for i in range(count):
            writer.write({"key": f"{i:09d}", "label": i % 10, "data": payload[i : i + size]})
    return path


class SlowFiles(ThreadingHTTPServer):
    """Serves the files of ``root`` (GET with ``Range``, HEAD) after ``latency`` seconds per request."""

    daemon_threads = True

    def __init__(self, root: Path, latency: float) -> None:
        self.root, self.latency = root, latency
        super().__init__(("127.0.0.1", 0), SlowHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class SlowHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SlowFiles

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle/delayed-ACK stalls

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass

    def _answer(self, body: bool) -> None:
        time.sleep(self.server.latency)
        path = self.server.root / self.path.lstrip("/")
        if not path.is_file():
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        size = path.stat().st_size
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
        start, end = (int(match[1]), min(size, int(match[2]) + 1) if match[2] else size) if match else (0, size)
        self.send_response(206 if match else 200)
        if match:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
        self.send_header("Content-Length", str(end - start))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if body:
            with open(path, "rb") as file:
                file.seek(start)
                self.wfile.write(file.read(end - start))

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._answer(True)

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's name
        self._answer(False)


def measure(
    name: str, open_reader: Callable[[], MsgpackReader], run: Callable[[MsgpackReader], int], repeat: int
) -> dict:
    """Best samples/s of ``repeat`` runs, each on a freshly opened reader; requests of the last run."""
    best, samples, requests = 0.0, 0, 0
    for _ in range(repeat):
        reader = open_reader()
        start = time.perf_counter()
        samples = run(reader)
        elapsed = time.perf_counter() - start
        best = max(best, samples / elapsed)
        requests = getattr(reader, "requests", 0)
        reader.close()
    return {
        "case": name,
        "samples": samples,
        "samples_per_s": best,
        "requests_per_1000": 1000 * requests / max(samples, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20000, help="samples in the dataset")
    parser.add_argument("--size", type=int, default=1000, help="bytes of payload per sample")
    parser.add_argument("--chunk", type=int, default=32, help="QuasiShuffler chunk size")
    parser.add_argument("--random", type=int, default=300, help="samples read with random get")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (best is reported)")
    parser.add_argument("--latency", type=float, default=20.0, help="ms the slow HTTP server waits per request")
    parser.add_argument("--batch", type=int, default=256, help="scattered samples per read_runs call")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    import s3fs
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            data = build(root / "bench.msgpack", args.samples, args.size)
            host, port = server.get_host_and_port()
            options = {
                "endpoint_url": f"http://{host}:{port}",
                "key": "bench",
                "secret": "bench",
                "client_kwargs": {"region_name": "eu-central-1"},
            }
            fs = s3fs.S3FileSystem(skip_instance_cache=True, **options)
            fs.mkdir("dings-bench")
            for file in root.iterdir():
                fs.pipe_file(f"dings-bench/{file.name}", file.read_bytes())
            url = "s3://dings-bench/bench.msgpack"
            order = list(range(0, args.samples, max(1, args.samples // args.random)))[: args.random]

            def sequential(reader: MsgpackReader) -> int:
                return sum(1 for _ in reader)

            def quasi(reader: MsgpackReader) -> int:
                return sum(1 for _ in QuasiShuffler(reader, buf_size=4 * args.chunk, chunk_size=args.chunk, seed=0))

            def random_get(reader: MsgpackReader) -> int:
                for i in order:
                    reader.get(i)
                return len(order)

            def local() -> MsgpackReader:
                return MsgpackReader(data)

            def remote() -> MsgpackReader:
                return MsgpackReader(
                    url, storage_options=options, cache_dir=root / "cache-index", cache="index", retries=2
                )

            def cached() -> MsgpackReader:
                return MsgpackReader(url, storage_options=options, cache_dir=root / "cache-auto")

            warm = cached()
            sequential(warm)  # the first complete pass stores the data file
            if not warm.cached:
                raise RuntimeError("the data file was not cached after a complete pass")
            warm.close()
            results = [
                measure("local sequential", local, sequential, args.repeat),
                measure(f"local quasi-shuffled (chunk {args.chunk})", local, quasi, args.repeat),
                measure("local random get", local, random_get, args.repeat),
                measure("s3 sequential", remote, sequential, args.repeat),
                measure(f"s3 quasi-shuffled (chunk {args.chunk})", remote, quasi, args.repeat),
                measure("s3 random get", remote, random_get, args.repeat),
                measure("s3 cached sequential", cached, sequential, args.repeat),
            ]
            slow = SlowFiles(root, args.latency / 1000)
            batch = random.Random(0).sample(range(args.samples), min(args.batch, args.samples))

            def random_batch(reader: MsgpackReader) -> int:
                return sum(map(len, reader.read_runs([(i, i + 1) for i in batch])))

            for in_flight in (1, RemoteMsgpackReader.concurrent_requests):

                def over_http(in_flight: int = in_flight) -> MsgpackReader:
                    reader = MsgpackReader(
                        f"{slow.url}/bench.msgpack", cache_dir=root / "cache-http", cache="index", retries=2
                    )
                    reader.concurrent_requests = in_flight
                    return reader

                label = f"http {args.latency:g} ms, {in_flight} request{'s' if in_flight > 1 else ''} in flight"
                results.append(measure(f"{label}: quasi-shuffled (chunk {args.chunk})", over_http, quasi, 1))
                results.append(measure(f"{label}: random batch of {len(batch)}", over_http, random_batch, 1))
            slow.shutdown()
    finally:
        server.stop()
    if args.json:
        print(json.dumps({"samples": args.samples, "size": args.size, "results": results}, indent=2))
        return
    print(f"{args.samples} samples of {args.size} bytes; best of {args.repeat}")
    width = max(len(row["case"]) for row in results)
    print(f"{'case':{width}} {'samples/s':>12} {'requests/1000':>14}")
    for row in results:
        print(f"{row['case']:{width}} {row['samples_per_s']:12,.0f} {row['requests_per_1000']:14.2f}")


if __name__ == "__main__":
    main()
