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
    top = {"imgName": f"{stem}.jpeg", "userName": user, "headPos": np.zeros((1, 3)),
           "calibration": np.ones((1, 2)), "DATA": data}
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
    write_zip(indir / "ALLSTIMULI.zip", {
        **{f"ALLSTIMULI/{name}.jpeg": data for name, data in images.items()},
        "__MACOSX/ALLSTIMULI/._a.jpeg": b"\x00\x05\x16\x07 resource fork",
        "ALLSTIMULI/readme.txt": b"not an image",
    })
    members = {f"DATA/{user}/{stem}.mat": mit1003_mat(stem, user, eye, observers=2 if user == "u2" else 1)
               for (user, stem), eye in eyes.items()}
    members["DATA/u1/CalibrationData.mat"] = mat_bytes({"CalibrationData": np.zeros((2, 2))})
    members["DATA/u1/shuff_stimnames.mat"] = mat_bytes({"shuff_stimnames": np.array(["a.jpeg", "b.jpeg"], dtype=object)})
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
    write_zip(indir / "BenchmarkIMAGES.zip", {
        "BenchmarkIMAGES/": b"",
        **images,
        "BenchmarkIMAGES/SM/i1.jpg": jpeg(rng, 12, 8),
        "BenchmarkIMAGES/SM/": b"",
        "__MACOSX/BenchmarkIMAGES/._i1.jpg": b"\x00\x05\x16\x07",
        "BenchmarkIMAGES/._i2.jpg": b"\x00\x05\x16\x07",
        "BenchmarkIMAGES/readme.txt": b"text",
    })
    return images
