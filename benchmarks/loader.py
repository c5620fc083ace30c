"""Batches into a training loop: dings.torch.Loader side by side with the other loaders, in one run.

Rows (the datasets of ``../shared/bench/peers.py`` and ``jpeg_pipeline.py``, same seeds and sizes):

  small   50k × {key, 100 B bytes, int label}
  array   10k × {key, float32 64×64×3 array, int label}
  bytes   10k × {key, 110 kB raw image bytes, int label}
  jpeg    3k JPEGs 400×300 (quality 90) → random resized crop 112² + flip → uint8 batch + labels

Loaders, each with ``--threads`` threads or workers and batch ``--batch-size``:

  Loader      dings.torch.Loader (threads; JPEG: DecodeRandomResizedCrop)
  DataLoader  dings.torch.IterableDataset + dings.torch.DataLoader (worker processes)
  datadings   datadings.torch.IterableDataset + torch's DataLoader (n/a if datadings is missing)
  ffcv        FFCV's Loader over a .beton of the same samples (n/a if ffcv is missing)

The raw rows hand over samples as peers.py does (lists of sample dicts from the DataLoaders, FFCV's
decoded arrays, the Loader's batch dict); the JPEG row builds a uint8 batch in every loader. The
JPEG row also measures decode ceilings: the per-image work in one thread, back to back over
in-memory bytes, times ``--threads`` ("Pillow" is jpeg_pipeline.py's full decode + crop + flip,
"reduced" is DecodeRandomResizedCrop), and the machine's measured ceiling "reduced, N threads":
DecodeRandomResizedCrop on ``--threads`` threads at once over in-memory bytes (no reading, no
batching; below the times-N figure when cores do not scale perfectly).

Timing: a warm-up epoch of every loader, then ``--rounds`` rounds in alternating order, each
running every loader for whole epochs until ``--min-time`` seconds passed; ratios are taken
within each round (the machine's speed drifts) and reported as median (min–max). Peak RSS
growth: the most anonymous resident memory (``RssAnon``; the page cache of memory-mapped files is
not counted) the process held during the Loader's first epoch above what it held before (its
threads, buffers and batches in flight), in MB and in batches of output.

Run: ``hatch run bench-loader`` (add ``--scale 0.2`` for a quick look). With FFCV, run it with the
peers venv (``../shared/bench/setup-peers.sh``) and this checkout first on the path::

    PYTHONPATH=$(ls -d packages/*/src | tr '\\n' :) /tmp/dings-peers/venv/bin/python benchmarks/loader.py
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import io
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

if __name__ == "__main__" and sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # do not let benchmarks/torch.py shadow the torch package

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.utils.data as tud  # noqa: E402
from PIL import Image  # noqa: E402

from dings.format import FileWriter  # noqa: E402
from dings.readers import MsgpackReader  # noqa: E402
from dings.torch import Compose, CompressedToPIL, DataLoader, DecodeRandomResizedCrop, IterableDataset, Loader  # noqa: E402

CROP = 112
FFCV_LIBS = (
    "libquadmath.so.0",
    "libgfortran.so.5",
    "blas/libblas.so.3",
    "lapack/liblapack.so.3",
    "libgomp.so.1",
    "libtbb.so.12",
    "libopencv_core.so.406",
    "libopencv_imgproc.so.406",
    "libturbojpeg.so.0",
)


# --- data (as peers.py's Data and jpeg_pipeline.py's make_jpegs) ---


def raw_samples(kind: str, n: int):
    rng = np.random.default_rng(0)
    field, payload = {
        "bytes": ("image", lambda: rng.bytes(110000)),
        "small": ("data", lambda: rng.bytes(100)),
        "array": ("arr", lambda: rng.random((64, 64, 3), dtype=np.float32)),
    }[kind]
    value = payload()
    return field, value, [{"key": f"n{i:08d}.JPEG", field: value, "label": i % 1000} for i in range(n)]


def make_jpegs(n: int, w: int = 400, h: int = 300, seed: int = 0) -> list[bytes]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        small = (rng.random((h // 25, w // 25, 3)) * 255).astype(np.uint8)
        img = Image.fromarray(small).resize((w, h), Image.BICUBIC)
        noise = rng.integers(0, 12, (h, w, 3), dtype=np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(np.asarray(img) + noise).save(buffer, "JPEG", quality=90)
        out.append(buffer.getvalue())
    return out


# --- the hand-written pipeline of jpeg_pipeline.py (for the DataLoaders and the Pillow ceiling) ---


def rrc(image, size=CROP, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)):
    width, height = image.size
    area = width * height
    for _ in range(10):
        target = area * random.uniform(*scale)
        aspect = np.exp(random.uniform(np.log(ratio[0]), np.log(ratio[1])))
        w, h = int(round((target * aspect) ** 0.5)), int(round((target / aspect) ** 0.5))
        if 0 < w <= width and 0 < h <= height:
            left, top = random.randint(0, width - w), random.randint(0, height - h)
            return image.resize((size, size), Image.BILINEAR, box=(left, top, left + w, top + h))
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return image.resize((size, size), Image.BILINEAR, box=(left, top, left + side, top + side))


def flip(image):
    return image.transpose(Image.FLIP_LEFT_RIGHT) if random.random() < 0.5 else image


def to_array(image):
    return np.asarray(image)


def collate_images(batch):
    return torch.from_numpy(np.stack([s["image"] for s in batch])), torch.tensor([s["label"] for s in batch])


def collate_list(batch):
    return batch


# --- loaders ---


def count(batch) -> int:
    if isinstance(batch, dict):
        return len(batch["label"])
    if isinstance(batch, tuple):
        return len(batch[-1]) if len(batch) == 2 else len(batch[0])
    return len(batch)


def epoch(loader, min_time: float = 0.0) -> tuple[float, int]:
    """Samples/s of whole epochs, repeated until ``min_time`` seconds passed (short epochs are noisy)."""
    start = time.perf_counter()
    n = 0
    while True:
        for batch in loader:
            n += count(batch)
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return n / elapsed, n


def torch_loader(dataset, args, collate):
    return DataLoader(
        dataset,
        batch_size=args.batch_size,
        num_workers=args.threads,
        collate_fn=collate,
        persistent_workers=True,
        multiprocessing_context="fork",
    )


def make_loaders(kind: str, path: Path, beton: Path | None, args) -> dict:
    loaders = {}
    jpeg = kind == "jpeg"
    if jpeg:
        loaders["Loader"] = Loader(
            MsgpackReader(path),
            args.batch_size,
            threads=args.threads,
            keys=("image", "label"),
            tuples=True,
            transforms={"image": DecodeRandomResizedCrop(CROP)},
        )
        transforms = {"image": Compose(CompressedToPIL(), rrc, flip, to_array)}
        loaders["DataLoader"] = torch_loader(
            IterableDataset(MsgpackReader(path), transforms=transforms, batch_size=args.batch_size),
            args,
            collate_images,
        )
    else:
        loaders["Loader"] = Loader(MsgpackReader(path), args.batch_size, threads=args.threads)
        loaders["DataLoader"] = torch_loader(
            IterableDataset(MsgpackReader(path), batch_size=args.batch_size), args, collate_list
        )
    try:
        from datadings.reader import MsgpackReader as DDReader
        from datadings.torch import Compose as DDCompose
        from datadings.torch import CompressedToPIL as DDToPIL
        from datadings.torch import IterableDataset as DDIterable

        if jpeg:
            transforms = {"image": DDCompose(DDToPIL(), rrc, flip, to_array)}
            dataset = DDIterable(DDReader(str(path)), transforms=transforms, batch_size=args.batch_size)
            loaders["datadings"] = tud.DataLoader(
                dataset,
                batch_size=args.batch_size,
                num_workers=args.threads,
                collate_fn=collate_images,
                persistent_workers=True,
                multiprocessing_context="fork",
            )
        else:
            dataset = DDIterable(DDReader(str(path)), batch_size=args.batch_size)
            loaders["datadings"] = tud.DataLoader(
                dataset,
                batch_size=args.batch_size,
                num_workers=args.threads,
                collate_fn=collate_list,
                persistent_workers=True,
                multiprocessing_context="fork",
            )
    except ImportError:
        pass
    if beton is not None:
        loaders["ffcv"] = ffcv_loader(kind, beton, args)
    return loaders


# --- FFCV (optional) ---


def ffcv_available(libdir: str) -> bool:
    for name in FFCV_LIBS:
        lib = os.path.join(libdir, name)
        if os.path.exists(lib):
            try:
                ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)
            except OSError:
                pass
    try:
        import ffcv.loader  # noqa: F401
    except Exception:  # noqa: BLE001 - missing, or its native libraries are
        return False
    return True


def write_ffcv(kind: str, path: Path, field: str | None, samples, jpegs) -> Path:
    from ffcv.fields import BytesField, IntField, NDArrayField, RGBImageField
    from ffcv.writer import DatasetWriter

    if kind == "jpeg":
        fields = {"image": RGBImageField(write_mode="jpg", jpeg_quality=90), "label": IntField()}

        class Source:
            def __len__(self):
                return len(jpegs)

            def __getitem__(self, i):
                return Image.open(io.BytesIO(jpegs[i])).convert("RGB"), i % 1000
    else:
        fields = {"key": BytesField(), "label": IntField()}
        fields[field] = NDArrayField(dtype=np.dtype("float32"), shape=(64, 64, 3)) if kind == "array" else BytesField()
        keys = [np.frombuffer(s["key"].encode(), dtype=np.uint8) for s in samples]
        payload = samples[0][field] if kind == "array" else np.frombuffer(samples[0][field], np.uint8)

        class Source:
            def __len__(self):
                return len(samples)

            def __getitem__(self, i):
                return keys[i], samples[i]["label"], payload

    writer = DatasetWriter(str(path), fields, num_workers=1)
    with open(os.devnull, "w") as devnull:
        err, sys.stderr = sys.stderr, devnull
        try:
            writer.from_indexed_dataset(Source())
        finally:
            sys.stderr = err
    return path


def ffcv_loader(kind: str, path: Path, args):
    from ffcv.fields.bytes import BytesDecoder
    from ffcv.fields.decoders import IntDecoder, NDArrayDecoder, RandomResizedCropRGBImageDecoder
    from ffcv.loader import Loader as FFCVLoader
    from ffcv.loader import OrderOption
    from ffcv.transforms import RandomHorizontalFlip, ToTensor

    if kind == "jpeg":
        pipelines = {
            "image": [RandomResizedCropRGBImageDecoder((CROP, CROP)), RandomHorizontalFlip(), ToTensor()],
            "label": [IntDecoder(), ToTensor()],
        }
    else:
        field = {"small": "data", "array": "arr", "bytes": "image"}[kind]
        pipelines = {
            "key": [BytesDecoder()],
            "label": [IntDecoder()],
            field: [NDArrayDecoder() if kind == "array" else BytesDecoder()],
        }
    return FFCVLoader(
        str(path),
        batch_size=args.batch_size,
        num_workers=args.threads,
        order=OrderOption.SEQUENTIAL,
        drop_last=False,
        os_cache=True,
        pipelines=pipelines,
    )


# --- ceilings and memory ---


class Ceiling:
    """The per-image work in one thread, back to back over in-memory bytes, times ``threads``."""

    def __init__(self, jpegs: list[bytes], transform, threads: int) -> None:
        self.jpegs, self.transform, self.threads = jpegs, transform, threads

    def __iter__(self):
        for data in self.jpegs:
            self.transform(data)
        yield [None] * len(self.jpegs)  # one "batch" of all images

    def scale(self, speed: float) -> float:
        return speed * self.threads


class ThreadedCeiling(Ceiling):
    """The per-image work on ``threads`` threads at once, each over its share of in-memory bytes."""

    def __iter__(self):
        from concurrent.futures import ThreadPoolExecutor

        def work(part: list[bytes]) -> None:
            for data in part:
                self.transform(data)

        parts = [self.jpegs[i :: self.threads] for i in range(self.threads)]
        with ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(work, parts))
        yield [None] * len(self.jpegs)

    def scale(self, speed: float) -> float:
        return speed


def rss() -> int:
    """Anonymous resident memory (file pages of memory-mapped datasets are page cache, not counted)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    return 0


