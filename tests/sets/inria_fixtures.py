"""Build a tiny Inria Aerial Image Labeling folder with the real layout (AerialImageDataset/train|test/...)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

tifffile = pytest.importorskip("tifffile", reason="tifffile (extra remote-sensing) is needed to write TIFF fixtures")


def scene(rng: np.random.Generator, shape: tuple[int, int], tile: int) -> np.ndarray:
    """An RGB image (H, W, 3) with one flat random colour per grid cell, so JPEG keeps it nearly exact."""
    rows, cols = -(-shape[0] // tile), -(-shape[1] // tile)
    colours = rng.integers(0, 256, size=(rows, cols, 3), dtype=np.uint8)
    return np.repeat(np.repeat(colours, tile, axis=0), tile, axis=1)[: shape[0], : shape[1]]


def make_inria(
    indir: Path,
    train: dict[str, list[int]],
    test: dict[str, list[int]],
    shape: tuple[int, int] = (20, 30),
    tile: int = 8,
    seed: int = 0,
) -> dict[str, dict[str, np.ndarray]]:
    """Write ``indir/AerialImageDataset``; return file name -> {"image": (H, W, 3), "gt": (H, W) uint8 or absent}."""
    root = indir / "AerialImageDataset"
    for sub in ("train/images", "train/gt", "test/images"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    expected: dict[str, dict[str, np.ndarray]] = {}
    for part, locations in (("train", train), ("test", test)):
        for location, ids in locations.items():
            for n in ids:
                name = f"{location}{n}.tif"
                image = scene(rng, shape, tile)
                tifffile.imwrite(root / part / "images" / name, image, photometric="rgb", compression="zlib")
                expected[name] = {"image": image}
                if part == "train":
                    gt = (rng.integers(0, 2, size=shape) * 255).astype(np.uint8)
                    tifffile.imwrite(root / part / "gt" / name, gt, compression="zlib")
                    expected[name]["gt"] = gt
    return expected
