"""Small SALICON archives with the real internal layout: image.zip and a fixations.zip of scipy .mat files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .mit_fixtures import jpeg, mat_bytes, write_zip

GAZE_FIELDS = [("location", "O"), ("timestamp", "O"), ("fixations", "O")]


def gaze_mat(stem: str, observers: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None) -> bytes:
    """A per-image file: ``image``, ``resolution`` and (unless ``observers`` is None) ``gaze`` as a
    1xS struct array with fields location (Kx2), timestamp (Kx1), fixations (Mx2)."""
    variables = {"image": stem, "resolution": np.array([[480, 640]], dtype=np.uint16)}
    if observers is not None:
        gaze = np.zeros((1, len(observers)), dtype=GAZE_FIELDS)
        for index, (location, timestamp, fixations) in enumerate(observers):
            gaze[0, index] = (location, timestamp.reshape(-1, 1), fixations)
        variables["gaze"] = gaze
    return mat_bytes(variables)


def make_salicon(indir: Path, seed: int = 0, missing_test_mat: bool = True) -> dict[str, dict[str, dict]]:
    """Write ``image.zip`` and ``fixations.zip``; return split -> key -> {"image", "observers"}.

    ``observers`` lists (location, timestamp, fixations) float64 arrays per viewer as stored.
    """
    rng = np.random.default_rng(seed)

    def observer(k: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        location = rng.integers(1, 641, (k, 2)).astype(np.float64) + 0.5
        timestamp = np.arange(k, dtype=np.float64) * 4.0 + rng.integers(0, 100)
        fixations = rng.integers(1, 481, (m, 2)).astype(np.float64)
        return location, timestamp, fixations

    splits: dict[str, dict[str, dict]] = {
        "train": {
            "train/COCO_train2014_000000000009": {"observers": [observer(5, 2), observer(3, 1)]},
            "train/COCO_train2014_000000000025": {"observers": [observer(1, 0)]},
        },
        "val": {"val/COCO_val2014_000000000042": {"observers": [observer(4, 2)]}},
        "test": {
            "test/COCO_test2014_000000000001": {"observers": None},  # image and resolution only
            "test/COCO_test2014_000000000014": {"observers": "missing"},
        },
    }
    if not missing_test_mat:
        splits["test"]["test/COCO_test2014_000000000014"]["observers"] = None
    images, mats = {}, {}
    for split in ("test", "train", "val"):  # zip order differs from the split order
        for key, item in splits[split].items():
            item["image"] = jpeg(rng, 16, 12)
            images[f"images/{key}.jpg"] = item["image"]
            if item["observers"] != "missing":
                mats[f"{key}.mat"] = gaze_mat(key.split("/")[1], item["observers"])
    images["images/train/readme.txt"] = b"not an image"
    write_zip(indir / "image.zip", {"images/": b"", **images})
    write_zip(indir / "fixations.zip", {"train/": b"", **mats})
    return splits
