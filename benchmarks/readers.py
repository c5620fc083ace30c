"""Read benchmark: dings.readers versus datadings 3.4.7 on the same files, next to the ceiling.

Datasets (built once in a temporary folder): 200000 samples of 100 bytes ("small"), 20000 samples
of 110 kB ("large"), and 1,000,000 tiny samples for the first key look-up. For each operation, in
one run: dings, datadings (if installed), and the ceiling: plain ``msgpack`` decoding from in-memory
bytes (sequential, and one ``unpackb`` per sample in the random order), the file read with large
plain reads (raw), or only the salted key hash every look-up over the key-hash index must compute
(``in``). Best of ``--repeat`` rounds after a warm-up; "ratio" is dings speed / datadings speed,
"of ceiling" dings speed / ceiling speed. Run: ``hatch run bench-readers``.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgpack

from dings.format import FileWriter
from dings.format import index as format_index
from dings.readers import MsgpackReader


def build(path: Path, count: int, size: int) -> Path:
    payload = os.urandom(size + count)
    with FileWriter(path, overwrite=True, progress=False) as writer:
        for i in range(count):
            writer.write({"key": f"{i:09d}", "data": payload[i : i + size]})
    return path


def best_of(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def ceiling_unpack(path: Path, order: list[int] | None = None) -> float:
    """Decode every sample from in-memory bytes with plain msgpack: the decode ceiling.

    Sequential (``order`` is None): the faster of one streaming ``Unpacker`` and one ``unpackb`` per
    sample. Random: one ``unpackb`` per sample in ``order``.
    """
    data = path.read_bytes()
    with MsgpackReader(path) as reader:
        offsets = list(reader.offsets)
    view = memoryview(data)
    times = []
    if order is None:
        unpacker = msgpack.Unpacker(raw=False, max_buffer_size=len(data) + 1)
        unpacker.feed(data)
        start = time.perf_counter()
        for _ in unpacker:
            pass
        times.append(time.perf_counter() - start)
        order = range(len(offsets) - 1)  # type: ignore[assignment]
    start = time.perf_counter()
    for i in order:  # type: ignore[union-attr]
        msgpack.unpackb(view[offsets[i] : offsets[i + 1]], raw=False)
    times.append(time.perf_counter() - start)
    return min(times)


def ceiling_hash(path: Path, keys: list[str]) -> float:
    """Only the salted blake2s hash of every key: the least a look-up over the key-hash index does."""
    salt, _ = format_index.load_key_hashes(path)
    template = hashlib.blake2s(salt=salt)
    start = time.perf_counter()
    for key in keys:
        hasher = template.copy()
        hasher.update(key.encode("utf-8"))
        hasher.digest()
    return time.perf_counter() - start


def ceiling_read(path: Path) -> float:
    """Read the data file with 8 MiB plain reads: the I/O ceiling (from the page cache)."""
    start = time.perf_counter()
    with open(path, "rb", buffering=0) as f:
        while f.read(8 << 20):
            pass
    return time.perf_counter() - start


def operations(path: Path, impl: str, order: list[int], probe_keys: list[str]):
    """Callables timing each operation with ``impl`` ("dings" or "datadings")."""
    if impl == "dings":
        open_reader = MsgpackReader
    else:
        from datadings.reader import MsgpackReader as open_reader  # type: ignore[no-redef]

    def sequential():
        with open_reader(path) as reader:
            for _ in reader.iter(0):
                pass

    def sequential_raw():
        with open_reader(path) as reader:
            for _ in reader.iter(0, raw=True, copy=False):
                pass

    def random_get():
        with open_reader(path) as reader:
            get = reader.get
            for i in order:
                get(i)

    def membership():
        with open_reader(path) as reader:
            for key in probe_keys:
                if key not in reader:
                    raise AssertionError(key)

    absent_keys = [key + "-absent" for key in probe_keys]

    def absent():
        with open_reader(path) as reader:
            for key in absent_keys:
                if key in reader:
                    raise AssertionError(key)

    ops = {
        "sequential decoded": sequential,
        "sequential raw (copy=False)": sequential_raw,
        "random get(i)": random_get,
        "key in reader": membership,
        "key in reader (absent keys)": absent,
    }
    try:
        from dings.readers import Shuffler  # noqa: F401  (augments may not exist yet)

        if impl == "dings":
            from dings.readers import Shuffler as shuffler
        else:
            from datadings.reader import Shuffler as shuffler  # type: ignore[no-redef]

        def shuffled_pass():
            with open_reader(path) as reader:
                for _ in shuffler(reader, seed=0):
                    pass

        ops["full Shuffler pass"] = shuffled_pass
    except ImportError:
        pass
    return ops


FIRST_LOOKUP = """
import sys, time, tracemalloc
impl, path, key = sys.argv[1:4]
if impl == "dings":
    from dings.readers import MsgpackReader
