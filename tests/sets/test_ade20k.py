"""ADE20k: scene labels from the index, 16-bit class-id label and part images, shipped statistics."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from dings.readers import MsgpackReader
from dings.sets import ADE20k, ADE20k_write
from dings.tools import decode_label_map

from .segmentation_fixtures import make_ade20k, write_zip


def convert(indir, outdir, *extra):
    return ADE20k_write.main([str(indir), "-o", str(outdir), "-s", "-q", *extra])


def test_shipped_metadata():
    assert len(ADE20k.SCENELABELS) == 872
    assert ADE20k.SCENELABELS[0] == "abbey" and ADE20k.SCENELABELS[-2:] == ("zoo", "~not labeled")
    assert list(ADE20k.SCENELABELS) == sorted(ADE20k.SCENELABELS)
    assert len(ADE20k.INDEXES) == len(ADE20k.COUNTS) == len(ADE20k.WEIGHTS) == 2603
    assert ADE20k.INDEXES[0] == 0 and ADE20k.INDEXES[-1] == 3145
    assert sum(ADE20k.COUNTS) == pytest.approx(20210)
    frequencies = np.array(ADE20k.COUNTS) / sum(ADE20k.COUNTS)
    assert ADE20k.WEIGHTS == pytest.approx(np.median(frequencies) / frequencies)


def test_index_to_color_maps_compact_indices_to_the_seg_encoding():
    last = len(ADE20k.INDEXES) - 1  # id 3145 = 12 * 256 + 73
    colours = ADE20k.index_to_color(np.array([[0, last], [last + 1, -1]]))
    assert colours.tolist() == [[[0, 0, 0], [120, 73, 0]], [[0, 0, 0], [0, 0, 0]]]
    assert ADE20k.ids_to_color(np.array([261])).tolist() == [[10, 5, 0]]


def test_every_sample_has_scene_label_and_exact_16_bit_label_images(tmp_path):
    expected = make_ade20k(tmp_path / "in")
    outputs = convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no", "-t", "2")
    assert [p.name for p in outputs.written] == ["training.msgpack", "validation.msgpack"]
    for split, items in expected.items():
        samples = list(MsgpackReader(tmp_path / "out" / f"{split}.msgpack"))
        assert [s["key"] for s in samples] == [key for key, *_ in items]
        for sample, (_, image, label, ids, parts) in zip(samples, items):
            assert set(sample) == {"key", "image", "label", "label_image", "parts_images"}
            assert sample["image"] == image and sample["label"] == label
            decoded = decode_label_map(sample["label_image"])
            assert decoded.dtype == np.uint16 and np.array_equal(decoded, ids)
            assert len(sample["parts_images"]) == len(parts)
            for stored, part in zip(sample["parts_images"], parts):
                assert np.array_equal(decode_label_map(stored), part)
    first = list(MsgpackReader(tmp_path / "out" / "training.msgpack"))[0]
    assert set(np.unique(decode_label_map(first["label_image"]))) == {0, 261, 3145}


def test_thread_count_does_not_change_the_output(tmp_path):
    make_ade20k(tmp_path / "in")
    convert(tmp_path / "in", tmp_path / "one", "--seed", "2", "-t", "1")
    convert(tmp_path / "in", tmp_path / "two", "--seed", "2", "-t", "2")
    for name in ("training.msgpack", "validation.msgpack"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_calculate_weights_writes_hand_computed_counts(tmp_path):
    make_ade20k(tmp_path / "in")
    assert convert(tmp_path / "in", tmp_path / "out", "--calculate-weights").written == []
    counts = json.loads((tmp_path / "out" / "ADE20k_counts.json").read_text())
    assert counts["INDEXES"] == [0, 261, 3145]
    assert counts["COUNTS"] == pytest.approx([0.5, 0.25 + 1.0, 0.25])
    statistics = ADE20k.load_statistics(tmp_path / "out" / "ADE20k_counts.json")
    # frequencies 0.25, 0.625, 0.125: median 0.25
    assert statistics["WEIGHTS"] == pytest.approx([1.0, 0.4, 2.0])
    assert not (tmp_path / "out" / "training.msgpack").exists()


def test_scenelabels_writes_the_sorted_scene_list(tmp_path):
    make_ade20k(tmp_path / "in")
    convert(tmp_path / "in", tmp_path / "out", "--scenelabels")
    assert json.loads((tmp_path / "out" / "ADE20k_scenelabels.json").read_text()) == ["a_scene", "b_scene", "c_scene"]


def test_missing_seg_or_index_is_a_clear_error(tmp_path):
    make_ade20k(tmp_path / "in")
    write_zip(
        tmp_path / "bad" / "ADE20K_2016_07_26.zip", {"ADE20K_2016_07_26/images/training/a/x/ADE_train_1.jpg": b"x"}
    )
    with pytest.raises(ValueError, match=r"member ADE20K_2016_07_26/index_ade20k.mat is missing"):
        convert(tmp_path / "bad", tmp_path / "out")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_missing_seg_member_leaves_no_output(tmp_path):
    import zipfile

    make_ade20k(tmp_path / "in")
    with zipfile.ZipFile(tmp_path / "in" / "ADE20K_2016_07_26.zip") as zf:
        members = {n: zf.read(n) for n in zf.namelist() if not n.endswith("ADE_train_00000002_seg.png")}
    write_zip(tmp_path / "in2" / "ADE20K_2016_07_26.zip", members)
    with pytest.raises(ValueError, match=r"member .*/ADE_train_00000002_seg.png is missing"):
        convert(tmp_path / "in2", tmp_path / "out", "--shuffle", "no")
    assert not (tmp_path / "out" / "training.msgpack").exists()
