"""Build small ANP460 sources with the layout datadings' converter expects (the real one is not public)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from .figrim_fixtures import jpeg

ANPS = {"1.jpg": ["happy dog", "positive"], "2.jpg": ["sad clown", "negative"], "3.jpg": ["old house", "neutral"]}
#: observer folder -> images it has a gaze table for; answer.txt line n belongs to image n
OBSERVERS = {"s1": ["1", "2"], "s2": ["1", "3"]}
ANSWERS = {"s1": "h,a,0\r\nx,yes,1.5\r\nx,no,2\r\nx,maybe,3\r\n", "s2": "h,a,0\nx,si,4.25\nx,,5\nx,a, b,6.5\n"}


def table(rng: np.random.Generator, rows: int) -> tuple[str, np.ndarray]:
    """A gaze table: time, x, y, pupil; return its text and the expected (x, y) float32 array."""
    values = np.column_stack([np.arange(rows) * 4.0, rng.uniform(0, 600, (rows, 2)).round(2), np.ones(rows)])
    text = "\n".join(",".join(f"{v:g}" for v in row) for row in values) + "\n"
    return text, values[:, 1:3].astype(np.float32)


def make_anp460(indir: Path, seed: int = 0, answers_elsewhere: bool = False) -> dict[str, list[tuple]]:
    """Write ``images_original.zip`` and ``wrangled_data.zip``; return image -> [(locations, answer, duration)].

    ``answers_elsewhere`` puts the answer files into their own folders (the reference's pairing by
    zip order then applies).
    """
    rng = np.random.default_rng(seed)
    indir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(indir / "images_original.zip", "w") as z:
        for i, name in enumerate(ANPS):
            z.writestr(f"images_original/images/{name}", jpeg(i))
        z.writestr("images_original/images/readme.txt", b"no image")
    expected: dict[str, list[tuple]] = {name: [] for name in ANPS}
    with zipfile.ZipFile(indir / "wrangled_data.zip", "w") as z:
        z.writestr("wrangled_data/image_anp_list.json", json.dumps(ANPS))
        for observer, images in OBSERVERS.items():
            lines = ANSWERS[observer].replace("\r", "").split("\n")
            for image in images:
                text, locations = table(rng, 2 + int(image))
                z.writestr(f"wrangled_data/{'gaze/' if answers_elsewhere else ''}{observer}/{image}.txt", text)
                fields = lines[int(image)].split(",")
                expected[f"{image}.jpg"].append((locations, ",".join(fields[1:-1]), float(fields[-1])))
            folder = f"answers/{observer}" if answers_elsewhere else observer
            z.writestr(f"wrangled_data/{folder}/answer.txt", ANSWERS[observer])
    return expected
