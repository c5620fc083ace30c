"""RIT18_write: the train mosaic whole, the val mosaic in tiles (edge tiles kept), arrays unchanged."""

from __future__ import annotations

import os

import numpy as np
import pytest
from scipy.io import savemat

from dings.readers import MsgpackReader
from dings.sets import RIT18, RIT18_write, get
from dings.tools import ChecksumMismatchError


def make_rit18(indir, val_shape=(20, 30), seed=0, **overrides):
    """Write ``indir/rit18_data.mat`` with the real variable names; return the variables."""
    rng = np.random.default_rng(seed)
    content = {
        "train_data": rng.integers(0, 65536, size=(7, 10, 12), dtype=np.uint16),
        "train_labels": rng.integers(0, 19, size=(10, 12), dtype=np.uint8),
        "val_data": rng.integers(0, 65536, size=(7, *val_shape), dtype=np.uint16),
        "val_labels": rng.integers(0, 19, size=val_shape, dtype=np.uint8),
        "test_data": rng.integers(0, 65536, size=(7, 5, 5), dtype=np.uint16),
        "band_centers": np.array([490, 550, 680, 720, 800, 900], dtype=np.float64),
        "sensor": "Tetracam Micro-MCA6",
        "classes": np.array(RIT18.CLASSES, dtype=object),
    }
    content["train_data"][6] = rng.integers(0, 2, size=(10, 12))
    content["val_data"][6] = rng.integers(0, 2, size=val_shape)
    content.update(overrides)
    indir.mkdir(parents=True, exist_ok=True)
    savemat(indir / "rit18_data.mat", content)
    return content


def convert(indir, outdir, *extra):
    return RIT18_write.main([str(indir), "-o", str(outdir), "-s", "-q", *extra])


def read(path):
    with MsgpackReader(path) as reader:
        return list(reader)


def test_train_is_one_whole_sample_with_bands_labels_and_mask(tmp_path):
    source = make_rit18(tmp_path / "in")
    outputs = convert(tmp_path / "in", tmp_path / "out", "--tile-size", "8")
    assert [p.name for p in outputs.written] == ["train.msgpack", "val.msgpack"]
    [sample] = read(tmp_path / "out" / "train.msgpack")
    assert set(sample) == {"key", "image", "label_image", "mask"} and sample["key"] == "train"
    assert sample["image"].dtype == np.uint16 and sample["image"].shape == (6, 10, 12)
    assert np.array_equal(sample["image"], source["train_data"][:6])
    assert sample["label_image"].dtype == np.int64
    assert np.array_equal(sample["label_image"], source["train_labels"])
    assert sample["mask"].dtype == np.uint8 and np.array_equal(sample["mask"], source["train_data"][6])


def test_val_tiles_cover_the_grid_row_by_row_with_smaller_edge_tiles(tmp_path):
    source = make_rit18(tmp_path / "in", val_shape=(20, 30))
    convert(tmp_path / "in", tmp_path / "out", "--tile-size", "8")
    samples = read(tmp_path / "out" / "val.msgpack")
    # 20x30 with 8x8 tiles: 3 rows x 4 columns, the last row 4 px high, the last column 6 px wide
    assert [s["key"] for s in samples] == [f"val_{i}" for i in range(12)]
    heights, widths = [8, 8, 4], [8, 8, 8, 6]
    for idx, sample in enumerate(samples):
        row, col = divmod(idx, 4)
        y, x = row * 8, col * 8
        shape = (heights[row], widths[col])
        assert sample["image"].shape == (6, *shape) and sample["image"].dtype == np.uint16
        assert np.array_equal(sample["image"], source["val_data"][:6, y : y + 8, x : x + 8])
        assert sample["label_image"].dtype == np.int64
        assert np.array_equal(sample["label_image"], source["val_labels"][y : y + 8, x : x + 8])
        assert sample["mask"].dtype == np.uint8
        assert np.array_equal(sample["mask"], source["val_data"][6, y : y + 8, x : x + 8])
    # every val pixel is in exactly one tile
    assert sum(s["label_image"].size for s in samples) == 20 * 30


def test_default_tile_size_is_384(tmp_path):
    make_rit18(tmp_path / "in", val_shape=(390, 400))
    outputs = convert(tmp_path / "in", tmp_path / "out")
    samples = read(tmp_path / "out" / "val.msgpack")
    assert [(s["key"], s["label_image"].shape) for s in samples] == [
        ("val_0", (384, 384)),
        ("val_1", (384, 16)),
        ("val_2", (6, 384)),
        ("val_3", (6, 16)),
    ]
    assert outputs.written[-1].name == "val.msgpack"


