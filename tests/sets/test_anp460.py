"""ANP460_write pairs every image with its ANP and each observer's gaze table with that observer's answer."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

from dings.readers import MsgpackReader
from dings.sets import ANP460_write, get
from dings.sets.ANP460 import INFO
from dings.sets.converter import ConversionError, converter_parser
from dings.tools import MissingSourceFileError

from .anp460_fixtures import ANPS, make_anp460


def convert(indir, outdir, *extra):
    return ANP460_write.main([str(indir), "-o", str(outdir), "-q", *extra])


def read(path):
    with MsgpackReader(path) as reader:
        return list(reader)


def check(samples, expected, indir):
    with zipfile.ZipFile(indir / "images_original.zip") as z:
        for sample in samples:
            name = sample["key"].split("/")[-1]
            assert sample["key"] == f"images/{name}"
            assert set(sample) == {"key", "image", "experiments", "anp", "type"}
            assert sample["image"] == z.read(f"images_original/images/{name}")
            assert [sample["anp"], sample["type"]] == ANPS[name]
            assert len(sample["experiments"]) == len(expected[name])
            for experiment, (locations, answer, duration) in zip(sample["experiments"], expected[name]):
                assert set(experiment) == {"locations", "map", "answer", "duration"}
                assert experiment["map"] is None
                assert experiment["locations"].dtype == np.float32
                assert np.array_equal(experiment["locations"], locations)
                assert (experiment["answer"], experiment["duration"]) == (answer, duration)


def test_samples_pair_each_gaze_table_with_the_answer_of_its_observer(tmp_path):
    expected = make_anp460(tmp_path / "in")
    convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    samples = read(tmp_path / "out" / "ANP460.msgpack")
    assert [s["key"] for s in samples] == ["images/1.jpg", "images/2.jpg", "images/3.jpg"]
    check(samples, expected, tmp_path / "in")
    answers = [[(e["answer"], e["duration"]) for e in s["experiments"]] for s in samples]
    # s2 has no table for image 2: image 3's table still gets s2's answer, and answers may hold commas
    assert answers == [[("yes", 1.5), ("si", 4.25)], [("no", 2.0)], [("a, b", 6.5)]]


def test_without_answers_beside_the_tables_the_ith_answer_file_is_used(tmp_path):
    expected = make_anp460(tmp_path / "in", answers_elsewhere=True)
    convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    samples = read(tmp_path / "out" / "ANP460.msgpack")
    assert [(e["answer"], e["duration"]) for e in samples[0]["experiments"]] == [("yes", 1.5), ("si", 4.25)]
    check(samples[:2], expected, tmp_path / "in")
    # image 3 has one table (s2's), paired with the first answer.txt (s1's), as the reference does
    assert [(e["answer"], e["duration"]) for e in samples[2]["experiments"]] == [("maybe", 3.0)]


def test_shuffle_is_seeded(tmp_path):
    expected = make_anp460(tmp_path / "in")
    keys = {}
    for seed in range(4):
        convert(tmp_path / "in", tmp_path / str(seed), "--seed", str(seed))
        samples = read(tmp_path / str(seed) / "ANP460.msgpack")
        check(samples, expected, tmp_path / "in")
        keys[seed] = [s["key"] for s in samples]
    convert(tmp_path / "in", tmp_path / "again", "--seed", "0")
    assert (tmp_path / "again" / "ANP460.msgpack").read_bytes() == (tmp_path / "0" / "ANP460.msgpack").read_bytes()
    assert len({tuple(k) for k in keys.values()}) > 1


def test_missing_files_say_how_to_obtain_them(tmp_path):
    (tmp_path / "in").mkdir()
    with pytest.raises(
        MissingSourceFileError, match=r"images_original.zip.*must be downloaded by hand: .*ask the dataset's authors"
    ):
        convert(tmp_path / "in", tmp_path / "out")


@pytest.mark.parametrize(
    "damage, message",
    [
        ("anp", r"image_anp_list.json has no \[anp, type\] for image 3.jpg"),
        ("answer", r"s1/answer.txt: line 3 'x;no;2' is not '<x>,<answer>,<duration>'"),
        ("table", r"s2/3.txt: not a comma-separated table of numbers"),
    ],
)
def test_broken_wrangled_data_is_a_clear_error_and_leaves_no_output(tmp_path, damage, message):
    make_anp460(tmp_path / "in")
    path = tmp_path / "in" / "wrangled_data.zip"
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    if damage == "anp":
        members["wrangled_data/image_anp_list.json"] = json.dumps(
            {k: v for k, v in ANPS.items() if k != "3.jpg"}
        ).encode()
    elif damage == "answer":
        members["wrangled_data/s1/answer.txt"] = b"h,a,0\nx,yes,1.5\nx;no;2\n"
    else:
        members["wrangled_data/s2/3.txt"] = b"1,2,three\n"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises((ConversionError, ValueError), match=message):
        convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_catalog_entry_and_help():
    assert get("anp-460") is INFO
    assert all(s.manual and s.md5 is None for s in INFO.sources)
    text = converter_parser(INFO).format_help()
    assert "images_original.zip: not publicly downloadable" in text and "--seed" in text
