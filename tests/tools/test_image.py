"""Image helpers (extra `image`): encode/decode, JPEG re-compression, 16-bit PNG label maps."""

from __future__ import annotations

import io

import numpy as np
import pytest

Image = pytest.importorskip("PIL.Image", reason="the extra 'image' (Pillow) is not installed")
from PIL import JpegImagePlugin  # noqa: E402

from dings.tools import (  # noqa: E402
    decode_image,
    decode_label_map,
    encode_image,
    encode_label_map,
    recompress_jpeg,
    write_label_map,
)


def photo(h=48, w=64):
    """A smooth colour gradient (JPEG-friendly) as an RGB uint8 array."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // w, y * 255 // h, (x + y) * 255 // (w + h)], axis=-1).astype(np.uint8)


def jpeg(array, quality=75, subsampling=2):
    out = io.BytesIO()
    Image.fromarray(array).save(out, "JPEG", quality=quality, subsampling=subsampling)
    return out.getvalue()


def opened(data):
    return Image.open(io.BytesIO(data))


# --- encode / decode ---


def test_png_round_trip_is_exact_for_rgb_rgba_and_gray():
    rgb = photo()
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 7, np.uint8)])
    for array in (rgb, rgba, rgb[..., 0], rgb[..., :1]):
        data = encode_image(array, "PNG")
        assert data.startswith(b"\x89PNG")
        np.testing.assert_array_equal(decode_image(data, as_array=True), array.squeeze())


def test_jpeg_encode_sets_quality_and_subsampling():
    data = encode_image(photo(), "JPEG", quality=60, subsampling="4:4:4")
    image = opened(data)
    assert image.format == "JPEG" and JpegImagePlugin.get_sampling(image) == 0
    assert len(encode_image(photo(), "JPEG", quality=20)) < len(encode_image(photo(), "JPEG", quality=95))


def test_encode_accepts_pil_images_and_converts_palette_for_jpeg():
    palette = Image.fromarray(photo()).convert("P")
    assert opened(encode_image(palette, "JPEG")).mode == "RGB"


def test_encode_errors_name_the_problem():
    with pytest.raises(ValueError, match="cannot write a mode RGBA image as JPEG"):
        encode_image(np.zeros((4, 4, 4), np.uint8), "JPEG")
    with pytest.raises(ValueError, match="quality must be an int from 1 to 100"):
        encode_image(photo(), "JPEG", quality=0)
    with pytest.raises(ValueError, match="subsampling must be"):
        encode_image(photo(), "JPEG", subsampling="4:1:1")
    with pytest.raises(ValueError, match="cannot make an image of a complex128 array"):
        encode_image(np.zeros((4, 4), np.complex128), "PNG")


def test_decode_converts_mode_and_returns_writable_arrays():
    data = encode_image(photo(), "PNG")
    gray = decode_image(data, mode="L")
    assert gray.mode == "L" and gray.size == (64, 48)
    array = decode_image(data, as_array=True)
    array[0, 0] = 0  # writable
    assert array.shape == (48, 64, 3) and array.dtype == np.uint8


def test_decode_rejects_garbage_and_truncated_data():
    with pytest.raises(ValueError, match=r"cannot decode image data \(9 bytes\)"):
        decode_image(b"not image")
    data = jpeg(photo(256, 256))
    with pytest.raises(ValueError, match="cannot decode image data"):
        decode_image(data[: len(data) // 2])


# --- recompress_jpeg ---


def test_recompress_sets_quality_and_subsampling():
    source = jpeg(photo(), quality=95, subsampling=0)
    out = recompress_jpeg(source, quality=50, subsampling="4:2:0")
    image = opened(out)
    assert image.format == "JPEG" and image.size == (64, 48)
    assert JpegImagePlugin.get_sampling(image) == 2
    assert out != source and len(out) < len(source)


def test_recompress_returns_the_input_when_settings_and_size_already_match():
    source = jpeg(photo(), quality=80, subsampling=2)
    assert recompress_jpeg(source, quality=80, subsampling="4:2:0", max_size=64) is source
    assert recompress_jpeg(source, quality=80, subsampling="4:2:0", force=True) is not source
    assert recompress_jpeg(source, quality=81, subsampling="4:2:0") != source
    assert recompress_jpeg(source, quality=80, subsampling="4:4:4") != source


def test_recompress_keeps_grayscale_and_skips_matching_gray_jpegs():
    gray = jpeg(photo()[..., 0], quality=70)
    assert recompress_jpeg(gray, quality=70) is gray
    out = recompress_jpeg(gray, quality=40)
    assert opened(out).mode == "L"


@pytest.mark.parametrize(
    "max_size, expected",
    [(32, (32, 24)), ((40, 40), (40, 30)), ((64, 12), (16, 12)), (1000, (64, 48)), (1, (1, 1))],
)
def test_recompress_shrinks_to_fit_keeping_the_aspect_ratio(max_size, expected):
    out = recompress_jpeg(jpeg(photo()), quality=90, max_size=max_size)
    assert opened(out).size == expected


def test_recompress_shrinks_large_jpegs_with_draft_and_keeps_content():
    big = photo(800, 1200)
    out = recompress_jpeg(jpeg(big, quality=95), quality=95, max_size=150)
    image = opened(out)
    assert image.size == (150, 100)
    small = np.asarray(image.resize((12, 8)), dtype=np.int32)
    expected = np.asarray(Image.fromarray(big).resize((12, 8)), dtype=np.int32)
    assert np.abs(small - expected).mean() < 8  # the same picture, not a crop or garbage


def test_recompress_converts_png_with_alpha_to_rgb_jpeg():
    rgba = np.dstack([photo(), np.zeros(photo().shape[:2], np.uint8)])
    out = recompress_jpeg(encode_image(rgba, "PNG"), quality=90)
    image = opened(out)
    assert (image.format, image.mode) == ("JPEG", "RGB")


def test_recompress_errors():
    with pytest.raises(ValueError, match="cannot decode image data"):
        recompress_jpeg(b"\xff\xd8garbage")
    with pytest.raises(ValueError, match="16/32-bit"):
        recompress_jpeg(encode_label_map(np.full((4, 4), 1000, np.uint16)))
    with pytest.raises(ValueError, match="max_size must be"):
        recompress_jpeg(jpeg(photo()), max_size=(10,))
    with pytest.raises(ValueError, match="max_size must be positive"):
        recompress_jpeg(jpeg(photo()), max_size=0)


# --- label maps ---


def test_uint16_label_map_round_trips_exactly_as_16_bit_png():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 65536, size=(37, 23), dtype=np.uint16)
    labels[0, 0], labels[0, 1] = 0, 65535
    data = encode_label_map(labels)
    assert data[24] == 16  # PNG IHDR bit depth
    back = decode_label_map(data)
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, labels)


def test_big_endian_uint16_stays_16_bit():
    labels = np.array([[1, 2], [300, 65535]], dtype=">u2")
    back = decode_label_map(encode_label_map(labels))
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, labels)


def test_uint8_label_map_stays_8_bit():
    labels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    data = encode_label_map(labels)
    assert data[24] == 8
    back = decode_label_map(data)
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, labels)


def test_other_integer_types_take_the_smallest_depth_that_fits():
    small = np.array([[0, 255]], dtype=np.int64)
    large = np.array([[0, 256]], dtype=np.int32)
    assert decode_label_map(encode_label_map(small)).dtype == np.uint8
    back = decode_label_map(encode_label_map(large))
    assert back.dtype == np.uint16 and back.tolist() == [[0, 256]]
    assert decode_label_map(encode_label_map(np.eye(2, dtype=bool))).tolist() == [[1, 0], [0, 1]]


@pytest.mark.parametrize(
    "array, match",
    [
        (np.zeros((2, 2, 3), np.uint8), "need a 2-D"),
        (np.zeros((2, 2), np.float32), "need integer labels"),
        (np.array([[-1, 0]]), "within 0-65535"),
        (np.array([[0, 70000]]), "within 0-65535"),
    ],
)
def test_bad_label_maps(array, match):
    with pytest.raises(ValueError, match=match):
        encode_label_map(array)


def test_palette_png_decodes_to_indices_and_colour_is_refused():
    indices = np.array([[0, 1], [2, 21]], dtype=np.uint8)
    image = Image.fromarray(indices, mode="L").convert("P")  # identity palette on gray
    image.putpalette([v for i in range(256) for v in (i, 0, 255 - i)])
    out = io.BytesIO()
    image.save(out, "PNG")
    np.testing.assert_array_equal(decode_label_map(out.getvalue()), indices)
    with pytest.raises(ValueError, match="expected a single-channel label map, got a mode RGB image"):
        decode_label_map(encode_image(photo(), "PNG"))


def test_write_label_map_is_atomic(tmp_path):
    labels = np.array([[1, 2], [3, 40000]], dtype=np.uint16)
    path = write_label_map(tmp_path / "mask.png", labels)
    np.testing.assert_array_equal(decode_label_map(path.read_bytes()), labels)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mask.png"]
    with pytest.raises(ValueError):
        write_label_map(tmp_path / "bad.png", np.zeros((2, 2), np.float64))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mask.png"]
