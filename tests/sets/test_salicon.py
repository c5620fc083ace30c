"""SALICON2015_write / SALICON2017_write: one sample per COCO image with one time-series experiment per viewer."""

from __future__ import annotations

import os

import numpy as np
import pytest

from dings.readers import MsgpackReader
from dings.sets import SALICON2015_write, SALICON2017_write, get

from .mit_fixtures import mat_bytes, write_zip
from .salicon_fixtures import make_salicon

WRITERS = {"SALICON2015": SALICON2015_write, "SALICON2017": SALICON2017_write}


def convert(name, indir, outdir, *extra):
    return WRITERS[name].main([str(indir), "-o", str(outdir), "-s", "-q", *extra])


def read(path):
    with MsgpackReader(path) as reader:
        return list(reader)


@pytest.mark.parametrize("name", list(WRITERS))
def test_every_split_holds_its_images_and_every_viewers_gaze(tmp_path, name):
    expected = make_salicon(tmp_path / "in")
    outputs = convert(name, tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    assert [p.name for p in outputs.written] == ["train.msgpack", "val.msgpack", "test.msgpack"]
    for split, items in expected.items():
        samples = read(tmp_path / "out" / f"{split}.msgpack")
        assert [s["key"] for s in samples] == list(items)
        for sample in samples:
            item = items[sample["key"]]
            assert set(sample) == {"key", "image", "experiments"}
            assert sample["image"] == item["image"]
            observers = item["observers"] if isinstance(item["observers"], list) else []
            assert len(sample["experiments"]) == len(observers)
            for experiment, (location, timestamp, fixations) in zip(sample["experiments"], observers):
                assert set(experiment) == {"locations", "map", "timestamps", "fixations"}
                assert experiment["map"] is None
                for key, want, shape in (
                    ("locations", location, (-1, 2)),
                    ("timestamps", timestamp, (-1,)),
                    ("fixations", fixations, (-1, 2)),
                ):
                    assert experiment[key].dtype == np.float32
                    assert np.array_equal(experiment[key], want.astype(np.float32).reshape(shape)), key
    train = read(tmp_path / "out" / "train.msgpack")
    one = train[1]["experiments"][0]  # a viewer with one cursor sample and no fixation
    assert one["locations"].shape == (1, 2) and one["timestamps"].shape == (1,) and one["fixations"].shape == (0, 2)


def test_shuffle_is_seeded_and_identical_for_any_thread_count(tmp_path):
    make_salicon(tmp_path / "in")
    convert("SALICON2015", tmp_path / "in", tmp_path / "a", "--seed", "4", "-t", "1")
    convert("SALICON2015", tmp_path / "in", tmp_path / "b", "--seed", "4", "-t", "2")
    for split in ("train", "val", "test"):
        assert (tmp_path / "a" / f"{split}.msgpack").read_bytes() == (tmp_path / "b" / f"{split}.msgpack").read_bytes()
    orders = set()
    for seed in range(6):
        convert("SALICON2015", tmp_path / "in", tmp_path / "c", "--seed", str(seed), "-y")
        orders.add(tuple(MsgpackReader(tmp_path / "c" / "train.msgpack").keys))
    assert len(orders) == 2


def test_a_drive_page_instead_of_the_zip_says_so(tmp_path):
    make_salicon(tmp_path / "in")
    (tmp_path / "in" / "fixations.zip").write_text(
        "<!DOCTYPE html><html><title>Google Drive - Virus scan warning</title>"
    )
    with pytest.raises(
        ValueError,
        match=r"fixations.zip: an HTML page, not a zip archive .* download the file from "
        r"https://drive.google.com/uc\?id=0B2hsWbciDVedS1lBZHprdXFoZkU&export=download in a web browser",
    ):
        convert("SALICON2017", tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_a_gaze_without_its_fields_is_refused_and_leaves_no_output(tmp_path):
    make_salicon(tmp_path / "in")
    broken = np.zeros((1, 1), dtype=[("location", "O"), ("timestamp", "O")])
    broken[0, 0] = (np.ones((2, 2)), np.ones((2, 1)))
    write_zip(tmp_path / "in" / "fixations.zip", {"train/COCO_train2014_000000000009.mat": mat_bytes({"gaze": broken})})
    with pytest.raises(
        ValueError,
        match=r"fixations.zip:train/COCO_train2014_000000000009.mat: gaze\(1\) lacks the field\(s\) fixations",
    ):
        convert("SALICON2015", tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


@pytest.mark.parametrize(
    "name, drive_id, md5",
    [
        ("SALICON2015", "0B2hsWbciDVedWHFiMUVVWFRZTE0", "9a22db9d718200fb90252e5010c004c4"),
        ("SALICON2017", "0B2hsWbciDVedS1lBZHprdXFoZkU", "462b70f4f9e8ea446ac628e46cea8d3d"),
    ],
)
def test_catalog_entries_differ_only_in_the_fixations_archive(name, drive_id, md5):
    info = get(name)
    assert info.name == name and info.converter == f"dings.sets.{name}_write"
    assert [(s.name, s.url, s.md5) for s in info.sources] == [
        (
            "image.zip",
            "https://drive.google.com/uc?id=1g8j-hTT-51IG1UFwP0xTGhLdgIUCW5e5&export=download",
            "eb2a1bb706633d1b31fc2e01422c5757",
        ),
        ("fixations.zip", f"https://drive.google.com/uc?id={drive_id}&export=download", md5),
    ]
    assert [(s.filename, s.samples) for s in info.splits] == [
        ("train.msgpack", 10_000),
        ("val.msgpack", 5_000),
        ("test.msgpack", 5_000),
    ]


def test_same_samples_as_datadings_when_every_test_image_has_a_mat_file(tmp_path):
    pytest.importorskip("datadings")
    import subprocess
    import sys

    from datadings.reader import MsgpackReader as ReferenceReader

    make_salicon(tmp_path / "in", missing_test_mat=False)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "datadings.sets.SALICON2015_write",
            str(tmp_path / "in"),
            "-o",
            str(tmp_path / "ref"),
            "-s",
            "--shuffle",
            "no",
        ],
        check=True,
        capture_output=True,
    )
    convert("SALICON2015", tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    for split in ("train", "val", "test"):
        ours = read(tmp_path / "out" / f"{split}.msgpack")
        reference = list(ReferenceReader(str(tmp_path / "ref" / f"{split}.msgpack")))
        assert [s["key"] for s in reference] == [s["key"] for s in ours]
        for ref, sample in zip(reference, ours):
            assert ref["image"] == sample["image"] and len(ref["experiments"]) == len(sample["experiments"])
            for a, b in zip(ref["experiments"], sample["experiments"]):
                assert a["map"] is None and b["map"] is None
                for key in ("locations", "timestamps", "fixations"):
                    assert (
                        a[key].dtype == b[key].dtype and a[key].shape == b[key].shape and np.array_equal(a[key], b[key])
                    ), key
