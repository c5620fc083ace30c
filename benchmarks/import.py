"""Import benchmark: ``dings import`` against the peers' one-step conversions, on the same data in one run.

Two workloads (as in issue 18):

- **folder**: 20,000 small JPEGs in an ImageFolder tree (10 class folders);
- **parquet**: a Parquet table of 20,000 rows (JPEG bytes, int label, a caption).

Each is converted by

- dings:       ``dings.tools.import_folder`` / ``import_table`` with ``--threads`` threads (default 2)
- webdataset:  a loop over the files/rows into ``webdataset.ShardWriter`` (its documented way)
- datasets:    ``load_dataset("imagefolder")`` / ``Dataset.from_parquet``, then ``save_to_disk``
- litdata:     ``litdata.optimize`` with ``--threads`` workers, run by ``--peers-python`` (a venv with
               litdata; the parquet workload also needs pyarrow there)

A peer that is not importable is reported as n/a. Each variant runs ``--repeat`` times (at least 3
for the short parquet runs; best time kept) after the inputs were written, so every variant reads
from the page cache. The ratio is the
fastest peer's time over dings' time. Run: ``hatch run bench-import``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

CLASSES = 10

LITDATA = r"""
import json, sys, time
from pathlib import Path
import litdata

kind, source, output, workers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def read_file(item):
    path, label = item
    with open(path, "rb") as f:
        return {"image": f.read(), "label": label}

def read_row(item):
    return item

