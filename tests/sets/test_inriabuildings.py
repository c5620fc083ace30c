"""InriaBuildings_write: whole train images, val/test tiles (edge tiles dropped, still counted), JPEG + 1-bit PNG."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

from dings.readers import MsgpackReader
from dings.sets import InriaBuildings, InriaBuildings_write, get
from dings.tools import MissingSourceFileError

from .inria_fixtures import make_inria, tifffile

SMALL = (
    "--locations",
    "vienna",
    "--ids",
    "1",
    "6",
    "--val-ids",
    "1",
    "--test-locations",
    "sfo",
    "--test-ids",
    "1",
    "--tile-size",
    "8",
)


def convert(indir, outdir, *extra):
    return InriaBuildings_write.main([str(indir), "-o", str(outdir), "-q", *extra])


def read(path):
    with MsgpackReader(path) as reader:
        return list(reader)


def jpeg(data, size):
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.mode, image.size) == ("JPEG", "RGB", size)
    assert JpegImagePlugin.get_sampling(image) == 0  # 4:4:4, as datadings' encoder
    return np.asarray(image).astype(int)


def label(data, size):
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.mode, image.size) == ("PNG", "1", size)
    return np.asarray(image)


@pytest.fixture
def source(tmp_path):
    return make_inria(tmp_path / "in", train={"vienna": [1, 6]}, test={"sfo": [1]})


def test_train_images_are_whole_with_jpeg_and_1bit_label(tmp_path, source):
    outputs = convert(tmp_path / "in", tmp_path / "out", *SMALL)
    assert [p.name for p in outputs.written] == ["train.msgpack", "val.msgpack", "test.msgpack"]
    [sample] = read(tmp_path / "out" / "train.msgpack")
    assert set(sample) == {"key", "image", "label_image"} and sample["key"] == "vienna6.tif"
    # one flat colour per 8x8 cell and no chroma subsampling: JPEG keeps it nearly exactly
    assert np.abs(jpeg(sample["image"], (30, 20)) - source["vienna6.tif"]["image"]).max() <= 3
    assert np.array_equal(label(sample["label_image"], (30, 20)), source["vienna6.tif"]["gt"] == 255)


def test_val_and_test_keep_full_tiles_only_and_count_dropped_ones_in_the_index(tmp_path, source):
    convert(tmp_path / "in", tmp_path / "out", *SMALL)
    # 20x30 with 8x8 tiles: a 3x4 grid whose last row and column are partial -> cells 0, 1, 2, 4, 5, 6
    kept = [0, 1, 2, 4, 5, 6]
    for split, name in (("val", "vienna1.tif"), ("test", "sfo1.tif")):
        samples = read(tmp_path / "out" / f"{split}.msgpack")
        assert [s["key"] for s in samples] == [f"{name}_{i}" for i in kept]
        for idx, sample in zip(kept, samples):
            row, col = divmod(idx, 4)
            window = (slice(row * 8, row * 8 + 8), slice(col * 8, col * 8 + 8))
            assert np.abs(jpeg(sample["image"], (8, 8)) - source[name]["image"][window]).max() <= 2
            if split == "val":
                assert set(sample) == {"key", "image", "label_image"}
                assert np.array_equal(label(sample["label_image"], (8, 8)), source[name]["gt"][window] == 255)
            else:
                assert set(sample) == {"key", "image"}


def test_edge_tiles_keep_writes_every_cell_smaller_at_the_edges(tmp_path, source):
    convert(tmp_path / "in", tmp_path / "out", *SMALL, "--edge-tiles", "keep")
    samples = read(tmp_path / "out" / "val.msgpack")
    assert [s["key"] for s in samples] == [f"vienna1.tif_{i}" for i in range(12)]
    for idx, sample in enumerate(samples):
        row, col = divmod(idx, 4)
        window = (slice(row * 8, row * 8 + 8), slice(col * 8, col * 8 + 8))
        size = ((8, 8, 8, 6)[col], (8, 8, 4)[row])
        assert np.abs(jpeg(sample["image"], size) - source["vienna1.tif"]["image"][window]).max() <= 2
        assert np.array_equal(label(sample["label_image"], size), source["vienna1.tif"]["gt"][window] == 255)


def test_output_is_identical_for_any_thread_count(tmp_path):
    make_inria(tmp_path / "in", train={"vienna": [1, 2, 6, 7], "austin": [1, 2, 6, 7]}, test={"sfo": [1, 2]})
    args = (
        "--locations",
        "vienna",
        "austin",
        "--ids",
        "1",
        "2",
        "6",
        "7",
        "--val-ids",
        "1",
        "2",
        "--test-locations",
        "sfo",
        "--test-ids",
        "1",
        "2",
        "--tile-size",
        "8",
    )
    convert(tmp_path / "in", tmp_path / "a", *args, "-t", "1")
    convert(tmp_path / "in", tmp_path / "b", *args, "-t", "2")
    for split in ("train", "val", "test"):
        assert (tmp_path / "a" / f"{split}.msgpack").read_bytes() == (tmp_path / "b" / f"{split}.msgpack").read_bytes()
    keys = [s["key"] for s in read(tmp_path / "a" / "train.msgpack")]
    assert keys == [
        "vienna6.tif",
        "vienna7.tif",
        "austin6.tif",
        "austin7.tif",
    ]  # locations in the order given, then ids
    assert len(read(tmp_path / "a" / "val.msgpack")) == 4 * 6


def test_catalog_entry_and_metadata():
    info = get("inria")
    assert info is InriaBuildings.INFO and info.extra == "remote-sensing"
    assert [(s.name, s.samples) for s in info.splits] == [("train", 155), ("val", 4225), ("test", 30420)]
    assert len(InriaBuildings.TRAIN_LOCATIONS) * (36 - len(InriaBuildings.VAL_IDS)) == 155
    # 5000 px = 13 full 384 px tiles + 8 px: 13 x 13 full tiles per image
    assert (
        len(InriaBuildings.TRAIN_LOCATIONS) * len(InriaBuildings.VAL_IDS) * (InriaBuildings.IMAGE_SIZE // 384) ** 2
        == 4225
    )
    assert InriaBuildings.CLASSES == ("background", "building") and info.sources[0].manual


def test_missing_folder_and_missing_image_are_clear_errors(tmp_path):
    (tmp_path / "in").mkdir()
    with pytest.raises(MissingSourceFileError, match=r"'AerialImageDataset' must be downloaded by hand: register"):
        convert(tmp_path / "in", tmp_path / "out", *SMALL)
    make_inria(tmp_path / "in", train={"vienna": [1, 6]}, test={})
    with pytest.raises(FileNotFoundError, match=r"test/images/sfo1.tif: missing"):
        convert(tmp_path / "in", tmp_path / "out", *SMALL)
    # train and val were complete; the failed test split left nothing
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.name.startswith("test")) == []


def test_bad_ground_truth_is_a_clear_error_and_leaves_no_output(tmp_path, source):
    gt = tmp_path / "in" / "AerialImageDataset" / "train" / "gt" / "vienna6.tif"
    tifffile.imwrite(gt, np.zeros((20, 31), np.uint8))
    with pytest.raises(ValueError, match=r"vienna6.tif: size \(20, 31\) differs from the image's \(20, 30\)"):
        convert(tmp_path / "in", tmp_path / "out", *SMALL, "-t", "2")
    tifffile.imwrite(gt, np.zeros((20, 30, 3), np.uint8), photometric="rgb")
    with pytest.raises(ValueError, match=r"vienna6.tif: expected a single-band ground truth, got 3 bands"):
        convert(tmp_path / "in", tmp_path / "out", *SMALL)
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_keys_labels_and_pixels_match_datadings(tmp_path, monkeypatch, source):
    """The oracle reads TIFFs with GDAL (not installed): stand in a band-first tifffile reader, and visit
    only the fixture's locations and image numbers of its hard-coded lists."""
    reference = pytest.importorskip("datadings.sets.InriaBuildings_write", reason="datadings 3.4.7 is the test oracle")
    visit = reference.images_and_labels_iter

    def bands(path, type=np.uint8):
        array = tifffile.imread(path)
        return (array.transpose(2, 0, 1) if array.ndim == 3 else array[np.newaxis]).astype(type)

    def fixture_only(img_dir, label_dir, locations, ids):
        present = [loc for loc in locations if loc in ("vienna", "sfo")]
        return visit(img_dir, label_dir, present, [n for n in ids if os.path.exists(f"{img_dir}/{present[0]}{n}.tif")])

    monkeypatch.setattr(reference, "tiff_to_nd_array", bands)
    monkeypatch.setattr(reference, "images_and_labels_iter", fixture_only)
    monkeypatch.setattr(reference.write_sets, "__defaults__", ((8, 8),))  # its tile size
    monkeypatch.setattr("sys.argv", ["InriaBuildings_write", str(tmp_path / "in"), "-o", str(tmp_path / "ref"), "-y"])
    reference.main()
    convert(tmp_path / "in", tmp_path / "ours", *SMALL)
    for split in ("train", "val", "test"):
        ours, theirs = read(tmp_path / "ours" / f"{split}.msgpack"), read(tmp_path / "ref" / f"{split}.msgpack")
        assert [s["key"] for s in ours] == [s["key"] for s in theirs] and ours
        for mine, ref in zip(ours, theirs):
            assert set(mine) == set(ref)
            size = Image.open(io.BytesIO(ref["image"])).size
            assert np.abs(jpeg(mine["image"], size) - jpeg(ref["image"], size)).max() <= 2
    # datadings' labels are wrong: it builds the mode "1" image from the bool array's bytes as if they were
    # packed bits; ours decode to the ground truth (checked above), theirs do not
    [mine], [ref] = read(tmp_path / "ours" / "train.msgpack"), read(tmp_path / "ref" / "train.msgpack")
    truth = source["vienna6.tif"]["gt"] == 255
    assert np.array_equal(label(mine["label_image"], (30, 20)), truth)
    assert not np.array_equal(label(ref["label_image"], (30, 20)), truth)
