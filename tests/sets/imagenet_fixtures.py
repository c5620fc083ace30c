"""Build tiny ILSVRC2012 / ImageNet21k archives with the real layout: tars of per-class tars of JPEGs."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image


def picture(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A smooth RGB test picture (compresses well, survives JPEG recognisably)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = rng.integers(0, 256, 3)
    channels = [(base[c] + x * (c + 1) * 255 // max(width, 1) + y * 255 // max(height, 1)) % 256 for c in range(3)]
    return np.stack(channels, axis=-1).astype(np.uint8)


def jpeg(width: int = 16, height: int = 12, seed: int = 0, mode: str = "RGB", quality: int = 90) -> bytes:
    """JPEG bytes of a ``width`` x ``height`` picture in ``mode`` (RGB, L or CMYK)."""
    image = Image.fromarray(picture(width, height, seed), "RGB")
    if mode != "RGB":
        image = image.convert(mode)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def png(width: int = 16, height: int = 12, seed: int = 0) -> bytes:
    """PNG bytes (to be named ``.JPEG``, like the one PNG in the real training set)."""
    out = io.BytesIO()
    Image.fromarray(picture(width, height, seed), "RGB").save(out, "PNG")
    return out.getvalue()


def gzipped(data: bytes) -> bytes:
    """``data`` as a gzip stream (some ImageNet21k "JPEGs" are)."""
    return gzip.compress(data, mtime=0)


def tar_bytes(members: list[tuple[str, bytes]]) -> bytes:
    """An uncompressed tar holding ``members`` (name, content) in that order."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, payload in members:
            add_member(tar, name, payload)
    return out.getvalue()


def add_member(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


def write_tar(path: Path, members: list[tuple[str, bytes]], mode: str = "w") -> Path:
    """Write a tar (``mode`` ``"w"`` or ``"w:gz"``) holding ``members`` at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, mode) as tar:
        for name, payload in members:
            add_member(tar, name, payload)
    return path


def make_ilsvrc2012(indir: Path) -> dict[str, list[tuple[str, bytes, int]]]:
    """Write ``ILSVRC2012_img_train.tar`` and ``ILSVRC2012_img_val.tar``.

    Returns:
        split -> [(key, original bytes, label)] in archive order.
    """
    train = {
        "n01440764": [("n01440764_10026.JPEG", jpeg(16, 12, 1)), ("n01440764_2933.JPEG", png(12, 16, 2))],
        "n01443537": [
            ("n01443537_7.JPEG", jpeg(20, 20, 3, mode="CMYK")),
            ("n01443537_8.JPEG", jpeg(8, 8, 4, mode="L")),
        ],
    }
    labels = {"n01440764": 0, "n01443537": 1}
    expected: dict[str, list] = {"train": [], "val": []}
    outer = []
    for wnid, images in train.items():
        outer.append((f"{wnid}.tar", tar_bytes(images)))
        expected["train"] += [(key, data, labels[wnid]) for key, data in images]
    write_tar(indir / "ILSVRC2012_img_train.tar", outer)
    val = [
        ("ILSVRC2012_val_00000001.JPEG", jpeg(10, 14, 5), 65),
        ("ILSVRC2012_val_00000002.JPEG", jpeg(14, 10, 6), 970),
    ]
    write_tar(indir / "ILSVRC2012_img_val.tar", [(key, data) for key, data, _ in val])
    expected["val"] = val
    return expected


def make_imagenet21k(indir: Path) -> dict[str, list[tuple[str, bytes, int]]]:
    """Write ``winter21_whole.tar.gz``: two used synsets of 53 and 1 images, the synset with label 9
    (1 image), a synset that is not used, and a folder entry.

    ``n00005787`` holds 52 decodable images (one of them gzipped) stored in reverse name order and an
    undecodable one whose name sorts last.

    Returns:
        split -> [(key, expected stored bytes, label)] in the order the converter writes them.
    """
    names = [f"n00005787_{i}.JPEG" for i in range(100, 152)]  # plain string order = numeric order here
    images = {name: jpeg(8, 8, i) for i, name in enumerate(names)}
    gz_name = names[51]
    stored = dict(images)
    images[gz_name] = gzipped(stored[gz_name])
    first = [(name, images[name]) for name in reversed(names)] + [("n00005787_999.JPEG", b"\x00broken")]
    label9 = ("n00288000_5.JPEG", jpeg(8, 8, 90))
    outer = [
        ("winter21_whole/n00005787.tar", tar_bytes(first)),
        ("winter21_whole/n99999999.tar", tar_bytes([("n99999999_1.JPEG", jpeg(8, 8, 91))])),
        ("winter21_whole/n00006484.tar", tar_bytes([("n00006484_7.JPEG", jpeg(8, 8, 92))])),
        ("winter21_whole/n00288000.tar", tar_bytes([label9])),
    ]
    path = indir / "winter21_whole.tar.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        folder = tarfile.TarInfo("winter21_whole")
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
        for name, payload in outer:
            add_member(tar, name, payload)
    return {
        "val": [(name, stored[name], 0) for name in names[:50]]
        + [("n00006484_7.JPEG", images_of(outer[2][1])[0], 1), (label9[0], label9[1], 9)],
        "train": [(name, stored[name], 0) for name in names[50:]],
    }


def images_of(tar: bytes) -> list[bytes]:
    """The contents of the files of a tar, in order."""
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        return [t.extractfile(m).read() for m in t.getmembers() if m.isfile()]