if __name__ == "__main__":
    start = time.perf_counter()
    if kind == "folder":
        root = Path(source)
        classes = sorted(p.name for p in root.iterdir())
        inputs = [(str(p), c) for c, name in enumerate(classes) for p in sorted((root / name).iterdir())]
        litdata.optimize(fn=read_file, inputs=inputs, output_dir=output, num_workers=workers, chunk_bytes="64MB", verbose=False)
    else:
        import pyarrow.parquet as pq
        table = pq.read_table(source)
        rows = table.to_pylist()
        litdata.optimize(fn=read_row, inputs=rows, output_dir=output, num_workers=workers, chunk_bytes="64MB", verbose=False)
    print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def jpeg(rng: np.random.Generator) -> bytes:
    from PIL import Image

    pixels = rng.integers(0, 256, size=(24, 24, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=85)
    return out.getvalue()


def make_inputs(folder: Path, count: int) -> tuple[Path, Path, int]:
    """The ImageFolder tree and the Parquet table; returns their paths and the bytes of the images."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    tree = folder / "tree"
    images, labels = [], []
    for i in range(count):
        label = i % CLASSES
        data = jpeg(rng)
        (tree / f"class{label:02d}").mkdir(parents=True, exist_ok=True)
        (tree / f"class{label:02d}" / f"{i:06d}.jpg").write_bytes(data)
        images.append(data)
        labels.append(label)
    table = folder / "table.parquet"
    pq.write_table(
        pa.table(
            {"image": pa.array(images, pa.binary()), "label": labels, "caption": [f"image {i}" for i in range(count)]}
        ),
        table,
    )
    return tree, table, sum(len(b) for b in images)


def best(run: Callable[[Path], float], out: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        times.append(run(out))
    shutil.rmtree(out, ignore_errors=True)
    return min(times)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def dings_runs(tree: Path, table: Path, threads: int) -> dict[str, Callable[[Path], float]]:
    from dings.tools import import_folder, import_table

    return {
        "folder": lambda out: timed(lambda: import_folder(tree, out / "data.msgpack", threads=threads, progress=False)),
        "parquet": lambda out: timed(
            lambda: import_table(table, out / "data.msgpack", threads=threads, progress=False)
        ),
    }


def webdataset_runs(tree: Path, table: Path) -> dict[str, Callable[[Path], float]]:
    import pyarrow.parquet as pq
    import webdataset as wds

    def folder(out: Path) -> float:
        def run() -> None:
            classes = sorted(p.name for p in tree.iterdir())
            with wds.ShardWriter(str(out / "data-%06d.tar"), maxcount=100000, verbose=0) as sink:
                for label, name in enumerate(classes):
                    for path in sorted((tree / name).iterdir()):
                        sink.write({"__key__": f"{name}/{path.stem}", "jpg": path.read_bytes(), "cls": label})

        return timed(run)

    def parquet(out: Path) -> float:
        def run() -> None:
            with wds.ShardWriter(str(out / "data-%06d.tar"), maxcount=100000, verbose=0) as sink:
                row = 0
                for batch in pq.ParquetFile(table).iter_batches(batch_size=1024):
                    for item in batch.to_pylist():
                        sink.write(
                            {
                                "__key__": f"{row:06d}",
                                "jpg": item["image"],
                                "cls": item["label"],
                                "txt": item["caption"],
                            }
                        )
                        row += 1

        return timed(run)

    return {"folder": folder, "parquet": parquet}


def datasets_runs(tree: Path, table: Path, threads: int) -> dict[str, Callable[[Path], float]]:
    import datasets

    datasets.disable_progress_bars()

    def folder(out: Path) -> float:
        def run() -> None:
            loaded = datasets.load_dataset(
                "imagefolder", data_dir=str(tree), split="train", cache_dir=str(out / "cache"), num_proc=threads
            )
            loaded.save_to_disk(str(out / "saved"))

        return timed(run)

    def parquet(out: Path) -> float:
        def run() -> None:
            loaded = datasets.Dataset.from_parquet(str(table), cache_dir=str(out / "cache"))
            loaded.save_to_disk(str(out / "saved"))

        return timed(run)

    return {"folder": folder, "parquet": parquet}


def litdata_runs(
    python: str, tree: Path, table: Path, threads: int, script: Path
) -> dict[str, Callable[[Path], float]]:
    def run(kind: str, source: Path) -> Callable[[Path], float]:
        def go(out: Path) -> float:
            result = subprocess.run(
                [python, str(script), kind, str(source), str(out / "optimized"), str(threads)],
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise RuntimeError(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed")
            return json.loads(result.stdout.strip().splitlines()[-1])["seconds"]

        return go

    return {"folder": run("folder", tree), "parquet": run("parquet", table)}


def available(python: str, module: str) -> bool:
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000, help="images and rows (default %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="dings threads and peer workers (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per variant, best kept (default %(default)s)")
    parser.add_argument(
        "--peers-python", default="/tmp/dings-peers/venv/bin/python", help="a Python with litdata (default %(default)s)"
    )
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="dings-bench-import-", dir=args.dir))
    try:
        start = time.perf_counter()
        tree, table, image_bytes = make_inputs(work / "inputs", args.count)
        print(
            f"inputs: {args.count} JPEGs ({image_bytes / 1e6:.1f} MB) as a tree and a Parquet table, {time.perf_counter() - start:.1f} s",
            file=sys.stderr,
        )
        script = work / "litdata_run.py"
        script.write_text(LITDATA)
        variants: dict[str, dict[str, Callable[[Path], float]] | str] = {"dings": dings_runs(tree, table, args.threads)}
        for name, factory in (
            ("webdataset", lambda: webdataset_runs(tree, table)),
            ("datasets", lambda: datasets_runs(tree, table, args.threads)),
        ):
            try:
                variants[name] = factory()
            except ImportError as exc:
                variants[name] = f"n/a ({exc.name} not importable)"
        peers_ok = os.path.exists(args.peers_python) and available(args.peers_python, "litdata")
        variants["litdata"] = (
            litdata_runs(args.peers_python, tree, table, args.threads, script)
            if peers_ok
            else f"n/a (no litdata in {args.peers_python})"
        )
        litdata_parquet = peers_ok and available(args.peers_python, "pyarrow")
        results: dict[str, dict[str, float | str]] = {}
        for workload in ("folder", "parquet"):
            results[workload] = {}
            for name, runs in variants.items():
                if isinstance(runs, str):
                    results[workload][name] = runs
                    continue
                if name == "litdata" and workload == "parquet" and not litdata_parquet:
                    results[workload][name] = "n/a (no pyarrow next to litdata)"
                    continue
                repeat = max(args.repeat, 3) if workload == "parquet" else args.repeat  # short runs: noise matters more
                try:
                    results[workload][name] = best(runs[workload], work / "out" / name, repeat)
                except Exception as exc:  # a peer that fails is reported, the others still run
                    results[workload][name] = f"failed ({type(exc).__name__}: {exc})"
                print(f"{workload:<8} {name:<11} {results[workload][name]}", file=sys.stderr)
        report(results, args.count, args.threads, args.json)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(results: dict[str, dict[str, float | str]], count: int, threads: int, as_json: bool) -> None:
    summary = {}
    for workload, times in results.items():
        peers = {k: v for k, v in times.items() if k != "dings" and isinstance(v, float)}
        ours = times["dings"]
        fastest = min(peers, key=peers.get) if peers else None
        ratio = peers[fastest] / ours if fastest and isinstance(ours, float) else None
        summary[workload] = {"times": times, "fastest_peer": fastest, "ratio": ratio}
    if as_json:
        print(json.dumps({"count": count, "threads": threads, "results": summary}, indent=2))
        return
    print(
        f"\nimport of {count:,} samples, dings with {threads} threads (peers with {threads} workers where they take any)"
    )
    for workload, entry in summary.items():
        print(f"\n{workload}:")
        for name, value in entry["times"].items():
            text = f"{value:7.2f} s  {count / value:10,.0f} samples/s" if isinstance(value, float) else value
            print(f"  {name:<11} {text}")
        if entry["ratio"] is not None:
            print(f"  dings is {entry['ratio']:.2f}x the fastest peer ({entry['fastest_peer']})")


if __name__ == "__main__":
    main()
