"""Scale-out benchmark: ``dings import`` of small JPEGs locally (threads) versus in partitions on Ray.

Workload: ``--count`` (default 20,000) synthetic 64×64 JPEGs (seeded) in an ImageFolder tree of 10
class folders, in a temporary folder (written first, so every variant reads from the page cache).

Variants (every one writes the same samples):

- ``local``:          ``import_source`` with ``--threads`` threads (the unchanged default path);
- ``partitions``:     ``import_partitioned(engine="local")``: the partitioned layout, one process;
- ``ray P``:          ``import_partitioned(engine="ray")`` on a local Ray instance with ``--cpus``
                      CPUs, partitions of P files (``--partitions``, default 1000 and 5000).

Ray's start-up and its first job (worker processes start and import dings) are timed on their
own (the instance is started once and reused). The per-task
overhead is measured with ``--tasks`` (default 200) partitions of one tiny sample each: the wall
time per task on Ray × CPUs (what one task costs a core) against the same partitions written in one
process (what writing, syncing and committing a partition costs without Ray).

Run: ``hatch run bench-scale [--count N] [--threads T] [--cpus C] [--json]``.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CLASSES = 10


def jpeg(rng: np.random.Generator, size: int) -> bytes:
    """A small JPEG of random blocks (so it does not compress to nothing)."""
    from PIL import Image

    blocks = rng.integers(0, 256, size=(size // 8, size // 8, 3), dtype=np.uint8)
    pixels = np.kron(blocks, np.ones((8, 8, 1), dtype=np.uint8))
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=85)
    return out.getvalue()


def make_tree(root: Path, count: int, size: int, seed: int = 0) -> int:
    """``count`` JPEGs in ``root/class_k/…``; returns their total bytes."""
    rng = np.random.default_rng(seed)
    total = 0
    for i in range(count):
        folder = root / f"class_{i % CLASSES}"
        folder.mkdir(parents=True, exist_ok=True)
        data = jpeg(rng, size)
        (folder / f"{i:06d}.jpg").write_bytes(data)
        total += len(data)
    return total


def tiny(payload: list[int]):
    """One tiny sample per number: for the per-task overhead."""
    for i in payload:
        yield {"key": f"t{i:06d}", "label": i}


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000, help="JPEGs to import (default %(default)s)")
    parser.add_argument("--size", type=int, default=64, help="image side in pixels (default %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="threads of the local import (default %(default)s)")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray instance (default %(default)s)")
    parser.add_argument(
        "--partitions", type=int, nargs="+", default=[1000, 5000], help="files per partition on Ray (default 1000 5000)"
    )
    parser.add_argument(
        "--tasks", type=int, default=200, help="tiny partitions for the per-task overhead (default %(default)s)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()

    import ray

    from dings.tools import import_partitioned, import_source, write_partitioned

    work = Path(tempfile.mkdtemp(prefix="dings-bench-scale-"))
    rows: list[tuple[str, float, str]] = []
    try:
        seconds, image_bytes = timed(lambda: make_tree(work / "photos", args.count, args.size))
        print(
            f"inputs: {args.count:,} JPEGs of {args.size}x{args.size} ({image_bytes / 1e6:.1f} MB) in {seconds:.1f} s",
            file=sys.stderr,
        )
        source = work / "photos"

        def rate(name: str, seconds: float, note: str = "") -> None:
            rows.append((name, seconds, note))
            print(
                f"{name:<22} {seconds:7.2f} s  {args.count / seconds:9,.0f} samples/s  {image_bytes / seconds / 1e6:7.1f} MB/s  {note}",
                file=sys.stderr,
            )

        seconds, _ = timed(
            lambda: import_source(
                source, work / "local.msgpack", threads=args.threads, shard_size=10_000, progress=False
            )
        )
        rate("local", seconds, f"{args.threads} threads, one process")
        seconds, _ = timed(
            lambda: import_partitioned(source, work / "parts", "folder", engine="local", partition_size=1000)
        )
        rate("partitions (local)", seconds, "1 process, partitions of 1000")

        startup, _ = timed(
            lambda: ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)
        )
        # the first job also starts the worker processes and imports dings in them: timed on its own
        warm, _ = timed(
            lambda: write_partitioned([[i] for i in range(2 * args.cpus)], tiny, work / "warm", engine="ray")
        )
        print(f"ray start-up: {startup:.2f} s, first job (workers start, import dings): {warm:.2f} s", file=sys.stderr)
        for size in args.partitions:
            out = work / f"ray{size}"
            seconds, _ = timed(
                lambda out=out, size=size: import_partitioned(source, out, "folder", engine="ray", partition_size=size)
            )
            rate(f"ray, partitions {size}", seconds, f"{args.cpus} CPUs, {-(-args.count // size)} tasks")
            shutil.rmtree(out, ignore_errors=True)

        parts = [[i] for i in range(args.tasks)]
        on_ray, _ = timed(lambda: write_partitioned(parts, tiny, work / "tiny-ray", engine="ray"))
        local, _ = timed(lambda: write_partitioned(parts, tiny, work / "tiny-local", engine="local"))
        overhead = {
            "tasks": args.tasks,
            "ray_seconds": on_ray,
            "local_seconds": local,
            "ray_core_ms_per_task": 1000 * on_ray * args.cpus / args.tasks,
            "local_ms_per_partition": 1000 * local / args.tasks,
        }
        print(
            f"per task: ray {overhead['ray_core_ms_per_task']:.1f} core-ms, local {overhead['local_ms_per_partition']:.1f} ms per partition",
            file=sys.stderr,
        )
        ray.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if args.json:
        print(
            json.dumps(
                {
                    "count": args.count,
                    "image_bytes": image_bytes,
                    "ray_startup_s": startup,
                    "ray_first_job_s": warm,
                    "variants": [
                        {"name": n, "seconds": s, "samples_per_s": args.count / s, "note": t} for n, s, t in rows
                    ],
                    "overhead": overhead,
                },
                indent=2,
            )
        )
        return
    base = rows[0][1]
    print(f"\n{args.count:,} JPEGs of {args.size}x{args.size}, {image_bytes / 1e6:.1f} MB\n")
    print("| variant | seconds | samples/s | MB/s | vs local | note |\n|---|---:|---:|---:|---:|---|")
    for name, seconds, note in rows:
        print(
            f"| {name} | {seconds:.2f} | {args.count / seconds:,.0f} | {image_bytes / seconds / 1e6:.1f} | {base / seconds:.2f}x | {note} |"
        )
    print(
        f"\nRay start-up {startup:.2f} s and first job {warm:.2f} s (not in the rows). Per-task overhead over {args.tasks} one-sample partitions: "
        f"Ray {overhead['ray_core_ms_per_task']:.1f} core-ms per task, in one process {overhead['local_ms_per_partition']:.1f} ms per partition."
    )


if __name__ == "__main__":
    main()