class PeakRSS:
    """Samples the resident set size every few milliseconds while active."""

    def __enter__(self):
        self.base = self.peak = rss()
        self.running = True
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()
        return self

    def _watch(self):
        while self.running:
            self.peak = max(self.peak, rss())
            time.sleep(0.002)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()


def batch_bytes(loader: Loader) -> int:
    batch = next(iter(loader))
    values = batch if isinstance(batch, tuple) else batch.values()
    total = 0
    for value in values:
        if isinstance(value, torch.Tensor):
            total += value.numel() * value.element_size()
        elif hasattr(value, "data"):
            total += value.data.nbytes + value.offsets.nbytes
    return total


# --- the run ---


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def run_row(kind: str, args, root: Path, use_ffcv: bool) -> list[str]:
    n = max(1, int({"small": 50000, "array": 10000, "bytes": 10000, "jpeg": 3000}[kind] * args.scale))
    path = root / f"{kind}.msgpack"
    jpegs = None
    field = None
    samples = None
    if kind == "jpeg":
        jpegs = make_jpegs(n)
        samples = [{"key": f"{i:08d}", "image": b, "label": i % 1000} for i, b in enumerate(jpegs)]
    else:
        field, _, samples = raw_samples(kind, n)
    with FileWriter(path, overwrite=True, progress=False) as writer:
        for sample in samples:
            writer.write(sample)
    beton = write_ffcv(kind, root / f"{kind}.beton", field, samples, jpegs) if use_ffcv else None
    del samples
    gc.collect()
    loaders = make_loaders(kind, path, beton, args)
    if kind == "jpeg":
        loaders["ceiling: Pillow"] = Ceiling(
            jpegs[:500], lambda b: to_array(flip(rrc(Image.open(io.BytesIO(b)).convert("RGB")))), args.threads
        )
        loaders["ceiling: reduced"] = Ceiling(jpegs[:500], DecodeRandomResizedCrop(CROP), args.threads)
        loaders[f"ceiling: reduced, {args.threads} threads"] = ThreadedCeiling(
            jpegs[:1000], DecodeRandomResizedCrop(CROP), args.threads
        )
    gc.collect()
    with PeakRSS() as memory:  # the Loader's first epoch: what its buffers and threads add
        epoch(loaders["Loader"])
    growth = memory.peak - memory.base
    for name, loader in loaders.items():
        if name != "Loader":
            epoch(loader)  # warm-up: workers, JIT, page cache
    speeds: dict[str, list[float]] = {name: [] for name in loaders}
    for round_ in range(args.rounds):
        names = list(loaders) if round_ % 2 == 0 else list(reversed(loaders))
        for name in names:
            loader = loaders[name]
            speed, _ = epoch(loader, args.min_time)
            speeds[name].append(loader.scale(speed) if isinstance(loader, Ceiling) else speed)
        print(
            f"  {kind} round {round_ + 1}: " + ", ".join(f"{k} {v[-1]:,.0f}/s" for k, v in speeds.items()),
            file=sys.stderr,
            flush=True,
        )
    per_batch = batch_bytes(loaders["Loader"])
    cells = []
    for name in ("Loader", "DataLoader", "datadings", "ffcv"):
        if name not in speeds:
            cells.append("n/a")
            continue
        text = f"{statistics.median(speeds[name]):,.0f}/s"
        if "datadings" in speeds and name != "datadings":
            text += f" ({spread([a / b for a, b in zip(speeds[name], speeds['datadings'])])}x dd)"
        cells.append(text)
    versus = []
    if "ffcv" in speeds:
        versus.append(f"{spread([a / b for a, b in zip(speeds['Loader'], speeds['ffcv'])])}x FFCV")
    for name in ("ceiling: Pillow", "ceiling: reduced", f"ceiling: reduced, {args.threads} threads"):
        if name in speeds:
            versus.append(
                f"{spread([a / b for a, b in zip(speeds['Loader'], speeds[name])])} of {name} ({statistics.median(speeds[name]):,.0f}/s)"
            )
    memory_cell = f"+{growth / 1e6:.0f} MB = {growth / per_batch:.1f} batches"
    for loader in loaders.values():
        iterator = getattr(loader, "_iterator", None)
        if iterator is not None:
            iterator._shutdown_workers()
    return [kind, f"{n:,}", *cells, "; ".join(versus) or "n/a", memory_cell]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="small,array,bytes,jpeg", help="comma-separated: small, array, bytes, jpeg")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every dataset's size by this")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="threads or workers of every loader")
    parser.add_argument(
        "--min-time", type=float, default=1.0, help="seconds per loader and round (whole epochs, repeated)"
    )
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument(
        "--peers-dir",
        default=os.environ.get("PEERS_DIR", "/tmp/dings-peers"),
        help="where setup-peers.sh put FFCV's libraries",
    )
    parser.add_argument("--no-ffcv", action="store_true", help="leave FFCV out even if it is installed")
    args = parser.parse_args()
    use_ffcv = not args.no_ffcv and ffcv_available(os.path.join(args.peers_dir, "ffcv/root/usr/lib/x86_64-linux-gnu"))
    root = Path(tempfile.mkdtemp(prefix="dings-bench-loader-"))
    rows = []
    try:
        for kind in args.rows.split(","):
            rows.append(run_row(kind.strip(), args, root, use_ffcv))
            gc.collect()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"\n{args.threads} threads/workers, batch {args.batch_size}, {args.rounds} rounds; median samples/s "
        f"(ratio to datadings per round: median (min–max)); {os.cpu_count()} cores\n"
    )
    print(
        "| data | samples | dings.torch.Loader | dings.torch.DataLoader | datadings + torch DataLoader | FFCV Loader | Loader vs FFCV / ceilings | Loader peak RSS growth |"
    )
    print("|---|---:|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
