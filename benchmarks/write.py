"""Write benchmark: dings.format.FileWriter versus datadings' FileWriter, next to the machine's ceiling.

Two workloads (as in the issue): 20000 samples of 110 kB bytes, and 200000 samples of 100 bytes.
For each, in one run and on the same samples:

- dings:      dings.format.FileWriter (data, index and md5 files, atomic rename)
- datadings:  datadings.writer.FileWriter 3.4.7 (needs ``pip install datadings==3.4.7``)
- ceiling:    plain large writes of the same packed bytes, and md5 of the same bytes, each alone

Every variant runs once to warm up (a fresh VM pays for first-touched memory), then ``--repeat``
times in alternation, with ``sync`` between runs so one run's writeback does not slow the next; the
best time of each is reported, with ratios. Run: ``hatch run bench``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from dings.format import FileWriter, packb

CHUNK = 1 << 20


def make_samples(count: int, size: int) -> list[dict]:
    payload = os.urandom(size + count)  # distinct payloads without calling urandom per sample
    return [{"key": f"{i:08d}", "data": payload[i : i + size]} for i in range(count)]


def time_dings(samples: list[dict], out: Path) -> float:
    start = time.perf_counter()
    with FileWriter(out, overwrite=True, progress=False) as writer:
        for sample in samples:
            writer.write(sample)
    return time.perf_counter() - start


def time_datadings(samples: list[dict], out: Path) -> float:
    from datadings.writer import FileWriter as DatadingsWriter

    start = time.perf_counter()
    with DatadingsWriter(out, overwrite=True, disable=True) as writer:
        for sample in samples:
            writer.write(sample)
    return time.perf_counter() - start


def chunks_of(samples: list[dict]) -> list[bytes]:
    packed = b"".join(packb(s) for s in samples)
    return [packed[i : i + CHUNK] for i in range(0, len(packed), CHUNK)]


def time_plain_write(chunks: list[bytes], out: Path) -> float:
    start = time.perf_counter()
    with open(out, "wb", buffering=0) as f:
        for chunk in chunks:
            f.write(chunk)
    return time.perf_counter() - start


def time_md5(chunks: list[bytes]) -> float:
    start = time.perf_counter()
    md5 = hashlib.md5()
    for chunk in chunks:
        md5.update(chunk)
    return time.perf_counter() - start


def remove_dataset(out: Path) -> None:
    for path in out.parent.glob(out.name + "*"):
        path.unlink()


def run_workload(name: str, count: int, size: int, repeat: int, workdir: Path, with_datadings: bool) -> dict:
    samples = make_samples(count, size)
    chunks = chunks_of(samples)
    nbytes = sum(len(c) for c in chunks)
    out = workdir / f"{name}.msgpack"
    variants = {
        "dings": lambda: time_dings(samples, out),
        "plain write": lambda: time_plain_write(chunks, out),
        "md5": lambda: time_md5(chunks),
    }
    if with_datadings:
        variants["datadings"] = lambda: time_datadings(samples, out)
    best = {}
    for round_ in range(repeat + 1):
        for label, fn in variants.items():
            seconds = fn()
            remove_dataset(out)
            if hasattr(os, "sync"):
                os.sync()  # let writeback of this run finish before the next one is timed
            if round_:  # round 0 warms up
                best[label] = min(best.get(label, seconds), seconds)
    result = {"workload": name, "samples": count, "sample_bytes": size, "total_bytes": nbytes, "seconds": best}
    result["samples_per_s"] = {k: count / v for k, v in best.items() if k not in ("plain write", "md5")}
    result["MB_per_s"] = {k: nbytes / v / 1e6 for k, v in best.items()}
    if with_datadings:
        result["dings_vs_datadings"] = best["datadings"] / best["dings"]
        # md5 of one file is serial: no writer can finish faster than md5 of its bytes alone
        result["best_possible_vs_datadings"] = best["datadings"] / max(best["plain write"], best["md5"])
    result["dings_vs_ceiling"] = max(best["plain write"], best["md5"]) / best["dings"]
    return result


def report(result: dict) -> None:
    print(
        f"\n{result['workload']}: {result['samples']} samples x {result['sample_bytes']} B "
        f"({result['total_bytes'] / 1e6:.0f} MB packed)"
    )
    for label, seconds in result["seconds"].items():
        rate = result["samples_per_s"].get(label)
        extra = f"{rate:12,.0f} samples/s" if rate else " " * 22
        print(f"  {label:12s} {seconds:8.3f} s {extra} {result['MB_per_s'][label]:9.1f} MB/s")
    if "dings_vs_datadings" in result:
        print(
            f"  ratio dings / datadings speed: {result['dings_vs_datadings']:.2f}x "
            f"(a writer at the ceiling would reach {result['best_possible_vs_datadings']:.2f}x)"
        )
    print(f"  ratio dings / ceiling (slower of plain write and md5 alone): {result['dings_vs_ceiling']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=int, default=20000, help="number of 110 kB samples")
    parser.add_argument("--small", type=int, default=200000, help="number of 100 B samples")
    parser.add_argument("--repeat", type=int, default=3, help="measured rounds after one warm-up round")
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: a temporary folder)")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args()
    try:
        import datadings  # noqa: F401

        with_datadings = True
    except ImportError:
        with_datadings = False
        print("datadings is not installed: reporting dings and the ceiling only")
    workdir = Path(tempfile.mkdtemp(prefix="dings-bench-", dir=args.dir))
    try:
        results = [
            run_workload("large", args.big, 110_000, args.repeat, workdir, with_datadings),
            run_workload("small", args.small, 100, args.repeat, workdir, with_datadings),
        ]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for result in results:
            report(result)


if __name__ == "__main__":
    main()
