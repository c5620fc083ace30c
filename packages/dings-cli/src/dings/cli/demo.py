"""``dings demo``: write a built-in dataset, verify it, read it back, and report speeds."""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

__all__ = ["add_arguments", "run", "demo_samples"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the demo's options to its subparser."""
    parser.add_argument("-n", "--samples", type=int, default=20000, help="number of samples (default 20000)")
    parser.add_argument("-o", "--outdir", type=Path, default=None, help="keep the dataset here (default: a temporary folder)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the synthetic samples")


def demo_samples(count: int, seed: int = 0):
    """Yield ``count`` synthetic image-classification samples: a 32x32 RGB uint8 array and a label.

    Args:
        count: number of samples.
        seed: random seed; the same seed gives the same samples.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    labels = ["cat", "dog", "ship", "truck", "bird"]
    for i in range(count):
        label = int(rng.integers(len(labels)))
        yield {
            "key": f"demo/{labels[label]}/{i:06d}",
            "image": rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8),
            "label": label,
            "label_name": labels[label],
        }


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f} samples/s" if seconds > 0 else "instant"


def run(args: argparse.Namespace) -> int:
    """Write, verify and read back the demo dataset; print each step with its speed."""
    from dings.format import FileWriter, verify
    from dings.readers import MsgpackReader

    if args.samples < 1:
        raise ValueError(f"--samples must be at least 1, got {args.samples}")
    tmp = None
    if args.outdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="dings-demo-")
        outdir = Path(tmp.name)
    else:
        outdir = args.outdir
    path = outdir / "demo.msgpack"
    try:
        samples = list(demo_samples(args.samples, args.seed))
        start = time.perf_counter()
        with FileWriter(path, overwrite=True, progress=not args.quiet) as writer:
            for sample in samples:
                writer.write(sample)
        seconds = time.perf_counter() - start
        size = path.stat().st_size
        print(f"wrote   {len(samples):,} samples ({size / 1e6:.1f} MB) to {path} in {seconds:.2f} s, "
              f"{_rate(len(samples), seconds)}, {size / seconds / 1e6:,.0f} MB/s")
        print(f"        files: {', '.join(sorted(p.name for p in outdir.glob('demo.msgpack*')))}")

        start = time.perf_counter()
        report = verify(path)
        print(f"verify  {'OK' if report.ok else 'FAILED'} ({', '.join(report.checked)}) in {time.perf_counter() - start:.2f} s")
        if not report.ok:
            print(report)
            return 1

        with MsgpackReader(path) as reader:
            start = time.perf_counter()
            count = 0
            for expected, sample in zip(samples, reader):
                if sample["key"] != expected["key"] or not (sample["image"] == expected["image"]).all():
                    raise ValueError(f"{path}: sample {count} ({expected['key']}) differs after reading back")
                count += 1
            seconds = time.perf_counter() - start
            if count != len(samples):
                raise ValueError(f"{path}: read {count} samples, wrote {len(samples)}")
            print(f"read    {count:,} samples in order, all equal to what was written, in {seconds:.2f} s, {_rate(count, seconds)}")

            order = list(range(len(reader)))
            random.Random(args.seed).shuffle(order)
            start = time.perf_counter()
            for index in order:
                reader.get(index)
            seconds = time.perf_counter() - start
            print(f"random  {len(order):,} samples in shuffled order in {seconds:.2f} s, {_rate(len(order), seconds)}")

            probes = [s["key"] for s in random.Random(args.seed + 1).sample(samples, min(1000, len(samples)))]
            start = time.perf_counter()
            found = sum(reader.find_index(key) >= 0 for key in probes)
            missing = sum(f"absent/{i}" in reader for i in range(1000))
            seconds = time.perf_counter() - start
            print(f"lookup  {found} of {len(probes)} keys found, {missing} of 1000 absent keys reported present, "
                  f"in {seconds * 1000:.1f} ms (Bloom filter + key hashes)")
        return 0
    finally:
        if tmp is not None:
            tmp.cleanup()
