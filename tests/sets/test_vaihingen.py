"""Vaihingen_write: whole train areas, val areas in tiles (edge tiles kept), colour labels to class ids, DSM."""

from __future__ import annotations

import os

import numpy as np
import pytest

from dings.readers import MsgpackReader
from dings.sets import Vaihingen, Vaihingen_write, get
from dings.tools import MissingSourceFileError

from .vaihingen_fixtures import make_vaihingen, tifffile

ROOT = "ISPRS_semantic_labeling_Vaihingen"


def convert(indir, outdir, *extra):
    return Vaihingen_write.main([str(indir), "-o", str(outdir), "-q", *extra])


def read(path):
    with MsgpackReader(path) as reader:
        return list(reader)


def test_train_areas_are_whole_samples_with_class_ids_and_truncated_dsm(tmp_path):
    expected = make_vaihingen(tmp_path / "in")
    outputs = convert(tmp_path / "in", tmp_path / "out", "--tile-size", "8")
    assert [p.name for p in outputs.written] == ["Vaihingen_train.msgpack", "Vaihingen_val.msgpack"]
    samples = read(tmp_path / "out" / "Vaihingen_train.msgpack")
    assert [s["key"] for s in samples] == [f"top_mosaic_09cm_area{a}.tif" for a in Vaihingen.TRAIN_AREAS]
    for area, sample in zip(Vaihingen.TRAIN_AREAS, samples):
        source = expected[area]
        assert set(sample) == {"key", "image", "label_image", "mask"}
        assert sample["image"].dtype == np.uint8 and np.array_equal(sample["image"], source["image"])
        assert sample["label_image"].dtype == np.int64 and np.array_equal(sample["label_image"], source["classes"])
        assert sample["mask"].dtype == np.int32
        assert np.array_equal(sample["mask"], np.trunc(source["dsm"]).astype(np.int32))
        assert tuple(sample["mask"][1, 1:3]) == (0, 2)  # truncated towards zero, not floored or rounded


