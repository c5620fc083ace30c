"""CAT2000_write crops the stimulus border, scales to 1024 px and moves the fixations along."""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

from dings.readers import MsgpackReader
from dings.sets import CAT2000_write, get
from dings.sets.CAT2000_write import content_box, fixation_member, is_stimulus

from .mit_fixtures import CAT2000_FIXATED, make_cat2000, mat_bytes, write_zip


def convert(indir, outdir, *extra):
    return CAT2000_write.main([str(indir), "-o", str(outdir), "-s", "-q", *extra])


def read(path):
    with MsgpackReader(path) as reader:
        return {s["key"]: s for s in reader}


def expected_picture(original: bytes, box: tuple[int, int, int, int], size: tuple[int, int]) -> np.ndarray:
    image = Image.open(io.BytesIO(original)).convert("RGB").crop(box)
    return np.asarray(image.resize(size, Image.Resampling.LANCZOS), dtype=np.float64)


def decoded(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.mode == "RGB" and JpegImagePlugin.get_sampling(image) == 0  # 4:4:4
    return np.asarray(image, dtype=np.float64)


def test_train_stimuli_are_cropped_scaled_and_their_fixations_moved(tmp_path):
    originals = make_cat2000(tmp_path / "in")
    outputs = convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    assert [p.name for p in outputs.written] == ["train.msgpack", "test.msgpack"]
    train = read(tmp_path / "out" / "train.msgpack")
    assert list(train) == ["Action/001.jpg", "Art/002.jpg", "Art/003.jpg"]
    for sample in train.values():
        assert set(sample) == {"key", "image", "experiments"}
        assert len(sample["experiments"]) == 1 and set(sample["experiments"][0]) == {"locations", "map"}
        assert sample["experiments"][0]["map"] is None

    # 64x48 with an 8 px border: the 48x32 picture is scaled by 1024/48 to 1024x683
    action = train["Action/001.jpg"]
    pixels = decoded(action["image"])
    assert pixels.shape == (683, 1024, 3)
    assert (
        np.abs(pixels - expected_picture(originals["train"]["Action/001.jpg"], (8, 8, 56, 40), (1024, 683))).mean() < 4
    )
    r = 1024 / 48
    kept = [(row, col) for row, col in CAT2000_FIXATED if (row, col) in ((8, 8), (10, 12), (39, 55))]
    want = np.array([[(col - 8) * r, (row - 8) * r] for row, col in kept], dtype=np.float32)
    locations = action["experiments"][0]["locations"]
    assert locations.dtype == np.float32
    assert np.array_equal(locations, want)  # border, left-of-picture and below-picture points dropped
    assert locations[0].tolist() == [0.0, 0.0]

    # 40x30 without border: whole image scaled by 25.6 to 1024x768; the corner fixation stays inside
    art = train["Art/002.jpg"]
    assert (
        np.abs(
            decoded(art["image"]) - expected_picture(originals["train"]["Art/002.jpg"], (0, 0, 40, 30), (1024, 768))
        ).mean()
        < 4
    )
    assert art["experiments"][0]["locations"].tolist() == [[np.float32(39 * 25.6), np.float32(29 * 25.6)]]
    # 16x24 without a fixation file: portrait, 683x1024, locations None
    assert decoded(train["Art/003.jpg"]["image"]).shape == (1024, 683, 3)
    assert train["Art/003.jpg"]["experiments"][0]["locations"] is None

    test = read(tmp_path / "out" / "test.msgpack")
    assert list(test) == ["Action/001.jpg"]
    assert decoded(test["Action/001.jpg"]["image"]).shape == (512, 1024, 3)  # 32x16 picture
    assert test["Action/001.jpg"]["experiments"] == [{"locations": None, "map": None}]


def test_output_is_identical_for_any_thread_count(tmp_path):
    make_cat2000(tmp_path / "in")
    convert(tmp_path / "in", tmp_path / "a", "--seed", "3", "-t", "1")
    convert(tmp_path / "in", tmp_path / "b", "--seed", "3", "-t", "2")
    for split in ("train", "test"):
        assert (tmp_path / "a" / f"{split}.msgpack").read_bytes() == (tmp_path / "b" / f"{split}.msgpack").read_bytes()


def test_selection_and_fixation_file_names():
    assert is_stimulus("trainSet/Stimuli/Action/001.jpg")
    assert not is_stimulus("trainSet/Stimuli/Action/Output/x.jpg")
    assert not is_stimulus("trainSet/FIXATIONMAPS/Action/001.jpg")
    assert not is_stimulus("__MACOSX/trainSet/Stimuli/Action/._001.jpg")
    assert fixation_member("trainSet/Stimuli/Action/001.jpg") == "trainSet/FIXATIONLOCS/Action/001.mat"


def test_content_box_uses_the_corner_colour_and_a_threshold_of_10():
    pixels = np.full((10, 12, 3), 50, np.uint8)
    pixels[3, 4] = (60, 50, 50)  # differs by exactly 10: border
    assert content_box(pixels) == (0, 0, 12, 10)  # uniform: whole image
    pixels[2, 5] = (50, 50, 61)
    pixels[7, 9] = (39, 50, 50)
    assert content_box(pixels) == (5, 2, 10, 8)


def test_a_broken_fixation_file_is_named_and_no_output_is_left(tmp_path):
    make_cat2000(tmp_path / "in")
    with zipfile.ZipFile(tmp_path / "in" / "trainSet.zip") as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members["trainSet/FIXATIONLOCS/Art/002.mat"] = mat_bytes({"fixations": np.zeros((2, 2))})
    write_zip(tmp_path / "in" / "trainSet.zip", members)
    with pytest.raises(
        ValueError, match=r"trainSet.zip:trainSet/FIXATIONLOCS/Art/002.mat: expected a variable fixLocs"
    ):
        convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    members["trainSet/Stimuli/Art/002.jpg"] = b"\xff\xd8 not really a jpeg"
    write_zip(tmp_path / "in" / "trainSet.zip", members)
    with pytest.raises(ValueError, match=r"trainSet.zip:trainSet/Stimuli/Art/002.jpg: decode_image: cannot decode"):
        convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_catalog_entry():
    info = get("CAT2000")
    assert [(s.name, s.md5) for s in info.sources] == [
        ("trainSet.zip", "56ad5c77e6c8f72ed9ef2901628d6e48"),
        ("testSet.zip", "903ec668df2e5a8470aef9d8654e7985"),
    ]
    assert [(s.filename, s.samples) for s in info.splits] == [("train.msgpack", 2000), ("test.msgpack", 2000)]
    assert any("Pillow" in d for d in info.differences)


def test_same_crop_scale_and_points_as_datadings_with_its_pillow_alias_restored(tmp_path):
    """datadings' CAT2000 converter needs ``Image.ANTIALIAS`` (gone since Pillow 10); with the alias put
    back it runs, and its output differs from ours only as listed in INFO.differences."""
    pytest.importorskip("datadings")
    pytest.importorskip("simplejpeg")
    import subprocess
    import sys

    from datadings.reader import MsgpackReader as ReferenceReader

    make_cat2000(tmp_path / "in", clutter=False)
    shim = (
        "import PIL.Image as I; I.ANTIALIAS = I.Resampling.LANCZOS; import runpy; "
        "runpy.run_module('datadings.sets.CAT2000_write', run_name='__main__')"
    )
    subprocess.run(
        [sys.executable, "-c", shim, str(tmp_path / "in"), "-o", str(tmp_path / "ref"), "-s", "-y", "--shuffle", "no"],
        check=True,
        capture_output=True,
    )
    convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    for split in ("train", "test"):
        reference = list(ReferenceReader(str(tmp_path / "ref" / f"{split}.msgpack")))
        ours = list(read(tmp_path / "out" / f"{split}.msgpack").values())
        assert [s["key"] for s in reference] == [s["key"] for s in ours]
        for ref, sample in zip(reference, ours):
            a, b = decoded(ref["image"]), decoded(sample["image"])  # both 4:4:4 JPEG, quality 90
            assert a.shape == b.shape and np.abs(a - b).mean() < 1.5  # other JPEG codec, same picture
            want, got = ref["experiments"][0]["locations"], sample["experiments"][0]["locations"]
            if want is None:
                assert got is None
                continue
            height, width = b.shape[:2]
            inside = (want[:, 0] >= 0) & (want[:, 1] >= 0) & (want[:, 0] < width) & (want[:, 1] < height)
            # datadings also drops a fixation on the picture's top-left pixel, which lands on (0, 0)
            assert np.array_equal(got[(got != 0).any(axis=1)], want[inside].astype(np.float32))
            assert len(got) == inside.sum() + (sample["key"] == "Action/001.jpg")
