"""Small MIT1003 / MIT300 / CAT2000 archives with the real internal layout (tiny images, scipy .mat files)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import scipy.io
from PIL import Image


def jpeg(rng: np.random.Generator, width: int, height: int, quality: int = 95) -> bytes:
    """A noisy RGB JPEG of ``width`` x ``height``."""
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(out, "JPEG", quality=quality)
    return out.getvalue()


def mat_bytes(variables: dict) -> bytes:
    """A MATLAB v5 file holding ``variables`` (written by scipy)."""
    out = io.BytesIO()
    scipy.io.savemat(out, variables)
    return out.getvalue()


def write_zip(path: Path, members: dict[str, bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def mit1003_mat(stem: str, user: str, eye: np.ndarray, observers: int = 1) -> bytes:
    """A per-image file: variable ``stem`` = 1x1 struct whose 5th field ``DATA`` is a 1xK struct
    array with ``eyeData`` as its 3rd field (K = ``observers``; only the first element counts)."""
    data = np.zeros((1, observers), dtype=[("imgName", "O"), ("userName", "O"), ("eyeData", "O")])
    for k in range(observers):
        data[0, k] = (f"{stem}.jpeg", user, eye if k == 0 else eye + 1000.0)
    top = {
        "imgName": f"{stem}.jpeg",
        "userName": user,
        "headPos": np.zeros((1, 3)),
        "calibration": np.ones((1, 2)),
        "DATA": data,
    }
    return mat_bytes({stem: top})


def make_mit1003(indir: Path, seed: int = 0) -> dict[str, dict]:
    """Write ``ALLSTIMULI.zip`` and ``DATA.zip``; return key -> {"image": bytes, "locations": [arrays]}."""
    rng = np.random.default_rng(seed)
    images = {"a": jpeg(rng, 24, 16), "b": jpeg(rng, 16, 24), "c": jpeg(rng, 8, 8)}
    eyes = {
        ("u1", "a"): np.array([[1.0, 2.0], [23.5, 15.5], [-1.0, -1.0], [30.0, 3.0]]),
        ("u2", "a"): np.array([[5.0, 6.0]]),  # one row: MATLAB squeezes it to (2,)
        ("u1", "b"): np.array([[7.25, 8.5], [0.0, 0.0], [3.0, 24.0]]),
    }
    write_zip(
        indir / "ALLSTIMULI.zip",
        {
            **{f"ALLSTIMULI/{name}.jpeg": data for name, data in images.items()},
            "__MACOSX/ALLSTIMULI/._a.jpeg": b"\x00\x05\x16\x07 resource fork",
            "ALLSTIMULI/readme.txt": b"not an image",
        },
    )
    members = {
        f"DATA/{user}/{stem}.mat": mit1003_mat(stem, user, eye, observers=2 if user == "u2" else 1)
        for (user, stem), eye in eyes.items()
    }
    members["DATA/u1/CalibrationData.mat"] = mat_bytes({"CalibrationData": np.zeros((2, 2))})
    members["DATA/u1/shuff_stimnames.mat"] = mat_bytes(
        {"shuff_stimnames": np.array(["a.jpeg", "b.jpeg"], dtype=object)}
    )
    members["DATA/readme.mat"] = mat_bytes({"a": np.zeros(2)})  # not at DATA/<user>/: ignored
    write_zip(indir / "DATA.zip", members)
    return {
        f"ALLSTIMULI/{name}.jpeg": {
            "image": data,
            "size": Image.open(io.BytesIO(data)).size,
            "locations": [eye for (user, stem), eye in eyes.items() if stem == name],
        }
        for name, data in images.items()
    }


def make_mit300(indir: Path, seed: int = 0) -> dict[str, bytes]:
    """Write ``BenchmarkIMAGES.zip`` (images, SM/ maps, clutter); return key -> image bytes of the images."""
    rng = np.random.default_rng(seed)
    images = {f"BenchmarkIMAGES/i{n}.jpg": jpeg(rng, 12, 8) for n in (1, 2, 10)}
    images["BenchmarkIMAGES/iSMALL.jpg"] = jpeg(rng, 8, 8)  # 'SM' in the name, not in a folder: an image
    write_zip(
        indir / "BenchmarkIMAGES.zip",
        {
            "BenchmarkIMAGES/": b"",
            **images,
            "BenchmarkIMAGES/SM/i1.jpg": jpeg(rng, 12, 8),
            "BenchmarkIMAGES/SM/": b"",
            "__MACOSX/BenchmarkIMAGES/._i1.jpg": b"\x00\x05\x16\x07",
            "BenchmarkIMAGES/._i2.jpg": b"\x00\x05\x16\x07",
            "BenchmarkIMAGES/readme.txt": b"text",
        },
    )
    return images


def bordered_jpeg(rng: np.random.Generator, width: int, height: int, border: int, subsampling: int = 0) -> bytes:
    """A JPEG with a uniform grey (128) ``border`` around noise; lossless enough (quality 100, border
    of whole blocks: 8 px for 4:4:4, 16 px for 4:2:0) that the border decodes to exactly 128."""
    pixels = np.full((height, width, 3), 128, np.uint8)
    pixels[border : height - border, border : width - border] = rng.integers(
        0, 256, (height - 2 * border, width - 2 * border, 3), dtype=np.uint8
    )
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=100, subsampling=subsampling)
    return out.getvalue()


#: CAT2000 fixture: fixated (row, column) pixels of the bordered 64x48 train stimulus
CAT2000_FIXATED = [(2, 3), (8, 8), (10, 12), (20, 4), (39, 55), (47, 20)]


def make_cat2000(indir: Path, seed: int = 0, clutter: bool = True) -> dict[str, dict[str, bytes]]:
    """Write ``trainSet.zip`` and ``testSet.zip``; return split -> key -> original stimulus bytes.

    Train: ``Action/001.jpg`` (64x48, 8 px grey border, fixations at :data:`CAT2000_FIXATED`),
    ``Art/002.jpg`` (40x30, no border, fixLocs of logical type with one point) and
    ``Art/003.jpg`` (no fixation file). Test: ``Action/001.jpg`` only. ``clutter`` adds a
    ``__MACOSX/`` resource fork (datadings fails on it).
    """
    rng = np.random.default_rng(seed)
    fix_locs = np.zeros((48, 64), np.uint8)
    for row, col in CAT2000_FIXATED:
        fix_locs[row, col] = 1
    art = np.zeros((30, 40), bool)
    art[29, 39] = True
    train = {
        "Action/001.jpg": bordered_jpeg(rng, 64, 48, 8),
        "Art/002.jpg": jpeg(rng, 40, 30),
        "Art/003.jpg": jpeg(rng, 16, 24),
    }
    write_zip(
        indir / "trainSet.zip",
        {
            **{f"trainSet/Stimuli/{key}": data for key, data in train.items()},
            "trainSet/Stimuli/Action/Output/x.jpg": jpeg(rng, 8, 8),
            **({"__MACOSX/trainSet/Stimuli/Action/._001.jpg": b"\x00\x05\x16\x07"} if clutter else {}),
            "trainSet/FIXATIONMAPS/Action/001.jpg": jpeg(rng, 64, 48),
            "trainSet/FIXATIONLOCS/Action/001.mat": mat_bytes({"fixLocs": fix_locs}),
            "trainSet/FIXATIONLOCS/Art/002.mat": mat_bytes({"fixLocs": art}),
        },
    )
    test = {"Action/001.jpg": bordered_jpeg(rng, 64, 48, 16)}
    write_zip(indir / "testSet.zip", {f"testSet/Stimuli/{key}": data for key, data in test.items()})
    return {"train": train, "test": test}
