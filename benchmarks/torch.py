"""DataLoader benchmark: dings.torch.IterableDataset versus datadings.torch.IterableDataset on the same files.

Datasets (built once in a temporary folder): ``--raw`` samples of ``--size`` random bytes
(``{"key", "data"}``; a second variant adds an int ``"label"``, which the DataLoader turns into a
tensor passed through shared memory), and ``--jpeg`` small JPEGs made with Pillow, decoded by each
library's ``CompressedToPIL`` and augmented by the same hand-written random resized crop + flip.
Each loader uses ``--workers`` workers, batch ``--batch`` and persistent workers.

Timing: after a warm-up epoch of every loader, ``--rounds`` rounds each time one epoch of every
loader, in alternating order. On a small shared VM the speed of the whole machine drifts by ±30 %
within seconds, so the ratio is computed per round (loaders of one round ran within a second of
each other) and the median of those ratios is reported, with their range.

Two ceilings for the raw rows, measured in the same rounds: "loader alone" yields the same few
sample objects again and again (the DataLoader's own limit), and "fresh copies" yields every
sample of the file as a new object, unpickled at C speed from memory as large as the file: the
least work any reader of the file must do, since every sample it hands to the DataLoader is new. Ratios are dings speed /
datadings speed. Run: ``hatch run bench-torch``.
"""

from __future__ import annotations

import argparse
import gc
import io
import itertools
import json
import os
import pickle
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __name__ == "__main__" and sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # this file is named torch.py: do not let it shadow the torch package

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from torch.utils.data import DataLoader, get_worker_info  # noqa: E402

from dings.format import FileWriter  # noqa: E402
from dings.readers import MsgpackReader  # noqa: E402
from dings.torch import Compose, CompressedToPIL, IterableDataset  # noqa: E402
from dings.torch import DataLoader as DingsLoader  # noqa: E402

CROP = 64


def build_raw(path: Path, count: int, size: int, label: bool) -> Path:
    payload = os.urandom(size + count)
    with FileWriter(path, overwrite=True, progress=False) as writer:
        for i in range(count):
            sample = {"key": f"{i:09d}", "data": payload[i : i + size]}
            if label:
                sample["label"] = i % 1000
            writer.write(sample)
    return path


def build_jpeg(path: Path, count: int) -> Path:
    rng = np.random.default_rng(0)
    with FileWriter(path, overwrite=True, progress=False) as writer:
        for i in range(count):
            small = (rng.random((12, 16, 3)) * 255).astype(np.uint8)
            image = Image.fromarray(small).resize((160, 120), Image.BILINEAR)  # smooth, photo-like content
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=90)
            writer.write({"key": f"{i:09d}", "image": buffer.getvalue(), "label": i % 100})
    return path


def random_resized_crop(image: Image.Image, size: int = CROP, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)) -> Image.Image:
    """Crop a random area (fraction ``scale``, aspect ``ratio``) and resize it to ``size``², by hand."""
    width, height = image.size
    area = width * height
    for _ in range(10):
        target = area * random.uniform(*scale)
        aspect = np.exp(random.uniform(np.log(ratio[0]), np.log(ratio[1])))
        w = int(round((target * aspect) ** 0.5))
        h = int(round((target / aspect) ** 0.5))
        if 0 < w <= width and 0 < h <= height:
            left, top = random.randint(0, width - w), random.randint(0, height - h)
            return image.resize((size, size), Image.BILINEAR, box=(left, top, left + w, top + h))
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return image.resize((size, size), Image.BILINEAR, box=(left, top, left + side, top + side))


def random_flip(image: Image.Image) -> Image.Image:
    return image.transpose(Image.FLIP_LEFT_RIGHT) if random.random() < 0.5 else image


def to_tensor(image: Image.Image) -> torch.Tensor:
    return (
        torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
        .view(image.size[1], image.size[0], 3)
        .permute(2, 0, 1)
    )


def make_dataset(impl: str, path: Path, batch: int, jpeg: bool):
    if impl == "dings":
        transforms = (
            {"image": Compose(CompressedToPIL(), random_resized_crop, random_flip, to_tensor)} if jpeg else None
        )
        return IterableDataset(MsgpackReader(path), transforms=transforms, batch_size=batch)
    from datadings.reader import MsgpackReader as TheirReader
    from datadings.torch import Compose as TheirCompose
    from datadings.torch import CompressedToPIL as TheirToPIL
    from datadings.torch import IterableDataset as Theirs

    transforms = {"image": TheirCompose(TheirToPIL(), random_resized_crop, random_flip, to_tensor)} if jpeg else None
    return Theirs(TheirReader(path), transforms=transforms, batch_size=batch)


class InMemory(torch.utils.data.IterableDataset):
    """Yields ``count`` copies of a few samples held in memory: the DataLoader's own ceiling."""

    def __init__(self, samples: list, count: int) -> None:
        self.samples, self.count = samples, count

    def __iter__(self):
        info = get_worker_info()
        workers, worker = (1, 0) if info is None else (info.num_workers, info.id)
        samples = self.samples
        for i in range(worker, self.count, workers):
            yield samples[i % len(samples)]


class FreshCopies(torch.utils.data.IterableDataset):
    """Every sample of the file as a new object (a new dict with new bytes), made at C speed by
    unpickling batch-sized pickles that together take as much memory as the file: the least work
    any reader of the file must do, since each sample it hands to the DataLoader is a new object
    built from bytes that are not in the CPU cache."""

    def __init__(self, samples: list, batch: int) -> None:
        self.pickles = [pickle.dumps(samples[i : i + batch]) for i in range(0, len(samples), batch)]

    def __iter__(self):
        info = get_worker_info()
        workers, worker = (1, 0) if info is None else (info.num_workers, info.id)
        return itertools.chain.from_iterable(map(pickle.loads, self.pickles[worker::workers]))


