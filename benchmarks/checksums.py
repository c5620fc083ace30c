"""What per-sample checksums cost: writing with and without them, and reading with ``verify=True``.

Workloads as in issue 20: samples of 110 kB and of 100 B. For each:

- write:  dings.format.FileWriter as shipped (a thread computes one CRC-32 per sample; the
          writer writes ``.crc32``) against the same writer whose checksum step only appends zeros,
          so the difference is the whole cost of computing the checksums. Targets: <= 5 % (110 kB), <= 15 % (100 B).
- crc32:  the CRC-32 of every packed sample alone (the floor of that cost).
- read:   a sequential raw pass with ``MsgpackReader(path)`` against ``MsgpackReader(path,
          verify=True)``, when the reader has that option (the readers' side of issue 20).

Every variant runs once to warm up, then ``--repeat`` times in alternation; the best time counts.
Run: ``python benchmarks/checksums.py [--big N] [--small N] [--repeat R] [--json]``.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import shutil
import tempfile
import time
import zlib
from pathlib import Path

from dings.format import FileWriter, packb
from dings.format import writer as writer_module


def make_samples(count: int, size: int) -> list[dict]:
    payload = os.urandom(size + count)
    return [{"key": f"{i:08d}", "data": payload[i : i + size]} for i in range(count)]


def _no_checksums(offsets: list[int], checksums, job: tuple[bytes, int, list[int]]) -> None:
    checksums.extend([0] * len(job[2]))  # zeros: the file is written, nothing computed here


class _NoCrc:
    @staticmethod
    def crc32(data: bytes) -> int:
        return 0


def time_write(samples: list[dict], out: Path, checksums: bool) -> float:
    original = writer_module._checksum_chunk
    if not checksums:
        writer_module._checksum_chunk = _no_checksums
        writer_module.zlib = _NoCrc  # the inline CRC-32 of small samples
    try:
        start = time.perf_counter()
        with FileWriter(out, overwrite=True, progress=False) as writer:
            for sample in samples:
                writer.write(sample)
        return time.perf_counter() - start
    finally:
        writer_module._checksum_chunk = original
        writer_module.zlib = zlib


def time_crc_alone(packed: list[bytes]) -> float:
    crc32 = zlib.crc32
    start = time.perf_counter()
    for blob in packed:
        crc32(blob)
    return time.perf_counter() - start


def time_read(path: Path, verify: bool) -> float:
    from dings.readers import MsgpackReader

    options = {"verify": True} if verify else {}
    start = time.perf_counter()
    with MsgpackReader(path, **options) as reader:
        for _ in reader.iter(0, raw=True, copy=False):
            pass
    return time.perf_counter() - start


def reader_verifies() -> bool:
    """Whether ``MsgpackReader`` takes ``verify=True`` (the readers' side of issue 20)."""
    from dings.readers import MsgpackReader

    return "verify" in inspect.signature(MsgpackReader.__init__).parameters


def run_workload(name: str, count: int, size: int, repeat: int, workdir: Path) -> dict:
    samples = make_samples(count, size)
    packed = [packb(s) for s in samples]
    out = workdir / f"{name}.msgpack"
    best: dict[str, float] = {}
    variants = {
        "write with checksums": lambda: time_write(samples, out, True),
        "write without checksums": lambda: time_write(samples, out, False),
        "crc32 alone": lambda: time_crc_alone(packed),
    }
    for round_number in range(repeat + 1):
        for label, run in variants.items():
            seconds = run()
            if round_number:  # round 0 warms up
                best[label] = min(best.get(label, seconds), seconds)
    time_write(samples, out, True)
    if reader_verifies():
        for round_number in range(repeat + 1):
            for label, verify in (("read", False), ("read verify=True", True)):
                seconds = time_read(out, verify)
                if round_number:
                    best[label] = min(best.get(label, seconds), seconds)
    result = {"workload": name, "samples": count, "size": size, "seconds": best}
    result["write overhead"] = best["write with checksums"] / best["write without checksums"] - 1
    if "read" in best:
        result["read overhead"] = best["read verify=True"] / best["read"] - 1
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=int, default=4000, help="number of 110 kB samples")
    parser.add_argument("--small", type=int, default=200000, help="number of 100 B samples")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(dir=args.dir))
    try:
        results = [
            run_workload("110kB", args.big, 110_000, args.repeat, workdir),
            run_workload("100B", args.small, 100, args.repeat, workdir),
        ]
    finally:
        shutil.rmtree(workdir)
    if args.json:
        print(json.dumps(results, indent=1))
        return
    for result in results:
        seconds = result["seconds"]
        print(f"{result['workload']}: {result['samples']} samples")
        for label, value in seconds.items():
            print(f"  {label:26s} {value:8.3f} s")
        print(
            f"  write overhead of checksums {result['write overhead']:+.1%} (target {'+5%' if result['size'] > 1000 else '+15%'})"
        )
        if "read overhead" in result:
            print(f"  read overhead of verify=True {result['read overhead']:+.1%}")
        else:
            print("  read with verify=True: MsgpackReader has no verify option yet (readers' side of issue 20)")


if __name__ == "__main__":
    main()
