"""The whole product on a small generated dataset, offline: draw a few hundred labelled images as a
folder tree, import them as a dataset (`dings import`), verify it, look inside, shuffle and split it into
train/val, measure reading speed, draw a preview, and (when dings-torch is installed) run one
dings.torch.Loader epoch. Everything is kept in --dir; without it the demo works in a new temporary
folder and removes it at the end (unless --keep). Files of an earlier run in --dir are replaced only
after a yes on the terminal or with -y/--no-confirm.

examples:
  dings demo
  dings demo --dir /tmp/dings-demo
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ._common import add_no_confirm, add_quiet, at_least

__all__ = ["CLASSES", "add_arguments", "make_images", "run"]

#: the classes of the generated images: a shape each
CLASSES = ("circle", "square", "triangle", "cross")
#: cell size of the demo's contact sheet: wide enough for captions such as "label 2 (triangle)"
PREVIEW_CELL = 112


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the demo's options to its subparser."""
    parser.add_argument(
        "--dir", type=Path, default=None, help="keep everything here (default: a temporary folder, removed at the end)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (without --dir)")
    parser.add_argument(
        "--per-class", type=at_least(2), default=75, help="images per class (default %(default)s, 4 classes)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of the images and the shuffle")
    add_no_confirm(parser)
    add_quiet(parser)


