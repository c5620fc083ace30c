"""Build tiny Places365 archives with the real internal layout (low-res or large, standard variant)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

#: training members (class path, label in the shipped class list)
TRAINING = [
    ("a/airfield", 0),
    ("a/apartment_building/outdoor", 8),
    ("z/zen_garden", 364),
]


def jpeg(seed: int, size: int = 8) -> bytes:
    """A small random JPEG, different for every seed."""
    pixels = np.random.default_rng(seed).integers(0, 256, size=(size, size, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, format="JPEG", quality=90)
    return out.getvalue()


def add_member(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


def add_folder(tar: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    tar.addfile(info)


def make_places365(
    indir: Path, low_res: bool = True, challenge: bool = False, val_lines: str | None = None
) -> dict[str, list[tuple[str, bytes, int | None]]]:
    """Write the four tars of one variant into ``indir``; return split -> [(key, jpeg, label)].

    Args:
        indir: output folder (created).
        low_res: 256 (``data_256``, ``val_256`` …) instead of large (``data_large`` …) names.
        challenge: name the training tar as the challenge variant.
        val_lines: replaces the content of ``places365_val.txt``.
    """
    size = "256" if low_res else "large"
    variant = "challenge" if challenge else "standard"
    indir.mkdir(parents=True, exist_ok=True)
    expected: dict[str, list] = {"training": [], "validation": [], "testing": []}
    seed = 0
    with tarfile.open(indir / f"train_{size}_places365{variant}.tar", "w") as tar:
        add_folder(tar, f"data_{size}")
        for path, label in TRAINING:
            add_folder(tar, f"data_{size}/{path}")
            for number in (1, 2):
                seed += 1
                key = f"data_{size}/{path}/{number:08d}.jpg"
                expected["training"].append((key, jpeg(seed), label))
                add_member(tar, key, expected["training"][-1][1])
        add_member(tar, f"data_{size}/a/airfield/notes.txt", b"not an image")
    val_labels = [17, 0, 364]
    with tarfile.open(indir / f"val_{size}.tar", "w") as tar:
        add_folder(tar, f"val_{size}")
        for number, label in enumerate(val_labels, 1):
            seed += 1
            key = f"val_{size}/Places365_val_{number:08d}.jpg"
            expected["validation"].append((key, jpeg(seed), label))
            add_member(tar, key, expected["validation"][-1][1])
    with tarfile.open(indir / f"test_{size}.tar", "w") as tar:
        add_folder(tar, f"test_{size}")
        for number in (1, 2):
            seed += 1
            key = f"test_{size}/Places365_test_{number:08d}.jpg"
            expected["testing"].append((key, jpeg(seed), None))
            add_member(tar, key, expected["testing"][-1][1])
        add_member(tar, f"test_{size}/.DS_Store", b"\0\0")
    if val_lines is None:
        # the real list is ordered by file name; write it in another order to test the lookup
        val_lines = "".join(
            f"Places365_val_{n:08d}.jpg {label}\n" for n, label in reversed(list(enumerate(val_labels, 1)))
        )
    with tarfile.open(indir / "filelist_places365-standard.tar", "w") as tar:
        add_member(tar, "categories_places365.txt", b"/a/airfield 0\n")
        add_member(tar, "places365_train_standard.txt", b"/a/airfield/00000001.jpg 0\n")
        add_member(tar, "places365_val.txt", val_lines.encode())
        add_member(tar, "places365_test.txt", b"Places365_test_00000001.jpg\nPlaces365_test_00000002.jpg\n")
    return expected
