"""Remote read benchmark: samples/s from a local S3 server (moto) versus the same file on local disk.

One dataset (``--samples`` samples of ``--size`` bytes) is written with FileWriter, uploaded to
moto's S3 server on 127.0.0.1, and read

- sequentially (``iter``), quasi-shuffled (``QuasiShuffler``, chunks of ``--chunk`` samples) and
  at random (``get`` of ``--random`` samples) from the plain local file;
- the same way through ``MsgpackReader("s3://…", cache="index")`` (every sample fetched remotely;
  ranged reads coalesced per chunk / block);
- sequentially again after the data file was cached (``cache="auto"``: the first complete pass
  stores it; the next open reads it locally).

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
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from dings.format import FileWriter
from dings.readers import MsgpackReader, QuasiShuffler


def build(path: Path, count: int, size: int) -> Path:
    payload = os.urandom(size + count)
    with FileWriter(path, overwrite=True, progress=False) as writer:
        for i in range(count):
            writer.write({"key": f"{i:09d}", "label": i % 10, "data": payload[i : i + size]})
    return path


def measure(name: str, open_reader: Callable[[], MsgpackReader], run: Callable[[MsgpackReader], int], repeat: int) -> dict:
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
    return {"case": name, "samples": samples, "samples_per_s": best, "requests_per_1000": 1000 * requests / max(samples, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20000, help="samples in the dataset")
    parser.add_argument("--size", type=int, default=1000, help="bytes of payload per sample")
    parser.add_argument("--chunk", type=int, default=32, help="QuasiShuffler chunk size")
    parser.add_argument("--random", type=int, default=300, help="samples read with random get")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (best is reported)")
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
            options = {"endpoint_url": f"http://{host}:{port}", "key": "bench", "secret": "bench",
                       "client_kwargs": {"region_name": "eu-central-1"}}
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
                return MsgpackReader(url, storage_options=options, cache_dir=root / "cache-index", cache="index", retries=2)

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
    finally:
        server.stop()
    if args.json:
        print(json.dumps({"samples": args.samples, "size": args.size, "results": results}, indent=2))
        return
    print(f"{args.samples} samples of {args.size} bytes; best of {args.repeat}")
    print(f"{'case':40} {'samples/s':>12} {'requests/1000':>14}")
    for row in results:
        print(f"{row['case']:40} {row['samples_per_s']:12,.0f} {row['requests_per_1000']:14.2f}")


if __name__ == "__main__":
    main()