else:
    from datadings.reader import MsgpackReader
reader = MsgpackReader(path)
tracemalloc.start()
start = time.perf_counter()
reader.find_index(key)
seconds = time.perf_counter() - start
current, peak = tracemalloc.get_traced_memory()
print(seconds, current, peak)
"""


def open_first(path: Path, impl: str, repeat: int, opens: int = 500) -> float:
    """Seconds to open a reader, read its first sample and close it (best of ``repeat`` rounds)."""
    if impl == "dings":
        open_reader = MsgpackReader
    else:
        from datadings.reader import MsgpackReader as open_reader  # type: ignore[no-redef]

    def rounds():
        for _ in range(opens):
            with open_reader(path) as reader:
                reader.get(0)

    return best_of(rounds, repeat) / opens


def first_lookup(path: Path, impl: str, key: str, repeat: int) -> tuple[float, int]:
    """Time and memory kept by the first find_index, each in a fresh process."""
    results = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", FIRST_LOOKUP, impl, str(path), key], capture_output=True, text=True, check=True
        )
        seconds, current, _peak = out.stdout.split()
        results.append((float(seconds), int(current)))
    return min(r[0] for r in results), min(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=200000)
    parser.add_argument("--large", type=int, default=20000)
    parser.add_argument("--keys", type=int, default=1000000, help="samples of the key look-up dataset")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    try:
        import datadings  # noqa: F401

        impls = ["dings", "datadings"]
    except ImportError:
        impls = ["dings"]
    workdir = Path(tempfile.mkdtemp(prefix="dings-bench-readers-"))
    rows = []
    try:
        for name, count, size in (("small", args.small, 100), ("large", args.large, 110_000)):
            path = build(workdir / f"{name}.msgpack", count, size)
            order = list(range(count))
            random.Random(0).shuffle(order)
            probes = [f"{i:09d}" for i in order]
            per_impl = {impl: operations(path, impl, order, probes) for impl in impls}
            ops = per_impl["dings"]
            if name == "large":
                ops = {k: v for k, v in ops.items() if k.startswith("sequential")}
            for op in ops:
                row = {"dataset": name, "operation": op, "samples": count}
                for impl in impls:
                    if op in per_impl[impl]:
                        row[impl] = count / best_of(per_impl[impl][op], args.repeat)
                ceiling = {
                    "sequential decoded": (ceiling_unpack, path),
                    "sequential raw (copy=False)": (ceiling_read, path),
                    "random get(i)": (ceiling_unpack, path, order),
                    "key in reader": (ceiling_hash, path, probes),
                    "key in reader (absent keys)": (ceiling_hash, path, probes),
                }.get(op)
                if ceiling is not None:
                    measure, *measure_args = ceiling
                    row["ceiling"] = count / min(measure(*measure_args) for _ in range(args.repeat))
                rows.append(row)
            path.unlink()
        keys_path = build(workdir / "keys.msgpack", args.keys, 1)
        probe = f"{args.keys // 2:09d}"
        lookup = {impl: first_lookup(keys_path, impl, probe, args.repeat) for impl in impls}
        opened = {impl: open_first(keys_path, impl, args.repeat) for impl in impls}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps({"rows": rows, "first_lookup": lookup, "open_first_sample": opened}, indent=2))
        return
    print(
        f"{'dataset':8s} {'operation':30s} {'dings/s':>12s} {'datadings/s':>12s} {'ratio':>7s} {'ceiling/s':>12s} {'of ceiling':>10s}"
    )
    for row in rows:
        theirs = row.get("datadings")
        ratio = f"{row['dings'] / theirs:6.2f}x" if theirs else "      -"
        ceiling = f"{row['ceiling']:12,.0f} {row['dings'] / row['ceiling']:9.2f}x" if "ceiling" in row else ""
        print(
            f"{row['dataset']:8s} {row['operation']:30s} {row['dings']:12,.0f} {theirs or 0:12,.0f} {ratio} {ceiling}"
        )
    print(f"\nfirst find_index on {args.keys:,} keys (fresh process): time and memory kept")
    for impl, (seconds, memory) in lookup.items():
        print(f"  {impl:10s} {seconds * 1000:9.1f} ms {memory / 1e6:9.1f} MB")
    if "datadings" in lookup:
        (ours_t, ours_m), (theirs_t, theirs_m) = lookup["dings"], lookup["datadings"]
        print(f"  ratio: {theirs_t / ours_t:.2f}x faster, {theirs_m / max(ours_m, 1):.2f}x less memory")
    print("\nopen + get(0) + close")
    for impl, seconds in opened.items():
        print(f"  {impl:10s} {seconds * 1000:9.3f} ms")


if __name__ == "__main__":
    main()
