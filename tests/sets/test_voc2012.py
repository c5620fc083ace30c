"""VOC2012: palette annotations become class-index PNGs; metadata and --calculate-weights are exact."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from dings.readers import MsgpackReader
from dings.sets import VOC2012, VOC2012_write
from dings.tools import decode_label_map

from .segmentation_fixtures import make_voc, write_tar


def convert(indir, outdir, *extra):
    return VOC2012_write.main([str(indir), "-o", str(outdir), "-s", "-q", *extra])


def test_colour_map_classes_and_weights():
    assert len(VOC2012.CLASSES) == 21 and VOC2012.CLASSES[0] == "background" and VOC2012.CLASSES[20] == "tvmonitor"
    assert VOC2012.COLORS.shape == (21, 3) and VOC2012.COLORS.dtype == np.uint8
    assert VOC2012.COLORS[:5].tolist() == [[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0], [0, 0, 128]]
    assert VOC2012.COLORS[20].tolist() == [0, 64, 128]
    assert VOC2012.class_color_map()[255].tolist() == [224, 224, 192]
    assert VOC2012.bitget(6, 1) == 1 and VOC2012.bitget(6, 0) == 0
    # median frequency: the class with the median frequency (index 10 of the sorted 21) has weight 1
    median_class = int(np.argsort(VOC2012.COUNTS)[10])
    assert VOC2012.WEIGHTS[median_class] == pytest.approx(1.0)
    assert VOC2012.WEIGHTS[0] == pytest.approx(VOC2012.COUNTS[median_class] / 1096.41576898)
    colored = VOC2012.index_to_color(np.array([[0, 15], [255, 300]]))
    assert colored.tolist() == [[[0, 0, 0], [192, 128, 128]], [[224, 224, 192], [0, 0, 0]]]


def test_every_sample_has_jpeg_and_class_indices(tmp_path):
    expected = make_voc(tmp_path / "in", VOC2012.class_color_map())
    outputs = convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    assert [p.name for p in outputs.written] == ["train.msgpack", "val.msgpack"]
    for split, items in expected.items():
        samples = list(MsgpackReader(tmp_path / "out" / f"{split}.msgpack"))
        assert [s["key"] for s in samples] == list(items)
        for sample, (image, source) in zip(samples, items.values()):
            assert set(sample) == {"key", "image", "label_image"}
            assert sample["image"] == image
            assert sample["label_image"][:8] == b"\x89PNG\r\n\x1a\n"
            labels = decode_label_map(sample["label_image"])
            assert labels.dtype == np.uint8
            assert np.array_equal(labels, np.where(source == 255, 0, source))
    assert set(np.unique(decode_label_map(samples[0]["label_image"]))) == {0, 15}


def test_threads_and_seed_give_identical_files(tmp_path):
    make_voc(tmp_path / "in", VOC2012.class_color_map())
    convert(tmp_path / "in", tmp_path / "one", "--seed", "3", "-t", "1")
    convert(tmp_path / "in", tmp_path / "two", "--seed", "3", "-t", "2")
    for name in ("train.msgpack", "val.msgpack"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_calculate_weights_prints_hand_computed_statistics(tmp_path, capsys):
    make_voc(tmp_path / "in", VOC2012.class_color_map())
    outputs = convert(tmp_path / "in", tmp_path / "out", "--calculate-weights")
    assert outputs.written == []
    lines = dict(line.split(" ", 1) for line in capsys.readouterr().out.splitlines())
    train = json.loads(lines["train"])
    # a: 24 + 8 (void) background, 16 person of 48 px; c: 36 background, 12 aeroplane
    assert train["INDEXES"] == [0, 1, 15]
    assert train["COUNTS"] == pytest.approx([32 / 48 + 36 / 48, 12 / 48, 16 / 48])
    assert train["WEIGHTS"] == pytest.approx([4 / 17, 4 / 3, 1.0])
    val = json.loads(lines["val"])  # b: 36 void -> background, 12 person
    assert val["INDEXES"] == [0, 15] and val["COUNTS"] == pytest.approx([0.75, 0.25])
    assert not (tmp_path / "out").exists()


def test_missing_member_names_it_and_leaves_no_output(tmp_path):
    root = "VOCdevkit/VOC2012"
    write_tar(
        tmp_path / "in" / "VOCtrainval_11-May-2012.tar",
        {
            f"{root}/ImageSets/Segmentation/train.txt": b"a\n",
            f"{root}/ImageSets/Segmentation/val.txt": b"",
            f"{root}/JPEGImages/a.jpg": b"not checked",
        },
    )
    with pytest.raises(ValueError, match=r"member VOCdevkit/VOC2012/SegmentationClass/a.png is missing"):
        convert(tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_corrupt_label_is_a_clear_error(tmp_path):
    root = "VOCdevkit/VOC2012"
    write_tar(
        tmp_path / "in" / "VOCtrainval_11-May-2012.tar",
        {
            f"{root}/ImageSets/Segmentation/train.txt": b"a\n",
            f"{root}/JPEGImages/a.jpg": b"x",
            f"{root}/SegmentationClass/a.png": b"\x89PNG broken",
        },
    )
    with pytest.raises(
        ValueError,
        match=r"VOCtrainval_11-May-2012.tar:VOCdevkit/VOC2012/SegmentationClass/a.png: decode_image: cannot decode",
    ):
        convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []
