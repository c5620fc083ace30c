"""DataLoader benchmark: dings.torch.IterableDataset versus datadings.torch.IterableDataset on the same files.

Datasets (built once in a temporary folder): ``--raw`` samples of ``--size`` random bytes
(``{"key", "data"}``; a second variant adds an int ``"label"``, which the DataLoader turns into a
tensor passed through shared memory), and ``--jpeg`` small JPEGs made with Pillow, decoded by each
library's ``CompressedToPIL`` and augmented by the same hand-written random resized crop + flip.
Each loader uses ``--workers`` workers, batch ``--batch`` and persistent workers; an epoch is timed
after a warm-up epoch, best of ``--repeat`` epochs, dings and datadings alternating. The
"DataLoader alone" row yields samples already in memory: the ceiling of the loader itself.
Ratios are dings speed / datadings speed. Run: ``hatch run bench-torch``.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import random
import shutil
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
    return torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).view(image.size[1], image.size[0], 3).permute(2, 0, 1)


def make_dataset(impl: str, path: Path, batch: int, jpeg: bool):
    if impl == "dings":
        transforms = {"image": Compose(CompressedToPIL(), random_resized_crop, random_flip, to_tensor)} if jpeg else None
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


def timed_epoch(loader: DataLoader) -> tuple[float, int]:
    gc.collect()
    start = time.perf_counter()
    count = 0
    for batch in loader:
        count += len(batch["key"])
    return time.perf_counter() - start, count


def compare(loaders: dict[str, DataLoader], repeat: int) -> dict[str, float]:
    """Samples/s of each loader: a warm-up epoch, then the best of ``repeat`` epochs, taking turns."""
    counts = {name: timed_epoch(loader)[1] for name, loader in loaders.items()}
    best = {name: float("inf") for name in loaders}
    for _ in range(repeat):
        for name, loader in loaders.items():
            seconds, count = timed_epoch(loader)
            if count != counts[name]:
                raise RuntimeError(f"{name}: {count} samples in an epoch, {counts[name]} in the warm-up")
            best[name] = min(best[name], seconds)
    return {name: counts[name] / best[name] for name in loaders}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=int, default=50000, help="samples of the raw-bytes datasets")
    parser.add_argument("--size", type=int, default=1000, help="bytes per raw sample")
    parser.add_argument("--jpeg", type=int, default=4000, help="samples of the JPEG dataset")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=5)
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
            loaders = {
                impl: DataLoader(make_dataset(impl, path, args.batch, jpeg), batch_size=args.batch, num_workers=args.workers, persistent_workers=True)
                for impl in impls
            }
            if not jpeg:
                with MsgpackReader(path) as reader:
                    samples, count = reader[: args.batch], len(reader)
                loaders["DataLoader alone"] = DataLoader(InMemory(samples, count), batch_size=args.batch, num_workers=args.workers, persistent_workers=True)
            speeds = compare(loaders, args.repeat)
            rows.append({"dataset": name, **speeds})
            del loaders
            path.unlink()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"DataLoader: {args.workers} workers, batch {args.batch}, persistent workers; samples/s, best of {args.repeat} epochs")
    print(f"{'dataset':24s} {'dings/s':>12s} {'datadings/s':>12s} {'ratio':>7s} {'loader alone/s':>15s}")
    for row in rows:
        theirs = row.get("datadings")
        ratio = f"{row['dings'] / theirs:6.2f}x" if theirs else "      -"
        alone = f"{row['DataLoader alone']:15,.0f}" if "DataLoader alone" in row else " " * 15
        print(f"{row['dataset']:24s} {row['dings']:12,.0f} {theirs or 0:12,.0f} {ratio} {alone}")


if __name__ == "__main__":
    main()
