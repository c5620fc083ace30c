"""FIGRIMFixation_write turns the image zips and allImages .mat files into target/filler datasets."""

from __future__ import annotations

import os
import zipfile

import numpy as np
import pytest
import scipy.io

from dings.readers import MsgpackReader
from dings.sets import FIGRIMFixation_write, get
from dings.sets.FIGRIMFixation import INFO
from dings.sets.converter import converter_parser

from .figrim_fixtures import make_figrim


def convert(indir, outdir, *extra):
    return FIGRIMFixation_write.main([str(indir), "-o", str(outdir), "-s", "-q", *extra])


def read(path):
    with MsgpackReader(path) as reader:
        return list(reader)


def test_every_sample_has_the_image_and_three_experiments_per_participant(tmp_path):
    expected = make_figrim(tmp_path / "in")
    outputs = convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    assert [p.name for p in outputs.written] == ["target.msgpack", "filler.msgpack"]
    for split, images in expected.items():
        samples = read(tmp_path / "out" / f"{split}.msgpack")
        # zip order; sun_b is not in the .mat, sun_only_in_mat is not in the zip, readme.txt is no image
        assert [s["key"] for s in samples] == list(images)
        with zipfile.ZipFile(tmp_path / "in" / ("Targets.zip" if split == "target" else "Fillers.zip")) as z:
            for sample in samples:
                assert set(sample) == {"key", "image", "experiments"}
                assert sample["image"] == z.read(sample["key"])
                experiments = sample["experiments"]
                assert len(experiments) == len(images[sample["key"]])
                for experiment, locations in zip(experiments, images[sample["key"]]):
                    assert set(experiment) == {"locations", "map"} and experiment["map"] is None
                    assert experiment["locations"].dtype == np.float32
                    assert experiment["locations"].shape == locations.shape  # (n, 2), (0, 2) when empty
                    assert np.array_equal(experiment["locations"], locations)
    target = read(tmp_path / "out" / "target.msgpack")
    assert [e["locations"].shape for e in target[0]["experiments"]] == [(3, 2), (2, 2), (0, 2), (1, 2), (4, 2), (2, 2)]
    filler = read(tmp_path / "out" / "filler.msgpack")
    assert [e["locations"].shape[0] for e in filler[0]["experiments"]] == [3, 0, 0, 1, 0, 0]


def test_shuffle_is_seeded(tmp_path):
    expected = make_figrim(tmp_path / "in", extra=6)
    convert(tmp_path / "in", tmp_path / "a", "--seed", "1")
    convert(tmp_path / "in", tmp_path / "b", "--seed", "1")
    convert(tmp_path / "in", tmp_path / "c", "--seed", "2")
    data = {d: (tmp_path / d / "target.msgpack").read_bytes() for d in "abc"}
    assert data["a"] == data["b"] != data["c"]
    for split in ("target", "filler"):
        keys = [x["key"] for x in read(tmp_path / "a" / f"{split}.msgpack")]
        assert sorted(keys) == sorted(expected[split]) and keys != list(expected[split])


def test_a_broken_mat_file_is_a_clear_error_and_leaves_no_output(tmp_path):
    make_figrim(tmp_path / "in")
    (tmp_path / "in" / "allImages_release.mat").write_bytes(b"MATLAB 5.0 MAT-file, but then garbage")
    with pytest.raises(ValueError, match=r"allImages_release.mat: not a readable MATLAB .mat file"):
        convert(tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_a_mat_file_without_allimages_or_fields_is_refused(tmp_path):
    make_figrim(tmp_path / "in")
    scipy.io.savemat(tmp_path / "in" / "allImages_release.mat", {"other": np.zeros((2, 2))})
    with pytest.raises(ValueError, match=r"allImages_release.mat: no variable 'allImages'"):
        convert(tmp_path / "in", tmp_path / "out")
    broken = np.empty((1, 1), dtype=[("filename", object), ("impath", object), ("userdata", object)])
    broken[0, 0] = ("sun_a.jpg", "Targets/cat1/sun_a.jpg", np.empty((1, 1), dtype=[("fixations", object)]))
    broken[0, 0]["userdata"][0, 0]["fixations"] = np.empty((1, 1), dtype=[("enc", object)])
    broken[0, 0]["userdata"][0, 0]["fixations"][0, 0]["enc"] = np.ones((2, 2))
    scipy.io.savemat(tmp_path / "in" / "allImages_release.mat", {"allImages": broken})
    with pytest.raises(ValueError, match=r"sun_a.jpg: userdata\(1\).fixations lacks the field 'rec'"):
        convert(tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out" / "target.msgpack").exists()


def test_catalog_entry():
    assert get("figrim") is INFO
    assert [s.name for s in INFO.splits] == ["target", "filler"]
    assert {s.name for s in INFO.sources} == {
        "Targets.zip",
        "allImages_release.mat",
        "Fillers.zip",
        "allImages_fillers.mat",
    }
    assert all(not s.manual and len(s.md5) == 32 for s in INFO.sources)
    help_text = converter_parser(INFO).format_help()
    assert "(0, 2)" in help_text and "--shuffle" in help_text