def test_catalog_entry_and_metadata():
    info = get("rit-18")
    assert info is RIT18.INFO and info.extra == "remote-sensing"
    assert [(s.name, s.samples) for s in info.splits] == [("train", 1), ("val", 456)]
    assert info.sources[0].md5 == "783ffe651310352e9c09b8ac389876c7"
    assert len(RIT18.CLASSES) == 19 and RIT18.CLASSES[3] == "3. Building"
    assert RIT18.CLASSES[-1] == "18. Asphalt (Parking Lot/Walkway)"
    assert set(info.sample_keys) == {"key", "image", "label_image", "mask"}


def test_missing_variable_is_named_and_nothing_is_written(tmp_path):
    indir = tmp_path / "in"
    indir.mkdir()
    savemat(indir / "rit18_data.mat", {"train_data": np.zeros((7, 4, 4), np.uint16)})
    with pytest.raises(ValueError, match=r"rit18_data.mat: variable 'train_labels' is missing"):
        convert(indir, tmp_path / "out")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_wrong_band_count_and_mismatched_labels_are_errors(tmp_path):
    make_rit18(tmp_path / "a", train_data=np.zeros((6, 10, 12), np.uint16))
    with pytest.raises(ValueError, match=r"train_data must have shape \(7, H, W\), got \(6, 10, 12\)"):
        convert(tmp_path / "a", tmp_path / "out")
    make_rit18(tmp_path / "b", val_labels=np.zeros((20, 31), np.uint8))
    with pytest.raises(ValueError, match=r"val_labels must have shape \(20, 30\)"):
        convert(tmp_path / "b", tmp_path / "out2", "--tile-size", "8")
    # the train split was complete before val failed; val left nothing behind
    assert sorted(p.name for p in (tmp_path / "out2").iterdir() if "val" in p.name) == []


def test_mask_values_that_do_not_fit_uint8_are_an_error(tmp_path):
    data = np.zeros((7, 10, 12), np.uint16)
    data[6, 0, 0] = 300
    make_rit18(tmp_path / "in", train_data=data)
    with pytest.raises(ValueError, match=r"band 7 \(mask\): values from 0 to 300 do not fit uint8"):
        convert(tmp_path / "in", tmp_path / "out")


def test_hdf5_mat_and_garbage_are_clear_errors(tmp_path):
    indir = tmp_path / "in"
    indir.mkdir()
    (indir / "rit18_data.mat").write_bytes(b"MATLAB 7.3 MAT-file".ljust(512, b" ") + b"\x89HDF\r\n\x1a\n" + bytes(64))
    with pytest.raises(ValueError, match=r"rit18_data.mat: a MATLAB v7.3 \(HDF5\) file"):
        convert(indir, tmp_path / "out")
    (indir / "rit18_data.mat").write_bytes(b"not a mat file at all" * 10)
    with pytest.raises(ValueError, match=r"rit18_data.mat: not a readable MATLAB .mat file"):
        convert(indir, tmp_path / "out")


def test_missing_file_is_downloaded_from_the_catalog_url_and_verified(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(
        "dings.tools.sources.download", lambda url, path, **kw: calls.append(url) or path.write_bytes(b"x")
    )
    (tmp_path / "in").mkdir()
    with pytest.raises(ChecksumMismatchError, match="rit18_data.mat: md5 mismatch"):
        RIT18_write.main([str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-q"])
    assert calls == ["http://www.cis.rit.edu/~rmk6217/rit18_data.mat"]
    assert not (tmp_path / "out").exists()


def test_output_is_byte_identical_to_datadings(tmp_path, monkeypatch):
    reference = pytest.importorskip("datadings.sets.RIT18_write", reason="datadings 3.4.7 is the test oracle")
    make_rit18(tmp_path / "in", val_shape=(20, 30))
    monkeypatch.setattr(reference.write_sets, "__defaults__", ((8, 8),))  # its tile size
    monkeypatch.setattr("sys.argv", ["RIT18_write", str(tmp_path / "in"), "-o", str(tmp_path / "ref"), "-s", "-y"])
    reference.main()
    convert(tmp_path / "in", tmp_path / "ours", "--tile-size", "8")
    for name in ("train.msgpack", "val.msgpack"):
        assert (tmp_path / "ours" / name).read_bytes() == (tmp_path / "ref" / name).read_bytes()
