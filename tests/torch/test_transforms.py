"""Compose, CompressedToPIL, dict2tuple and no_rng: datadings-compatible behaviour and clear errors."""

from __future__ import annotations

import functools
import io

import numpy as np
import pytest
import torch
from PIL import Image

from dings.torch import Compose, CompressedToPIL, dict2tuple, no_rng


def add(v, number):
    return v + number


def sub(x, value):
    return x - value


def scale(x, factor=2):
    return x * factor


def test_compose_passes_each_transform_only_the_parameters_it_names():
    params = {"number": 5, "value": 3, "unused": object()}
    assert Compose(add)(1, params) == 6
    assert Compose(sub)(1, params) == -2
    assert Compose((add, sub))(1, params) == 3  # one iterable, as in datadings
    assert Compose(add, sub)(1, params) == 3  # varargs


def test_compose_uses_defaults_and_prefix():
    assert Compose(scale)(3, {}) == 6
    assert Compose(scale)(3, {"factor": 10}) == 30
    assert Compose(add, prefix="mask_")(1, {"number": 100, "mask_number": 2}) == 3


def test_compose_names_a_missing_parameter():
    with pytest.raises(KeyError, match="'mask_number'.*functools.partial"):
        Compose(add, prefix="mask_")(1, {"number": 1})
    assert Compose(functools.partial(add, number=4))(1, {}) == 5


def test_compose_gives_callable_objects_and_modules_the_value_only():
    class Doubler:
        def __call__(self, img):
            return img * 2

    module = torch.nn.Identity()
    assert Compose(Doubler(), module)(torch.tensor(2.0), {"img": 99}).item() == 4.0
    assert Compose(abs)(-3, {}) == 3  # builtin without a keyword signature


def test_compose_refuses_what_cannot_take_a_value():
    with pytest.raises(TypeError, match="not callable"):
        Compose(add, 3)
    with pytest.raises(TypeError, match="takes no positional argument"):
        Compose(lambda: 1)


def test_compose_matches_datadings_on_its_documented_example():
    from datadings.torch import Compose as TheirCompose

    params = {"number": 7, "value": 2}
    for transforms in ((add,), (sub,), ((add, sub),)):
        assert Compose(*transforms)(0, params) == TheirCompose(*transforms)(0, params)


def encoded(mode: str, fmt: str) -> bytes:
    array = (np.arange(16 * 24 * 3) % 251).astype(np.uint8).reshape(16, 24, 3)
    image = Image.fromarray(array).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


@pytest.fixture(params=["simplejpeg", "pillow"])
def decoder(request, monkeypatch):
    """Run a test with the optional simplejpeg fast path and with Pillow alone."""
    import dings.torch.transforms as module

    if request.param == "pillow":
        monkeypatch.setattr(module, "_decode_jpeg", None)
    elif module._decode_jpeg is None:
        pytest.skip("simplejpeg (the optional 'jpeg' extra) is not installed")
    return request.param


@pytest.mark.parametrize("mode,fmt", [("RGB", "JPEG"), ("L", "JPEG"), ("CMYK", "JPEG"), ("RGBA", "PNG"), ("P", "PNG")])
def test_compressed_to_pil_gives_rgb_images(decoder, mode, fmt):
    data = encoded(mode, fmt)
    for given in (data, bytearray(data), memoryview(data)):
        image = CompressedToPIL()(given)
        assert image.mode == "RGB" and image.size == (24, 16)


def test_compressed_to_pil_matches_datadings_decoding(decoder):
    from datadings.torch import CompressedToPIL as Theirs

    data = encoded("RGB", "JPEG")
    ours = np.asarray(CompressedToPIL()(data), dtype=np.int16)
    theirs = np.asarray(Theirs()(data), dtype=np.int16)
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() <= 8  # two libjpeg builds may round a few values differently


def test_compressed_to_pil_error_names_the_data(decoder):
    with pytest.raises(ValueError, match=r"cannot decode 9 bytes starting b'not an i"):
        CompressedToPIL()(b"not an im")
    with pytest.raises(ValueError, match="cannot decode"):
        CompressedToPIL()(encoded("RGB", "JPEG")[:40])


def test_dict2tuple_and_no_rng():
    samples = [{"image": 1, "label": 2, "x": 3}, {"image": 4, "label": 5, "x": 6}]
    assert list(dict2tuple(samples)) == [(1, 2), (4, 5)]
    assert list(dict2tuple(samples, ("x",))) == [(3,), (6,)]
    assert no_rng({"anything": 1}) == {}
    with pytest.raises(KeyError, match="no key 'y'"):
        list(dict2tuple(samples, ("y",)))
