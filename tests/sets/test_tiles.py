"""The remote-sensing helpers: band-first TIFF reading, one tile grid per scene, checked casts (colour labels: test_segmentation_helpers)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from dings.sets.remote_sensing._tiles import cast_checked, grid_shape, grid_tiles, read_tiff
from dings.sets.extras import MissingExtraError

tifffile = pytest.importorskip("tifffile", reason="tifffile (extra remote-sensing) is needed to write TIFF fixtures")


def test_read_tiff_is_band_first_for_every_layout(tmp_path):
    rgb = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    tifffile.imwrite(tmp_path / "contig.tif", rgb, photometric="rgb")
    tifffile.imwrite(tmp_path / "planar.tif", rgb.transpose(2, 0, 1), photometric="rgb", planarconfig="separate")
    tifffile.imwrite(tmp_path / "gray.tif", rgb[..., 0].astype(np.float32))
    assert np.array_equal(read_tiff(tmp_path / "contig.tif", "X"), rgb.transpose(2, 0, 1))
    assert np.array_equal(read_tiff(tmp_path / "planar.tif", "X"), rgb.transpose(2, 0, 1))
    gray = read_tiff(tmp_path / "gray.tif", "X")
    assert gray.shape == (1, 4, 5) and gray.dtype == np.float32 and np.array_equal(gray[0], rgb[..., 0])


def test_read_tiff_errors_name_the_file_and_the_extra(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match=r"nope.tif: missing; the X converter needs it"):
        read_tiff(tmp_path / "nope.tif", "X")
    (tmp_path / "bad.tif").write_bytes(b"MM\x00*broken")
    with pytest.raises(ValueError, match=r"bad.tif: not a readable TIFF"):
        read_tiff(tmp_path / "bad.tif", "X")
    # further pages (GeoTIFF overviews) are ignored: the first page is the raster
    tifffile.imwrite(tmp_path / "pages.tif", np.arange(2 * 4 * 5, dtype=np.uint8).reshape(2, 4, 5))
    assert np.array_equal(read_tiff(tmp_path / "pages.tif", "X"), np.arange(20, dtype=np.uint8).reshape(1, 4, 5))
    monkeypatch.setitem(sys.modules, "tifffile", None)
    with pytest.raises(
        MissingExtraError, match=r'the X converter needs .tifffile.*pip install "dings-sets\[remote-sensing\]"'
    ):
        read_tiff(tmp_path / "bad.tif", "X")


def test_grid_tiles_share_one_grid_and_count_dropped_cells():
    image = np.arange(2 * 20 * 30).reshape(2, 20, 30)
    labels = image[0] * 10
    assert grid_shape(20, 30, 8) == (3, 4) and grid_shape(16, 16, 8) == (2, 2)
    kept = list(grid_tiles([image, labels], 8, keep_edges=True))
    assert [idx for idx, _ in kept] == list(range(12))
    for idx, (tile, label) in kept:
        y, x = divmod(idx, 4)
        assert np.array_equal(tile, image[:, y * 8 : y * 8 + 8, x * 8 : x * 8 + 8])
        assert np.array_equal(label, labels[y * 8 : y * 8 + 8, x * 8 : x * 8 + 8])
        assert tile.flags.c_contiguous
    dropped = list(grid_tiles([image, labels], 8, keep_edges=False))
    assert [idx for idx, _ in dropped] == [0, 1, 2, 4, 5, 6]
    assert all(t.shape == (2, 8, 8) and l.shape == (8, 8) for _, (t, l) in dropped)
    with pytest.raises(ValueError, match=r"rasters of one scene differ in size"):
        list(grid_tiles([image, labels[:, :29]], 8))


def test_cast_checked_refuses_to_wrap_or_round():
    assert cast_checked(np.array([0, 255], np.uint16), np.uint8, "m").dtype == np.uint8
    assert cast_checked(np.array([-2.0, 7.0]), np.int32, "h").tolist() == [-2, 7]
    with pytest.raises(ValueError, match=r"m: values from 0 to 256 do not fit uint8"):
        cast_checked(np.array([0, 256], np.uint16), np.uint8, "m")
    with pytest.raises(ValueError, match=r"h: values from .* do not fit int32"):
        cast_checked(np.array([0.5]), np.int32, "h")
