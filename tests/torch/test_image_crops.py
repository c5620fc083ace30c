"""DecodeRandomResizedCrop / DecodeCenterCrop: reduced-scale decoding matches a full decode closely."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from PIL import Image

from dings.format import FileWriter
from dings.readers import MsgpackReader
from dings.torch import DecodeCenterCrop, DecodeRandomResizedCrop, Loader


def photo(width=400, height=300, seed=0, kind="JPEG"):
    """A smooth, photo-like image with some noise, compressed."""
    rng = np.random.default_rng(seed)
    small = (rng.random((height // 25, width // 25, 3)) * 255).astype(np.uint8)
    image = np.asarray(Image.fromarray(small).resize((width, height), Image.BICUBIC))
    image = image + rng.integers(0, 12, image.shape, dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(image).save(out, kind, **({"quality": 90} if kind == "JPEG" else {}))
    return out.getvalue()


@pytest.mark.parametrize("size", [64, 112, (96, 128)])
def test_reduced_decoding_stays_close_to_a_full_decode(size):
    images = [photo(seed=i) for i in range(12)]
    fast = DecodeRandomResizedCrop(size, seed=7)
    full = DecodeRandomResizedCrop(size, seed=7, reduce=False)
    errors = []
    for data in images:
        a, b = fast(data), full(data)
        expected = (3, size, size) if isinstance(size, int) else (3, *size)
        assert a.shape == b.shape == expected and a.dtype == b.dtype == np.uint8
        errors.append(np.abs(a.astype(int) - b.astype(int)).mean())
    assert np.mean(errors) < 2.0 and max(errors) < 4.0  # of 255


def test_crops_follow_the_random_resized_crop_distribution():
    crop = DecodeRandomResizedCrop(112, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), seed=1)
    boxes = [crop.box(400, 300) for _ in range(4000)]
    areas, ratios = [], []
    for left, top, right, bottom in boxes:
        assert 0 <= left < right <= 400 and 0 <= top < bottom <= 300
        areas.append((right - left) * (bottom - top) / 120000)
        ratios.append((right - left) / (bottom - top))
    assert min(areas) >= 0.07 and max(areas) <= 1.0
    assert 0.74 <= min(ratios) and max(ratios) <= 1.34
    # the specification, simulated independently: area uniform, log aspect uniform, up to ten
    # tries that must fit the image, else the whole (4:3 fits the ratio range) image
    rng = np.random.default_rng(0)
    target = rng.uniform(0.08, 1.0, (20000, 10)) * 120000
    aspect = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3), (20000, 10)))
    w, h = np.round(np.sqrt(target * aspect)), np.round(np.sqrt(target / aspect))
    fits = (w <= 400) & (h <= 300)
    first = fits.argmax(axis=1)
    rows = np.arange(20000)
    expected = np.where(fits.any(axis=1), w[rows, first] * h[rows, first] / 120000, 1.0)
    assert abs(np.mean(areas) - expected.mean()) < 0.015
    assert abs(np.median(areas) - np.median(expected)) < 0.03
    left_edges = np.array([b[0] for b in boxes if b[2] - b[0] < 200])
    assert left_edges.min() == 0 and left_edges.max() > 180  # positions spread over the image


def test_the_same_seed_gives_the_same_crops_and_flips():
    data = photo()
    a = [DecodeRandomResizedCrop(64, seed=3)(data) for _ in range(1)]
    b = [DecodeRandomResizedCrop(64, seed=3)(data) for _ in range(1)]
    assert np.array_equal(a[0], b[0])
    flips = DecodeRandomResizedCrop(64, scale=(1, 1), ratio=(4 / 3, 4 / 3), flip=1.0, chw=False, reduce=False)
    plain = DecodeRandomResizedCrop(64, scale=(1, 1), ratio=(4 / 3, 4 / 3), flip=0.0, chw=False, reduce=False)
    assert np.array_equal(flips(data), plain(data)[:, ::-1])


def test_center_crop_equals_resize_then_crop():
    data = photo(320, 240)
    got = DecodeCenterCrop(112, fraction=0.875, chw=False)(data).astype(int)
    image = Image.open(io.BytesIO(data)).convert("RGB")
    short = round(112 / 0.875)
    resized = image.resize((math.floor(320 * short / 240), short), Image.BILINEAR)
    left, top = (resized.width - 112) // 2, (resized.height - 112) // 2
    expected = np.asarray(resized.crop((left, top, left + 112, top + 112))).astype(int)
    assert got.shape == (112, 112, 3)
    assert np.abs(got - expected).mean() < 3.0


def test_other_formats_and_bad_bytes():
    png = DecodeRandomResizedCrop(32, seed=0)(photo(80, 60, kind="PNG"))
    assert png.shape == (3, 32, 32)
    with pytest.raises(ValueError, match="cannot decode 9 bytes"):
        DecodeCenterCrop(32)(b"not a jpg")
    with pytest.raises(ValueError, match="flip"):
        DecodeRandomResizedCrop(32, flip=2)


def test_in_a_loader(tmp_path):
    path = tmp_path / "images.msgpack"
    with FileWriter(path, progress=False) as writer:
        for i in range(10):
            writer.write({"key": f"img{i}", "image": photo(seed=i), "label": i % 3})
    with MsgpackReader(path) as reader:
        loader = Loader(
            reader, 4, keys=("image", "label"), tuples=True, transforms={"image": DecodeRandomResizedCrop(48, seed=0)}
        )
        batches = list(loader)
        assert [tuple(images.shape) for images, _ in batches] == [(4, 3, 48, 48), (4, 3, 48, 48), (2, 3, 48, 48)]
        assert batches[0][0].dtype == torch.uint8 and batches[2][1].tolist() == [2, 0]
        evaluation = Loader(reader, 5, keys=("image",), transforms={"image": DecodeCenterCrop(48)})
        first = next(iter(evaluation))["image"]
        assert np.array_equal(first[0].numpy(), DecodeCenterCrop(48)(reader.get(0)["image"]))