def make_images(folder: Path, per_class: int, seed: int = 0, size: int = 32) -> list[Path]:
    """Draw ``per_class`` PNG images of each of :data:`CLASSES` into ``folder/<class>/NNNN.png``.

    Each image is a shape of random colour, size and position on a noisy background.

    Args:
        folder: where the class folders are created.
        per_class: images per class (at least 1).
        seed: the same seed draws the same images.
        size: width and height in pixels.

    Returns:
        The files written.
    """
    import numpy as np
    from PIL import Image, ImageDraw

    if per_class < 1:
        raise ValueError(f"--per-class must be at least 1, got {per_class}")
    rng = np.random.default_rng(seed)
    files = []
    for name in CLASSES:
        (folder / name).mkdir(parents=True, exist_ok=True)
        for number in range(per_class):
            background = rng.integers(0, 90, size=(size, size, 3), dtype=np.uint8)
            image = Image.fromarray(background)
            draw = ImageDraw.Draw(image)
            colour = tuple(int(c) for c in rng.integers(120, 256, size=3))
            half = int(rng.integers(size // 5, size // 3))
            cx, cy = (int(v) for v in rng.integers(half, size - half, size=2))
            box = [cx - half, cy - half, cx + half, cy + half]
            if name == "circle":
                draw.ellipse(box, fill=colour)
            elif name == "square":
                draw.rectangle(box, fill=colour)
            elif name == "triangle":
                draw.polygon([(cx, cy - half), (cx - half, cy + half), (cx + half, cy + half)], fill=colour)
            else:
                width = max(2, half // 2)
                draw.line([(cx - half, cy - half), (cx + half, cy + half)], fill=colour, width=width)
                draw.line([(cx - half, cy + half), (cx + half, cy - half)], fill=colour, width=width)
            path = folder / name / f"{number:04d}.png"
            part = path.with_name(path.name + ".part")
            image.save(part, format="PNG")
            part.replace(path)
            files.append(path)
    return files


def _step(name: str, text: str, seconds: float | None = None) -> None:
    timing = f"  ({seconds:.2f} s)" if seconds is not None else ""
    print(f"{name:<9}{text}{timing}", flush=True)


def _indent(text: str, prefix: str = "         ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _torch_epoch(train: Path) -> str:
    """One epoch of ``dings.torch.Loader`` over ``train`` (random crops of the decoded images), or why it
    was skipped."""
    import importlib
    import importlib.util

    if importlib.util.find_spec("dings.torch") is None:
        return "skipped: dings-torch is not installed (pip install dings-torch)"
    dings_torch = importlib.import_module("dings.torch")
    if not hasattr(dings_torch, "Loader"):
        return "skipped: this dings-torch has no Loader yet"
    from dings.readers import MsgpackReader

    start = time.perf_counter()
    loader = dings_torch.Loader(
        MsgpackReader(train),
        32,
        threads=2,
        shuffle=True,
        keys=("image", "label"),
        tuples=True,
        transforms={"image": dings_torch.DecodeRandomResizedCrop(28)},
    )
    batches = samples = 0
    crops = ""
    for images, labels in loader:
        batches += 1
        samples += len(labels)
        crops = f"{images.dtype} image crops {tuple(images.shape[1:])}"
    seconds = time.perf_counter() - start
    noun = "batch" if batches == 1 else "batches"
    return f"{samples} samples in {batches} {noun} of {crops} + label, {seconds:.2f} s"


def command_prefix() -> str:
    """How to run ``dings`` again from the user's shell, as printed in the demo's last line.

    ``dings`` when this very script is on the PATH outside a hatch environment; inside one (``hatch
    run demo:demo``), the environment's ``dings`` script by its full path, which works from any
    folder (``hatch run`` works only inside the clone); otherwise this Python with ``-m dings``.
    """
    import os
    import shlex
    import shutil
    import sys

    script = Path(sys.executable).parent / "dings"
    if os.environ.get("HATCH_ENV_ACTIVE") and script.is_file():
        return shlex.quote(str(script))
    found = shutil.which("dings")
    if found is not None and Path(found).resolve().parent == Path(sys.executable).resolve().parent:
        return "dings"
    return f"{shlex.quote(sys.executable)} -m dings"


def _outputs(folder: Path, per_class: int) -> list[Path]:
    """Every file the demo writes into ``folder`` (the datasets' data files, images, preview)."""
    files = [folder / f"{name}.msgpack" for name in ("shapes", "shapes_shuffled", "train", "val")]
    files += [folder / "images" / c / f"{n:04d}.png" for c in CLASSES for n in range(per_class)]
    return files + [folder / "preview.png"]


def run(args: argparse.Namespace) -> int:
    """Run every step, print what it did, and end with a summary of the files made.

    Without ``--dir`` the demo works in a new temporary folder and removes it at the end, also
    after an error, unless ``--keep``.
    """
    import shutil
    import tempfile

    if args.dir is not None:
        return _demo(args.dir, args, removed=False)
    folder = Path(tempfile.mkdtemp(prefix="dings-demo-"))
    try:
        return _demo(folder, args, removed=not args.keep)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


def _demo(folder: Path, args: argparse.Namespace, removed: bool) -> int:
    """The demo's steps in ``folder``; ``removed``: the folder is removed afterwards (say so)."""
    from dings.tools import bench, cat, import_folder, info, preview, shuffle, split, verify

    from ._common import allow_overwrite, progress_flag

    progress = progress_flag(args)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{folder}: is a file; give --dir a folder (it is created if needed)")
    allow_overwrite(_outputs(folder, args.per_class), args.no_confirm)
    folder.mkdir(parents=True, exist_ok=True)
    images = folder / "images"
    data = folder / "shapes.msgpack"
    shuffled = folder / "shapes_shuffled.msgpack"
    train, val = folder / "train.msgpack", folder / "val.msgpack"
    sheet = folder / "preview.png"
    print(f"dings demo in {folder}\n")

    start = time.perf_counter()
    files = make_images(images, args.per_class, args.seed)
    _step(
        "images",
        f"{len(files)} PNGs of {len(CLASSES)} classes ({', '.join(CLASSES)}) in {images}/<class>/",
        time.perf_counter() - start,
    )

    start = time.perf_counter()
    # the same as `dings import images/ shapes.msgpack --labels classes.txt`
    imported = import_folder(images, data, labels=CLASSES, threads=2, overwrite=True, progress=progress)
    _step(
        "import",
        f"dings import {images.name}/ {data.name}: {imported.samples} samples of key, image (the PNG bytes), label;"
        f" label names in {data.name}.labels.json ({data.stat().st_size / 1e3:,.0f} kB)",
        time.perf_counter() - start,
    )

    start = time.perf_counter()
    report = verify(data, deep=True, progress=progress)
    if not report.ok:
        _step("verify", "FAILED:\n" + _indent("\n".join(report.problems)))
        return 1
    _step("verify", f"OK: {', '.join(report.checked)}", time.perf_counter() - start)

    _step("info", "what is inside:")
    print(_indent(str(info(data, "all", progress=progress))))
    _step("cat", "the first two samples:")
    for text in cat(data, 60, stop=2):
        print(_indent(text) + "\n")

    start = time.perf_counter()
    shuffle(data, shuffled, seed=args.seed, overwrite=True, progress=progress)
    cut = max(1, round(0.8 * len(files)))
    if cut >= len(files):
        raise ValueError(f"--per-class {args.per_class} is too small to split into train and val; use at least 2")
    split(shuffled, [cut], [train, val], overwrite=True, progress=progress)
    _step("split", f"shuffled, then {cut} samples → {train}, {len(files) - cut} → {val}", time.perf_counter() - start)

    for raw, order in ((False, False), (True, True)):
        result = bench(train, raw=raw, shuffle=order, progress=progress)
        mode = "raw, shuffled" if raw else "decoded, in order"
        _step(
            "bench",
            f"{mode}: {result.samples:,} samples at {result.samples_per_second:,.0f} samples/s, {result.mb_per_second:,.1f} MB/s",
        )

    start = time.perf_counter()
    preview(train, sheet, 16, cell_size=PREVIEW_CELL, overwrite=True, progress=progress)
    _step("preview", f"{sheet} (16 samples with key and label)", time.perf_counter() - start)

    failed = False
    try:
        note = _torch_epoch(train)
    except Exception as exc:  # the demo goes on and reports it, then fails at the end
        note, failed = f"FAILED: {type(exc).__name__}: {exc}", True
    _step("torch", f"one dings.torch.Loader epoch over {train.name}: {note}")

    print(f"\nmade in {folder}:")
    made = [
        ("images/", f"{len(files)} source PNGs, one folder per class"),
        (data.name, "the converted dataset (+ index and md5 files)"),
        (shuffled.name, "the same samples in a random order"),
        (train.name, f"{cut} samples for training"),
        (val.name, f"{len(files) - cut} samples for validation"),
        (sheet.name, "a contact sheet of the first training samples"),
    ]
    for name, what in made:
        print(f"  {name:<25}{what}")
    dings = command_prefix()
    commands = [f"info {train}", f"cat {val} -n 1", "--help"]
    if removed:
        print(f"removed {folder} (dings demo --keep or --dir DIR keeps the files)")
        commands = ["demo --dir dings-demo", "--help"]
    print("next, to paste as printed:")
    for command in commands:
        print(f"  {dings} {command}")
    return 1 if failed else 0
