"""MIT1003_write turns ALLSTIMULI.zip + DATA.zip into one sample per stimulus with one experiment per viewer."""

from __future__ import annotations

import os

import numpy as np
import pytest

from dings.readers import MsgpackReader
from dings.sets import MIT1003_write, get

from .mit_fixtures import make_mit1003, mat_bytes, mit1003_mat, write_zip


def convert(indir, outdir, *extra):
    return MIT1003_write.main([str(indir), "-o", str(outdir), "-s", "-q", *extra])


def read(path):
    with MsgpackReader(path) as reader:
        return list(reader)


def test_every_stimulus_gets_its_viewers_raw_gaze_in_data_zip_order(tmp_path):
    expected = make_mit1003(tmp_path / "in")
    outputs = convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    assert [p.name for p in outputs.written] == ["MIT1003.msgpack"]
    samples = read(tmp_path / "out" / "MIT1003.msgpack")
    assert [s["key"] for s in samples] == list(expected)  # clutter and non-jpeg members skipped
    for sample in samples:
        want = expected[sample["key"]]
        assert set(sample) == {"key", "image", "experiments"}
        assert sample["image"] == want["image"]
        assert len(sample["experiments"]) == len(want["locations"])
        for experiment, locations in zip(sample["experiments"], want["locations"]):
            assert set(experiment) == {"locations", "map"}
            assert experiment["map"] is None
            assert experiment["locations"].dtype == np.float32
            assert np.array_equal(experiment["locations"], locations.astype(np.float32))
    assert [len(s["experiments"]) for s in samples] == [2, 1, 0]
    assert samples[0]["experiments"][1]["locations"].shape == (1, 2)  # one-row eyeData, first DATA element


def test_drop_outside_keeps_only_samples_inside_the_image(tmp_path):
    expected = make_mit1003(tmp_path / "in")
    convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no", "--drop-outside")
    samples = {s["key"]: s for s in read(tmp_path / "out" / "MIT1003.msgpack")}
    a = samples["ALLSTIMULI/a.jpeg"]["experiments"][0]["locations"]
    assert expected["ALLSTIMULI/a.jpeg"]["size"] == (24, 16)
    assert a.tolist() == [[1.0, 2.0], [23.5, 15.5]]  # (-1, -1) blink and x = 30 >= width dropped
    b = samples["ALLSTIMULI/b.jpeg"]["experiments"][0]["locations"]
    assert b.tolist() == [[7.25, 8.5], [0.0, 0.0]]  # y = 24 is outside a 24 px tall image


def test_shuffle_is_seeded_and_identical_for_any_thread_count(tmp_path):
    make_mit1003(tmp_path / "in")
    convert(tmp_path / "in", tmp_path / "a", "--seed", "5", "-t", "1")
    convert(tmp_path / "in", tmp_path / "b", "--seed", "5", "-t", "2")
    assert (tmp_path / "a" / "MIT1003.msgpack").read_bytes() == (tmp_path / "b" / "MIT1003.msgpack").read_bytes()
    orders = set()
    for seed in range(6):
        convert(tmp_path / "in", tmp_path / "x", "--seed", str(seed), "-y")
        orders.add(tuple(MsgpackReader(tmp_path / "x" / "MIT1003.msgpack").keys))
    assert len(orders) > 1
    assert all(sorted(order) == ["ALLSTIMULI/a.jpeg", "ALLSTIMULI/b.jpeg", "ALLSTIMULI/c.jpeg"] for order in orders)


def test_a_broken_mat_file_names_it_and_leaves_no_output(tmp_path):
    make_mit1003(tmp_path / "in")
    write_zip(tmp_path / "in" / "DATA.zip", {"DATA/u1/a.mat": b"MATLAB 5.0 garbage"})
    with pytest.raises(ValueError, match=r"DATA.zip:DATA/u1/a.mat: not a readable MATLAB .mat file"):
        convert(tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_a_mat_file_without_the_eye_data_struct_is_refused(tmp_path):
    make_mit1003(tmp_path / "in")
    write_zip(tmp_path / "in" / "DATA.zip", {"DATA/u1/a.mat": mat_bytes({"a": {"DATA": np.zeros(3)}})})
    with pytest.raises(ValueError, match=r"DATA/u1/a.mat: the struct's DATA field must be a struct"):
        convert(tmp_path / "in", tmp_path / "out")
    write_zip(tmp_path / "in" / "DATA.zip", {"DATA/u1/a.mat": mit1003_mat("a", "u1", np.zeros((2, 3)))})
    with pytest.raises(ValueError, match=r"DATA/u1/a.mat: eyeData: expected gaze points as a numeric \(N, 2\) array"):
        convert(tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_a_file_that_is_not_a_zip_is_named(tmp_path):
    make_mit1003(tmp_path / "in")
    (tmp_path / "in" / "ALLSTIMULI.zip").write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match=r"ALLSTIMULI.zip: not a readable zip archive"):
        convert(tmp_path / "in", tmp_path / "out")


def test_catalog_entry():
    info = get("mit1003")
    assert info.name == "MIT1003" and info.domain == "saliency" and info.extra == "saliency"
    assert [(s.name, s.md5) for s in info.sources] == [
        ("ALLSTIMULI.zip", "0d7df8b954ecba69b6796e77b9afe4b6"),
        ("DATA.zip", "ea19d74ad0a0144428c53e9d75c2d71c"),
    ]
    assert all(s.url.startswith("http://people.csail.mit.edu/tjudd/WherePeopleLook/") for s in info.sources)
    assert [(s.filename, s.samples) for s in info.splits] == [("MIT1003.msgpack", 1003)]
    assert set(info.sample_keys) == {"key", "image", "experiments"}


def test_same_samples_as_datadings_apart_from_archive_clutter(tmp_path):
    pytest.importorskip("datadings")
    import subprocess
    import sys

    from datadings.reader import MsgpackReader as ReferenceReader

    make_mit1003(tmp_path / "in")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "datadings.sets.MIT1003_write",
            str(tmp_path / "in"),
            "-o",
            str(tmp_path / "ref"),
            "-s",
            "-y",
            "--shuffle",
            "no",
        ],
        check=True,
        capture_output=True,
    )
    convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    reference = [s for s in ReferenceReader(str(tmp_path / "ref" / "MIT1003.msgpack"))]
    ours = read(tmp_path / "out" / "MIT1003.msgpack")
    assert [s["key"] for s in reference] == [s["key"] for s in ours] + ["ALLSTIMULI/._a.jpeg"]
    for ref, sample in zip(reference, ours):
        assert ref["image"] == sample["image"]
        assert len(ref["experiments"]) == len(sample["experiments"])
        for a, b in zip(ref["experiments"], sample["experiments"]):
            assert a["map"] is None and a["locations"].dtype == b["locations"].dtype
            assert np.array_equal(a["locations"], b["locations"])