#: the loaders every dataset is timed with: torch's own, and dings.torch's (a larger result pipe)
LOADERS = {"torch DataLoader": DataLoader, "dings.torch.DataLoader": DingsLoader}


def timed_epoch(loader: DataLoader) -> tuple[float, int]:
    gc.collect()
    start = time.perf_counter()
    count = 0
    for batch in loader:
        count += len(batch["key"])
    return time.perf_counter() - start, count


def compare(loaders: dict, rounds: int) -> dict:
    """Samples/s of each loader in each round: a warm-up epoch, then ``rounds`` rounds of one epoch
    per loader, the order alternating between rounds."""
    counts = {name: timed_epoch(loader)[1] for name, loader in loaders.items()}
    speeds: dict[str, list[float]] = {name: [] for name in loaders}
    names = list(loaders)
    for turn in range(rounds):
        for name in names if turn % 2 == 0 else names[::-1]:
            seconds, count = timed_epoch(loaders[name])
            if count != counts[name]:
                raise RuntimeError(f"{name}: {count} samples in an epoch, {counts[name]} in the warm-up")
            speeds[name].append(count / seconds)
    return speeds


def ratio(speeds: dict, name, reference) -> tuple[float, float, float]:
    """Median, lowest and highest of the per-round ratios ``name`` / ``reference``."""
    ratios = [a / b for a, b in zip(speeds[name], speeds[reference])]
    return statistics.median(ratios), min(ratios), max(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=int, default=100000, help="samples of the raw-bytes datasets")
    parser.add_argument("--size", type=int, default=1000, help="bytes per raw sample")
    parser.add_argument("--jpeg", type=int, default=4000, help="samples of the JPEG dataset")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=10, help="timed epochs per loader")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    try:
        import datadings  # noqa: F401

        impls = ["dings", "datadings"]
    except ImportError:
        impls = ["dings"]
    workdir = Path(tempfile.mkdtemp(prefix="dings-bench-torch-"))
    rows = []
    try:
        cases = [
            ("raw bytes", lambda p: build_raw(p, args.raw, args.size, label=False), False),
            ("raw bytes + label", lambda p: build_raw(p, args.raw, args.size, label=True), False),
            ("JPEG decode+crop+flip", lambda p: build_jpeg(p, args.jpeg), True),
        ]
        for name, build, jpeg in cases:
            path = build(workdir / f"{name.split()[0]}-{len(rows)}.msgpack")
            datasets = {impl: make_dataset(impl, path, args.batch, jpeg) for impl in impls}
            if not jpeg:
                with MsgpackReader(path) as reader:
                    samples = reader[:]
                datasets["loader alone"] = InMemory(samples[: args.batch], len(samples))
                datasets["fresh copies"] = FreshCopies(samples, args.batch)
                del samples
            loaders = {
                (loader_name, dataset_name): loader_class(
                    dataset, batch_size=args.batch, num_workers=args.workers, persistent_workers=True
                )
                for loader_name, loader_class in LOADERS.items()
                for dataset_name, dataset in datasets.items()
            }
            speeds = compare(loaders, args.rounds)
            for loader_name in LOADERS:
                mine = {dataset_name: speeds[(loader_name, dataset_name)] for dataset_name in datasets}
                row = {"dataset": name, "loader": loader_name, **{k: statistics.median(v) for k, v in mine.items()}}
                if "datadings" in mine:
                    row["ratio"] = ratio(mine, "dings", "datadings")
                if "fresh copies" in mine:
                    row["dings / fresh copies"] = ratio(mine, "dings", "fresh copies")[0]
                    if "datadings" in mine:
                        row["fresh copies ratio"] = ratio(mine, "fresh copies", "datadings")
                rows.append(row)
            if "datadings" in datasets:
                theirs = speeds[("torch DataLoader", "datadings")]
                rows[-1]["as shipped"] = ratio(
                    {"a": speeds[("dings.torch.DataLoader", "dings")], "b": theirs}, "a", "b"
                )
            del loaders
            path.unlink()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(
        f"DataLoader: {args.workers} workers, batch {args.batch}, persistent workers; median samples/s of {args.rounds} "
        "rounds; ratio = median of per-round dings/datadings (lowest–highest)"
    )
    header = f"{'dataset':22s} {'loader':23s} {'dings/s':>10s} {'datadings/s':>11s} {'ratio':>18s}"
    print(header + f" {'fresh copies/s':>15s} {'ratio':>18s} {'dings/fresh':>11s} {'alone/s':>10s}")
    for row in rows:
        cells = [
            f"{row['dataset']:22s}",
            f"{row['loader']:23s}",
            f"{row['dings']:10,.0f}",
            f"{row.get('datadings', 0):11,.0f}",
        ]
        cells.append(_ratio_cell(row.get("ratio")))
        if "fresh copies" in row:
            cells += [f"{row['fresh copies']:15,.0f}", _ratio_cell(row.get("fresh copies ratio"))]
            cells += [f"{row['dings / fresh copies']:11.2f}", f"{row['loader alone']:10,.0f}"]
        print(" ".join(cells))
    for row in rows:
        if "as shipped" in row:
            print(
                f"{row['dataset']}, as shipped (dings with dings.torch.DataLoader / datadings with torch's): {_ratio_cell(row['as shipped'])}"
            )


def _ratio_cell(value: tuple[float, float, float] | None) -> str:
    if value is None:
        return f"{'-':>18s}"
    median, low, high = value
    return f"{median:5.2f}x ({low:.2f}–{high:.2f})"


if __name__ == "__main__":
    main()