def test_val_areas_are_tiled_row_by_row_with_smaller_edge_tiles(tmp_path):
    expected = make_vaihingen(tmp_path / "in")
    convert(tmp_path / "in", tmp_path / "out", "--tile-size", "8")
    samples = read(tmp_path / "out" / "Vaihingen_val.msgpack")
    # 20x30 with 8x8 tiles: 3 rows x 4 columns per area, the last row 4 px high, the last column 6 px wide
    assert [s["key"] for s in samples] == [
        f"top_mosaic_09cm_area{a}.tif_{i}" for a in Vaihingen.VAL_AREAS for i in range(12)
    ]
    for n, sample in enumerate(samples):
        area = Vaihingen.VAL_AREAS[n // 12]
        row, col = divmod(n % 12, 4)
        window = (slice(row * 8, row * 8 + 8), slice(col * 8, col * 8 + 8))
        assert sample["label_image"].shape == ((8, 8, 4)[row], (8, 8, 8, 6)[col])
        assert np.array_equal(sample["image"], expected[area]["image"][(slice(None), *window)])
        assert np.array_equal(sample["label_image"], expected[area]["classes"][window])
        assert np.array_equal(sample["mask"], np.trunc(expected[area]["dsm"][window]).astype(np.int32))


def test_default_tile_size_gives_one_tile_per_small_area(tmp_path):
    make_vaihingen(tmp_path / "in")
    convert(tmp_path / "in", tmp_path / "out")
    samples = read(tmp_path / "out" / "Vaihingen_val.msgpack")
    assert [(s["key"], s["image"].shape) for s in samples] == [
        (f"top_mosaic_09cm_area{a}.tif_0", (3, 20, 30)) for a in Vaihingen.VAL_AREAS
    ]


def test_area_options_float_dsm_and_datadings_dsm_names(tmp_path):
    expected = make_vaihingen(tmp_path / "in", areas=(5, 11), dsm_name="dsm_mosaic_09cm_area{area}.tif")
    convert(tmp_path / "in", tmp_path / "out", "--train-areas", "5", "--val-areas", "11", "--dsm-dtype", "float32")
    [train] = read(tmp_path / "out" / "Vaihingen_train.msgpack")
    assert train["key"] == "top_mosaic_09cm_area5.tif"
    assert train["mask"].dtype == np.float32 and np.array_equal(train["mask"], expected[5]["dsm"])
    assert [s["key"] for s in read(tmp_path / "out" / "Vaihingen_val.msgpack")] == ["top_mosaic_09cm_area11.tif_0"]


def test_catalog_entry_and_metadata():
    info = get("isprs-vaihingen")
    assert info is Vaihingen.INFO and info.domain == "remote-sensing" and info.extra == "remote-sensing"
    assert [s.filename for s in info.splits] == ["Vaihingen_train.msgpack", "Vaihingen_val.msgpack"]
    assert info.splits[0].samples == 11 and info.sources[0].manual
    assert Vaihingen.CLASSES[0] == "Impervious surfaces" and len(Vaihingen.CLASSES) == 6
    assert Vaihingen.COLOR_TO_CLASS_MAP[(0, 0, 255)] == 1 and Vaihingen.COLOR_TO_CLASS_MAP[(0, 0, 0)] == 6
    assert sorted(Vaihingen.TRAIN_AREAS + Vaihingen.VAL_AREAS) == [
        1,
        3,
        5,
        7,
        11,
        13,
        15,
        17,
        21,
        23,
        26,
        28,
        30,
        32,
        34,
        37,
    ]


def test_missing_folder_says_how_to_obtain_it(tmp_path):
    (tmp_path / "in").mkdir()
    with pytest.raises(MissingSourceFileError, match=r"must be downloaded by hand: request the data"):
        convert(tmp_path / "in", tmp_path / "out")


def test_missing_dsm_names_both_file_names_and_leaves_no_output(tmp_path):
    make_vaihingen(tmp_path / "in", areas=(1, 3))
    (tmp_path / "in" / ROOT / "dsm" / "dsm_09cm_matching_area3.tif").unlink()
    with pytest.raises(
        FileNotFoundError, match=r"dsm_09cm_matching_area3.tif: missing \(also looked for dsm_mosaic_09cm_area3.tif\)"
    ):
        convert(tmp_path / "in", tmp_path / "out", "--train-areas", "1", "3", "--val-areas", "1")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_bad_rasters_are_clear_errors(tmp_path):
    make_vaihingen(tmp_path / "in", areas=(1,))
    root = tmp_path / "in" / ROOT
    args = ("--train-areas", "1", "--val-areas", "1")
    tifffile.imwrite(root / "dsm" / "dsm_09cm_matching_area1.tif", np.zeros((20, 31), np.float32))
    with pytest.raises(
        ValueError, match=r"dsm_09cm_matching_area1.tif: size \(20, 31\) differs from the orthophoto's \(20, 30\)"
    ):
        convert(tmp_path / "in", tmp_path / "out", *args)
    tifffile.imwrite(root / "dsm" / "dsm_09cm_matching_area1.tif", np.full((20, 30), np.nan, np.float32))
    with pytest.raises(ValueError, match=r"the DSM has NaN or infinite heights"):
        convert(tmp_path / "in", tmp_path / "out", *args)
    tifffile.imwrite(root / "gts_for_participants" / "top_mosaic_09cm_area1.tif", np.zeros((20, 30), np.uint8))
    with pytest.raises(
        ValueError, match=r"gts_for_participants/top_mosaic_09cm_area1.tif: expected a 3-band uint8 colour-coded"
    ):
        convert(tmp_path / "in", tmp_path / "out", *args)
    (root / "top" / "top_mosaic_09cm_area1.tif").write_bytes(b"II*\x00garbage")
    with pytest.raises(ValueError, match=r"top_mosaic_09cm_area1.tif: not a readable TIFF"):
        convert(tmp_path / "in", tmp_path / "out", *args)
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_output_is_byte_identical_to_datadings_with_a_tifffile_band_reader(tmp_path, monkeypatch):
    """The oracle reads TIFFs with GDAL (not installed): stand in a band-first tifffile reader for it."""
    reference = pytest.importorskip("datadings.sets.Vaihingen_write", reason="datadings 3.4.7 is the test oracle")

    def bands(path, type=np.uint8):
        array = tifffile.imread(path)
        return (array.transpose(2, 0, 1) if array.ndim == 3 else array[np.newaxis]).astype(type)

    make_vaihingen(tmp_path / "in", shape=(20, 30), dsm_name="dsm_mosaic_09cm_area{area}.tif")
    monkeypatch.setattr(reference.write_sets, "__defaults__", ((8, 8),))  # its crop size
    monkeypatch.setattr(reference, "tiff_to_nd_array", bands)
    monkeypatch.setattr("sys.argv", ["Vaihingen_write", str(tmp_path / "in"), "-o", str(tmp_path / "ref"), "-y"])
    reference.main()
    convert(tmp_path / "in", tmp_path / "ours", "--tile-size", "8")
    for name in ("Vaihingen_train.msgpack", "Vaihingen_val.msgpack"):
        assert (tmp_path / "ours" / name).read_bytes() == (tmp_path / "ref" / name).read_bytes()
