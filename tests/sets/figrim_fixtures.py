"""Build small FIGRIM Fixation sources with the real layout: image zips and ``allImages`` .mat files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import scipy.io
from PIL import Image

USER_FIELDS = ("trial", "RECORDING_SESSION_LABEL", "sinit", "SDT", "fixations")


def jpeg(seed: int, size: tuple[int, int] = (16, 12)) -> bytes:
    rng = np.random.default_rng(seed)
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(out, format="JPEG")
    return out.getvalue()


def struct_array(fields: tuple[str, ...], rows: list[dict]) -> np.ndarray:
    """A 1xN MATLAB struct array (savemat writes structured object arrays as structs)."""
    array = np.empty((1, len(rows)), dtype=[(f, object) for f in fields])
    for i, row in enumerate(rows):
        for f in fields:
            array[0, i][f] = row.get(f, np.zeros((0, 0)))
    return array


def participant(trial: int, fixations: dict[str, np.ndarray] | None) -> dict:
    """One entry of ``userdata``; ``None`` = did not see the image (every field empty)."""
    if fixations is None:
        return {}
    return {
        "trial": float(trial),
        "RECORDING_SESSION_LABEL": f"s{trial}",
        "sinit": "ab",
        "SDT": 1.5,
        "fixations": struct_array(("enc", "rec", "rec2"), [fixations]),
    }


def make_split(
    indir: Path, zip_name: str, mat_name: str, folder: str, rng: np.random.Generator, targets: bool, extra: int = 0
) -> dict[str, list[np.ndarray]]:
    """Write one split; return zip member -> expected experiment locations (zip order of kept images)."""
    empty = np.zeros((0, 0))

    def fix(n: int) -> np.ndarray:
        return rng.uniform(1, 500, (n, 2))

    seen = {  # image -> participants (None = not seen)
        f"{folder}/cat1/sun_a.jpg": [
            {"enc": fix(3), "rec": fix(2) if targets else empty, "rec2": empty},
            None,
            {"enc": fix(1), "rec": fix(4) if targets else empty, "rec2": fix(2) if targets else empty},
        ],
        f"{folder}/cat2/sun_c.jpg": [None, {"enc": fix(2), "rec": empty, "rec2": empty}, None],
        f"{folder}/cat2/sun_only_in_mat.jpg": [{"enc": fix(2), "rec": empty, "rec2": empty}, None, None],
    }
    seen.update({f"{folder}/cat3/sun_x{i}.jpg": [{"enc": fix(1), "rec": empty, "rec2": empty}] for i in range(extra)})
    rows = []
    for path, users in seen.items():
        row = {
            "filename": path.rsplit("/", 1)[1],
            "category": path.split("/")[1],
            "impath": path,
            "userdata": struct_array(USER_FIELDS, [participant(i + 1, u) for i, u in enumerate(users)]),
        }
        if targets:
            row["AMT_comb"] = np.array([[0.5, 0.25]])
            row["annotation"] = "x"
        rows.append(row)
    fields = ("filename", "category", "impath", "userdata") + (("AMT_comb", "annotation") if targets else ())
    scipy.io.savemat(indir / mat_name, {"allImages": struct_array(fields, rows)})
    members = [f"{folder}/cat1/sun_a.jpg", f"{folder}/cat1/sun_b.jpg", f"{folder}/cat2/sun_c.jpg"]
    members += [f"{folder}/cat3/sun_x{i}.jpg" for i in range(extra)]
    with zipfile.ZipFile(indir / zip_name, "w") as z:
        for i, member in enumerate(members):
            z.writestr(member, jpeg(i))
        z.writestr(f"{folder}/readme.txt", b"not an image")
    expected = {}
    for member in members:
        if member in seen:
            expected[member] = [
                np.asarray(u[f], np.float32).reshape(-1, 2)
                for u in seen[member]
                if u is not None
                for f in ("enc", "rec", "rec2")
            ]
    return expected


def make_figrim(indir: Path, seed: int = 0, extra: int = 0) -> dict[str, dict[str, list[np.ndarray]]]:
    """Write the four FIGRIM source files (``extra`` more images per split with one participant);
    return split -> member -> expected locations."""
    indir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    return {
        "target": make_split(indir, "Targets.zip", "allImages_release.mat", "Targets", rng, targets=True, extra=extra),
        "filler": make_split(indir, "Fillers.zip", "allImages_fillers.mat", "Fillers", rng, targets=False, extra=extra),
    }
