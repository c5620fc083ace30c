"""cat and the rendering helpers: abbreviated strings/bytes, image sniffing, arrays, nesting."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest

from dings.tools import ImageInfo, cat, render_sample, render_value, sniff_image

Image = pytest.importorskip("PIL.Image", reason="Pillow builds the test images (installed in the dev env)")


def encode(
    fmt: str, size: tuple[int, int] = (37, 21), mode: str = "RGB", color: tuple = (10, 200, 30), **options
) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "name", "options"),
    [
        ("JPEG", "JPEG", {}),
        ("JPEG", "JPEG", {"progressive": True}),
        ("PNG", "PNG", {}),
        ("GIF", "GIF", {}),
        ("BMP", "BMP", {}),
        ("TIFF", "TIFF", {}),
        ("WEBP", "WebP", {}),
        ("WEBP", "WebP", {"lossless": True}),
    ],
)
def test_sniff_reads_format_and_size_from_pillow_images(fmt, name, options):
    assert sniff_image(encode(fmt, **options)) == ImageInfo(name, 37, 21)


def test_sniff_skips_jpeg_segments_before_the_frame_header():
    exif = Image.Exif()
    exif[0x010E] = "x" * 5000  # ImageDescription: a large APP1 segment before SOF
    data = encode("JPEG", (640, 480), exif=exif.tobytes())
    assert data.index(b"\xff\xc0") > 5000
    assert sniff_image(data) == ImageInfo("JPEG", 640, 480)


def test_sniff_webp_with_alpha_uses_the_extended_header():
    data = encode("WEBP", (300, 7), mode="RGBA", color=(10, 200, 30, 128))
    assert data[12:16] == b"VP8X"
    assert sniff_image(data) == ImageInfo("WebP", 300, 7)


def test_sniff_big_endian_tiff_and_bigtiff_built_by_hand():
    # classic TIFF, big-endian: IFD at 8 with ImageWidth (SHORT) and ImageLength (LONG)
    classic = b"MM\x00\x2a" + (8).to_bytes(4, "big") + (2).to_bytes(2, "big")
    classic += (
        (256).to_bytes(2, "big") + (3).to_bytes(2, "big") + (1).to_bytes(4, "big") + (513).to_bytes(2, "big") + b"\0\0"
    )
    classic += (257).to_bytes(2, "big") + (4).to_bytes(2, "big") + (1).to_bytes(4, "big") + (70000).to_bytes(4, "big")
    assert sniff_image(classic) == ImageInfo("TIFF", 513, 70000)
    # BigTIFF, little-endian: 8-byte offsets and counts, LONG8 values
    big = b"II\x2b\x00" + (8).to_bytes(2, "little") + b"\0\0" + (16).to_bytes(8, "little") + (2).to_bytes(8, "little")
    big += (
        (256).to_bytes(2, "little")
        + (16).to_bytes(2, "little")
        + (1).to_bytes(8, "little")
        + (99).to_bytes(8, "little")
    )
    big += (
        (257).to_bytes(2, "little") + (3).to_bytes(2, "little") + (1).to_bytes(8, "little") + (12).to_bytes(8, "little")
    )
    assert sniff_image(big) == ImageInfo("TIFF", 99, 12)


def test_sniff_bmp_with_top_down_rows_reports_a_positive_height():
    header = b"BM" + (0).to_bytes(4, "little") + b"\0\0\0\0" + (54).to_bytes(4, "little")
    header += (
        (40).to_bytes(4, "little") + (12).to_bytes(4, "little", signed=True) + (-34).to_bytes(4, "little", signed=True)
    )
    assert sniff_image(header + b"\0" * 28) == ImageInfo("BMP", 12, 34)


def test_truncated_headers_give_the_format_without_a_size():
    assert sniff_image(encode("JPEG")[:30]) == ImageInfo("JPEG", None, None)
    assert sniff_image(encode("PNG")[:18]) == ImageInfo("PNG", None, None)


@pytest.mark.parametrize(
    "data", [b"", b"hello world", b"BM is not a bitmap without its header", b"\xff\xd8", bytes(range(256))]
)
def test_non_images_are_not_sniffed_as_images(data):
    assert sniff_image(data) is None


def test_sniff_accepts_memoryview_and_bytearray():
    data = encode("PNG")
    assert sniff_image(memoryview(data)) == sniff_image(bytearray(data)) == ImageInfo("PNG", 37, 21)


def test_render_value_cuts_long_strings_and_bytes_and_shows_their_length():
    text = render_value("x" * 500, maxstring=10)
    assert text == repr("x" * 10) + "… (500 chars)"
    assert render_value("short", maxstring=10) == "'short'"
    cut = render_value(b"\x01" * 300, maxstring=4)
    assert cut == repr(b"\x01" * 4) + "… (300 bytes)"
    assert render_value(b"ab", maxstring=4) == "b'ab'"


def test_render_value_shows_images_as_format_and_size():
    png = encode("PNG", (64, 48))
    assert render_value(png, maxstring=10) == f"<PNG image 64x48, {len(png)} bytes>"


def test_render_value_summarises_arrays_by_dtype_shape_min_max():
    assert render_value(np.array([[1, 5], [3, -2]], dtype=np.int32)) == "<ndarray int32 (2, 2) min=-2 max=5>"
    assert render_value(np.array([np.nan, 0.5, 2.0], dtype=np.float32)) == "<ndarray float32 (3,) min=0.5 max=2.0>"
    assert render_value(np.zeros((0, 3), dtype=np.uint8)) == "<ndarray uint8 (0, 3)>"
    assert render_value(np.array(["a", "bc"])) == "<ndarray <U2 (2,)>"
    assert render_value(np.float32(1.5)) == "1.5 (float32)"


def test_render_sample_indents_nested_maps_and_lists():
    sample = {
        "key": "a",
        "meta": {"source": "web", "size": {"w": 3, "h": 4}},
        "boxes": [{"x": 1, "y": 2}, {"x": 3, "y": 4}],
        "tags": ["cat", "dog"],
        "empty": {},
    }
    assert render_sample(sample) == "\n".join(
        [
            "key: 'a'",
            "meta:",
            "  source: 'web'",
            "  size:",
            "    w: 3",
            "    h: 4",
            "boxes:",
            "  - x: 1",
            "    y: 2",
            "  - x: 3",
            "    y: 4",
            "tags: ['cat', 'dog']",
            "empty: {}",
        ]
    )


def test_render_sample_abbreviates_long_lists():
    inline = render_sample({"key": "a", "values": list(range(100))}, max_items=5)
    assert inline.splitlines()[1] == "values: [0, 1, 2, 3, 4, … (100 items)]"
    block = render_sample({"key": "a", "rows": [[i] for i in range(30)]}, max_items=3)
    assert block.splitlines()[1:] == ["rows:", "  - [0]", "  - [1]", "  - [2]", "  … (27 more, 30 items)"]


def test_render_sample_refuses_negative_limits():
    with pytest.raises(ValueError, match="maxstring"):
        render_sample({"key": "a"}, maxstring=-1)


def test_cat_yields_one_rendering_per_sample(make_dataset, ds):
    png = encode("PNG", (5, 6))
    samples = [{"key": f"k{i}", "image": png, "text": "y" * (50 + i)} for i in range(4)]
    path = make_dataset(samples=samples)
    rendered = list(cat(path, maxstring=20))
    assert len(rendered) == 4
    for i, text in enumerate(rendered):
        assert text.splitlines() == [
            f"key: 'k{i}'",
            f"image: <PNG image 5x6, {len(png)} bytes>",
            f"text: {'y' * 20!r}… ({50 + i} chars)",
        ]
    assert [t.splitlines()[0] for t in cat(path, start=1, stop=3)] == ["key: 'k1'", "key: 'k2'"]


def test_cat_checks_its_arguments_before_iterating(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.msgpack"):
        cat(tmp_path / "missing.msgpack")
    with pytest.raises(ValueError, match="maxstring"):
        cat(tmp_path / "missing.msgpack", maxstring=-5)


def test_render_module_does_not_import_pillow():
    code = "import sys, dings.tools.render, dings.tools; sys.exit('PIL' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
