"""Opening a large set: ``open_dataset`` over a 10,000-shard set with a manifest, locally and over HTTP.

The set (tiny shards, written once into a temporary folder: one shard written with ``FileWriter``
and hard-linked under every shard name, plus the manifest a partitioned write leaves) is opened

- locally from its folder (the manifest alone): milliseconds to open (median of ``--repeat``) and
  the ``stat``/``lstat``/``open`` calls made, counted by wrapping ``os.stat``, ``os.lstat``,
  ``os.open`` and ``open`` (``os.path.exists`` goes through ``os.stat``);
- for comparison, through a glob pattern, which opens every shard up front (one round);
- over a local HTTP server from the folder's URL: requests made to open, and to read one sample.

Target: under 50 ms locally, one request over HTTP. Run: ``hatch run bench-open [--shards N]``.
"""

from __future__ import annotations

import argparse
import builtins
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from dings.format import FileWriter, load_md5
from dings.readers import open_dataset


def build(folder: Path, shards: int) -> Path:
    """A set of ``shards`` one-sample shards ``train-<p>-00000.msgpack`` and its manifest (the files
    of one shard hard-linked under every name, each with its own md5 file)."""
    folder.mkdir(parents=True)
    first = folder / "train-00000-00000.msgpack"
    with FileWriter(first, overwrite=True, progress=False) as writer:
        writer.write({"key": "s0", "data": b"x" * 16})
    files = [p for p in folder.iterdir() if p.name.startswith(first.name) and not p.name.endswith(".md5")]
    md5 = load_md5(first)[first.name]
    md5_text = (folder / (first.name + ".md5")).read_text()
    for partition in range(1, shards):
        name = f"train-{partition:05d}-00000.msgpack"
        for file in files:
            os.link(file, folder / (name + file.name[len(first.name) :]))
        (folder / (name + ".md5")).write_text(md5_text.replace(first.name, name))  # names its own files
    entries = [
        {
            "name": f"train-{p:05d}-00000.msgpack",
            "partition": p,
            "samples": 1,
            "size": first.stat().st_size,
            "md5": md5,
        }
        for p in range(shards)
    ]
    manifest = {"dings-manifest": 1, "samples": shards, "partitions": shards, "shards": entries}
    (folder / "train.manifest.json").write_text(json.dumps(manifest))
    return folder


@contextmanager
def counted_calls() -> Iterator[list[str]]:
    """Record every ``os.stat``/``os.lstat``/``os.open``/``open`` while inside."""
    seen: list[str] = []
    originals = [(module, name, getattr(module, name)) for module in (os,) for name in ("stat", "lstat", "open")]
    originals.append((builtins, "open", builtins.open))

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def counting(path: Any, *args: Any, **kwargs: Any) -> Any:
            seen.append(str(path))
            return original(path, *args, **kwargs)

        return counting

    for module, name, original in originals:
        setattr(module, name, wrap(original))
    try:
        yield seen
    finally:
        for module, name, original in originals:
            setattr(module, name, original)


class _CountingHandler(SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_head(self) -> Any:
        self.requests.append(f"{self.command} {self.path}")
        return super().send_head()


def serve(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_CountingHandler, directory=str(folder.parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    return server, f"http://{host}:{port}/{folder.name}"


def median_ms(action: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shards", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="dings-bench-open-"))
    try:
        start = time.perf_counter()
        folder = build(root / "train", args.shards)
        print(f"built {args.shards} shards in {time.perf_counter() - start:.1f} s ({folder})")
        rows = []

        def open_folder() -> None:
            reader = open_dataset(folder)
            assert len(reader) == args.shards

        with counted_calls() as seen:
            open_folder()
        rows.append(("local folder (manifest)", median_ms(open_folder, args.repeat), f"{len(seen)} stat/open", ""))

        def open_glob() -> None:
            reader = open_dataset(str(folder / "train-*.msgpack"))
            assert len(reader) == args.shards

        with counted_calls() as seen:
            glob_ms = median_ms(open_glob, 1)
        rows.append(("local glob (every shard)", glob_ms, f"{len(seen)} stat/open", "1 round"))

        server, url = serve(folder)
        cache = root / "cache"
        try:
            _CountingHandler.requests.clear()
            reader = open_dataset(url, cache_dir=cache)
            opened = len(_CountingHandler.requests)
            reader.read_sample(args.shards // 2)
            read = len(_CountingHandler.requests) - opened

            def open_url() -> None:
                assert len(open_dataset(url, cache_dir=cache)) == args.shards

            rows.append(
                (
                    "HTTP folder URL (manifest)",
                    median_ms(open_url, args.repeat),
                    f"{opened} request(s)",
                    f"+{read} to read one sample",
                )
            )
        finally:
            server.shutdown()
            server.server_close()

        print(f"\n| open_dataset, {args.shards:,} shards | ms (median of {args.repeat}) | calls to open | note |")
        print("|---|---:|---|---|")
        for name, ms, calls, note in rows:
            print(f"| {name} | {ms:.1f} | {calls} | {note} |")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
