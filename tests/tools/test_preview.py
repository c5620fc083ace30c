"""preview: contact sheets of the expected size, overlays that change pixels, arrays scaled for display."""

from __future__ import annotations

import io

import numpy as np
import pytest

PIL = pytest.importorskip("PIL.Image", reason="the preview helpers need Pillow (extra image)")
from dings.format import FileWriter  # noqa: E402
from dings.tools import (  # noqa: E402
    contact_sheet,
    default_index_to_color,
    overlay_fixations,
    overlay_labels,
    preview,
    sample_picture,
    sheet_size,
    to_display_image,
)
from dings.tools.preview import CAPTION_HEIGHT, PADDING  # noqa: E402


def png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    PIL.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def plain(value: int = 100, size: int = 16) -> np.ndarray:
    return np.full((size, size, 3), value, dtype=np.uint8)


def label_map(size: int = 16) -> np.ndarray:
    labels = np.zeros((size, size), dtype=np.uint8)
    labels[: size // 2] = 3
    labels[:, : size // 4] = 7
    return labels


def test_sheet_size_follows_the_layout():
    assert sheet_size(5, 3, 64) == (3 * (64 + PADDING) + PADDING, 2 * (64 + CAPTION_HEIGHT + PADDING) + PADDING)
    assert sheet_size(2, 8, 10) == (2 * (10 + PADDING) + PADDING, 10 + CAPTION_HEIGHT + 2 * PADDING)


def test_contact_sheet_has_the_expected_size_and_shows_the_images():
    samples = [{"key": f"k{i}", "image": png(plain(40 * i)), "label": i} for i in range(5)]
    sheet = contact_sheet(samples, columns=3, cell_size=32)
    assert sheet.size == sheet_size(5, 3, 32)
    pixels = np.asarray(sheet)
    for i in range(5):
        row, column = divmod(i, 3)
        left, top = PADDING + column * (32 + PADDING), PADDING + row * (32 + CAPTION_HEIGHT + PADDING)
        assert (pixels[top + 16, left + 16] == 40 * i).all()
        caption = pixels[top + 32 : top + 32 + CAPTION_HEIGHT, left : left + 32]
        assert (caption < 128).any(), "the caption draws dark text"


def test_default_palette_is_stable_and_distinct():
    labels = np.arange(12, dtype=np.uint16).reshape(3, 4)
    colours = default_index_to_color(labels)
    assert colours.shape == (3, 4, 3) and colours.dtype == np.uint8
    assert (colours[0, 0] == 0).all()
    assert len({tuple(c) for c in colours.reshape(-1, 3)}) == 12
    assert (default_index_to_color(np.full((1, 1), 5)) == colours[1, 1]).all()
    with pytest.raises(ValueError, match="2-D"):
        default_index_to_color(np.zeros(3))


def test_segmentation_overlay_changes_pixels_where_labels_are():
    sample = {"key": "s", "image": png(plain()), "label_image": png(label_map())}
    picture = np.asarray(sample_picture(sample)).astype(int)
    base = plain().astype(int)
    assert (picture[0, 8] != base[0, 8]).any()  # label 3
    assert (picture[12, 1] != base[12, 1]).any()  # label 7
    assert (picture[0, 8] != picture[12, 1]).any()  # different labels, different colours
    assert (picture[12, 8] == base[12, 8] // 2).all()  # label 0 is black, blended at 0.5


def test_overlay_uses_the_given_index_to_color():
    def all_green(array: np.ndarray) -> np.ndarray:
        out = np.zeros((*array.shape, 3), dtype=np.uint8)
        out[..., 1] = 255
        return out

    image = PIL.fromarray(plain(0))
    result = np.asarray(overlay_labels(image, label_map(), all_green, alpha=1.0))
    assert (result[..., 1] == 255).all() and (result[..., 0] == 0).all()


def test_label_map_is_resized_to_the_image():
    image = PIL.fromarray(plain(0, size=32))
    assert overlay_labels(image, label_map(8)).size == (32, 32)


def test_saliency_points_and_maps_are_drawn():
    heat = np.zeros((16, 16), dtype=np.float32)
    heat[4:8, 4:8] = 1.0
    sample = {
        "key": "sal",
        "image": png(plain(50, size=64)),
        "experiments": [
            {"locations": np.array([[50.0, 50.0]]), "map": None},
            {"locations": np.zeros((0, 2)), "map": heat},
        ],
    }
    picture = np.asarray(sample_picture(sample)).astype(int)
    assert picture[50, 50, 0] > 200 and picture[50, 50, 1] < 100  # the red dot at (x, y) = (50, 50)
    assert picture[24, 24, 0] > 100 and picture[24, 24, 1] < 50  # the map is hot there (scaled 4x)
    assert (picture[60, 5] == 50).all()  # cold and far from the point: unchanged
    with pytest.raises(ValueError, match="N x 2"):
        overlay_fixations(PIL.fromarray(plain()), points=np.zeros(3))


def test_arrays_are_scaled_for_display():
    floats = np.linspace(-1.0, 3.0, 16 * 16, dtype=np.float32).reshape(16, 16)
    picture = np.asarray(to_display_image(floats))
    assert picture.min() == 0 and picture.max() == 255
    channel_first = np.zeros((3, 8, 10), dtype=np.uint16)
    channel_first[0] = 1000
    shown = np.asarray(to_display_image(channel_first))
    assert shown.shape == (8, 10, 3)
    assert (shown[..., 0] == 255).all() and (shown[..., 1] == 0).all()
    assert np.asarray(to_display_image(np.ones((4, 4), dtype=bool))).min() == 255
    with pytest.raises(ValueError, match="cannot show"):
        to_display_image(np.zeros((2, 2, 7)))
    with pytest.raises(ValueError, match="cannot decode"):
        to_display_image(b"not an image")


def test_sample_without_image_gets_an_empty_cell():
    assert sample_picture({"key": "x", "label": 1}) is None
    sheet = contact_sheet([{"key": "x", "label": 1}], cell_size=20)
    assert sheet.size == sheet_size(1, 1, 20)


def write(path, samples):
    with FileWriter(path, progress=False) as writer:
        for sample in samples:
            writer.write(sample)
    return path


def test_preview_writes_a_png_of_the_chosen_samples(tmp_path):
    data = write(
        tmp_path / "d.msgpack", [{"key": f"k{i}", "image": plain(i * 20, size=8), "label": i} for i in range(6)]
    )
    out = preview(data, tmp_path / "sheet.png", 4, cell_size=24, progress=False)
    with PIL.open(out) as image:
        assert image.format == "PNG" and image.size == sheet_size(4, 2, 24)
    picked = preview(data, tmp_path / "two.png", keys=["k5", "k1"], columns=2, cell_size=24, progress=False)
    with PIL.open(picked) as image:
        pixels = np.asarray(image.convert("RGB"))
    assert (pixels[PADDING + 12, PADDING + 12] == 100).all()  # k5 first: 5 * 20
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".part") == []


def test_preview_errors(tmp_path):
    data = write(tmp_path / "d.msgpack", [{"key": "a", "value": 1}])
    with pytest.raises(ValueError, match="none of the 1 samples holds an image"):
        preview(data, tmp_path / "x.png", progress=False)
    assert not (tmp_path / "x.png").exists()
    with pytest.raises(KeyError, match="no sample with key 'b'"):
        preview(data, tmp_path / "x.png", keys=["b"], progress=False)
    (tmp_path / "taken.png").write_bytes(b"old")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        preview(data, tmp_path / "taken.png", progress=False)
    with pytest.raises(ValueError, match="count"):
        preview(data, tmp_path / "y.png", 0, progress=False)
