"""Cityscapes: left images, labelIds and 16-bit disparity maps are stored unchanged per split."""

from __future__ import annotations

import os

import numpy as np
import pytest

from dings.readers import MsgpackReader
from dings.sets import Cityscapes, Cityscapes_write
from dings.tools import MissingSourceFileError, decode_label_map

from .segmentation_fixtures import make_cityscapes, write_zip


def convert(indir, outdir, *extra):
    return Cityscapes_write.main([str(indir), "-o", str(outdir), "-s", "-q", *extra])


def test_metadata():
    assert len(Cityscapes.used_class_indices) == 19
    assert set(Cityscapes.used_class_indices).isdisjoint(Cityscapes.ignored_class_indices)
    assert sorted(Cityscapes.used_class_indices + Cityscapes.ignored_class_indices[:-1]) == list(range(34))
    assert len(Cityscapes.CLASSES) == len(Cityscapes.COLORS) == 34
    assert Cityscapes.CLASSES[7] == "road" and Cityscapes.CLASSES[33] == "bicycle"
    assert Cityscapes.index_to_color(np.array([[7, 26, 255]])).tolist() == [[[128, 64, 128], [0, 0, 142], [0, 0, 0]]]


def test_every_split_has_its_frame_with_exact_pixels(tmp_path):
    expected = make_cityscapes(tmp_path / "in")
    outputs = convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    assert [p.name for p in outputs.written] == ["train.msgpack", "val.msgpack", "test.msgpack"]
    for split, (key, image, labels, depth) in expected.items():
        samples = list(MsgpackReader(tmp_path / "out" / f"{split}.msgpack"))
        assert len(samples) == 1
        sample = samples[0]
        assert set(sample) == {"key", "image", "label_image", "disparity_image"}
        assert sample["key"] == key and sample["image"] == image
        assert np.array_equal(decode_label_map(sample["label_image"]), labels)
        disparity = decode_label_map(sample["disparity_image"])
        assert disparity.dtype == np.uint16 and np.array_equal(disparity, depth)


def test_missing_download_explains_where_to_get_it(tmp_path):
    (tmp_path / "in").mkdir()
    with pytest.raises(MissingSourceFileError, match=r"leftImg8bit_trainvaltest.zip.*cityscapes-dataset.com/register"):
        convert(tmp_path / "in", tmp_path / "out")
    assert "cityscapes-dataset.com" in Cityscapes.INFO.source("gtFine_trainvaltest.zip").instructions


def test_missing_annotation_fails_without_output(tmp_path):
    make_cityscapes(tmp_path / "in")
    write_zip(tmp_path / "in" / "gtFine_trainvaltest.zip", {"README": b"no annotations"})
    with pytest.raises(
        ValueError, match=r"member gtFine/train/aachen/aachen_000000_000019_gtFine_labelIds.png is missing"
    ):
        convert(tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []
