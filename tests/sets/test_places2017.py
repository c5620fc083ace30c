"""Places2017: class maps, instances, boundary contours and scene labels; the metadata actions."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from dings.readers import MsgpackReader
from dings.sets import Places2017, Places2017_write
from dings.tools import decode_image, decode_label_map

from .segmentation_fixtures import boundary_mat, make_ade20k, make_places2017, write_tar


def convert(indir, outdir, *extra):
    return Places2017_write.main([str(indir), "-o", str(outdir), "-s", "-q", *extra])


def test_shipped_metadata():
    assert len(Places2017.CLASSES) == 151 and Places2017.CLASSES[:3] == ("background", "wall", "building")
    assert Places2017.CLASSES[-1] == "flag" and "bench" in Places2017.CLASSES and "bed" in Places2017.CLASSES
    assert Places2017.INDEXES == tuple(range(151))
    assert sum(Places2017.COUNTS) == pytest.approx(20210)
    frequencies = np.array(Places2017.COUNTS) / sum(Places2017.COUNTS)
    assert Places2017.WEIGHTS == pytest.approx(np.median(frequencies) / frequencies)
    assert Places2017.COLORS.shape == (151, 3)
    assert Places2017.COLORS[0].tolist() == [0, 0, 0] and Places2017.COLORS[-1].tolist() == [255, 0, 255]
    assert Places2017.index_to_color(np.array([0, 2, 151])).tolist() == [[0, 0, 0], [120, 120, 120], [0, 0, 0]]
    assert len(Places2017.SCENELABELS) == 872
    scenes = Places2017.load_scene_map()
    assert len(scenes) == 22210 and all(0 <= v < 872 for v in scenes.values())


def test_classes_match_the_reference_apart_from_the_documented_fixes():
    reference = pytest.importorskip("datadings.sets.Places2017", reason="datadings oracle not installed").CLASSES
    fixed = [name.strip().replace("bench_msgpack", "bench") for name in reference]
    assert list(Places2017.CLASSES) == fixed


def test_every_sample_has_scene_label_class_map_instances_and_contours(tmp_path):
    cv2 = pytest.importorskip("cv2", reason="opencv-python-headless (dings-sets[segmentation]) is not installed")
    expected = make_places2017(tmp_path / "in")
    outputs = convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    assert [p.name for p in outputs.written] == ["training.msgpack", "validation.msgpack"]
    scenes = Places2017.load_scene_map()
    for split, items in expected.items():
        samples = list(MsgpackReader(tmp_path / "out" / f"{split}.msgpack"))
        assert [s["key"] for s in samples] == [item["key"] for item in items]
        for sample, item in zip(samples, items):
            assert set(sample) == {"key", "image", "label", "label_image", "instance_image", "boundary"}
            assert sample["image"] == item["image"]
            assert isinstance(sample["label"], int) and sample["label"] == scenes[item["key"]]
            assert np.array_equal(decode_label_map(sample["label_image"]), item["classes"])
            assert np.array_equal(decode_image(sample["instance_image"], as_array=True), item["instance"])
            boundary = sample["boundary"]
            assert len(boundary) == 150
            for number, contours in enumerate(boundary, 1):
                if number not in item["squares"]:
                    assert contours == []
                    continue
                top, left, bottom, right = item["squares"][number]
                corners = {(left, top), (right, top), (right, bottom), (left, bottom)}
                assert all(c.dtype == np.int32 and c.ndim == 2 and c.shape[1] == 2 for c in contours)
                assert corners in [set(map(tuple, c.tolist())) for c in contours]
                mask = np.zeros((6, 8), np.uint8)
                mask[top, left : right + 1] = mask[bottom, left : right + 1] = 1
                mask[top : bottom + 1, left] = mask[top : bottom + 1, right] = 1
                found = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_TC89_L1)[-2]
                assert [c.tolist() for c in contours] == [f.reshape(-1, 2).tolist() for f in found]


def test_thread_count_does_not_change_the_output(tmp_path):
    pytest.importorskip("cv2", reason="opencv-python-headless (dings-sets[segmentation]) is not installed")
    make_places2017(tmp_path / "in")
    convert(tmp_path / "in", tmp_path / "one", "--seed", "4", "-t", "1")
    convert(tmp_path / "in", tmp_path / "two", "--seed", "4", "-t", "2")
    for name in ("training.msgpack", "validation.msgpack"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_class_counts_are_hand_computed(tmp_path):
    make_places2017(tmp_path / "in")
    assert convert(tmp_path / "in", tmp_path / "out", "--class-counts").written == []
    counts = json.loads((tmp_path / "out" / "Places2017_counts.json").read_text())
    assert counts == {"INDEXES": [0, 5, 150], "COUNTS": [0.5, 0.5, 1.0]}
    # frequencies 0.25, 0.25, 0.5: median 0.25
    assert Places2017.load_statistics(tmp_path / "out" / "Places2017_counts.json")["WEIGHTS"] == pytest.approx(
        [1, 1, 0.5]
    )


def test_color_map_keeps_rgb_order(tmp_path):
    make_places2017(tmp_path / "in")
    convert(tmp_path / "in", tmp_path / "out", "--color-map")
    colors = json.loads((tmp_path / "out" / "Places2017_colors.json").read_text())
    assert (
        len(colors) == 151
        and colors[0] == [0, 0, 0]
        and colors[1] == [0, 1, 2]
        and colors[150] == [(447 % 256), 448 % 256, 449 % 256]
    )
    assert Places2017.load_colors(tmp_path / "out" / "Places2017_colors.json")[1].tolist() == [0, 1, 2]


def test_classes_prints_first_synonyms(tmp_path, capsys):
    make_places2017(tmp_path / "in")
    convert(tmp_path / "in", tmp_path / "out", "--classes")
    assert json.loads(capsys.readouterr().out) == ["background", "wall", "building", "sky", "bed"]


def test_scenelabels_map_image_names_to_ade_scene_positions(tmp_path):
    make_ade20k(tmp_path / "in")
    convert(tmp_path / "in", tmp_path / "out", "--scenelabels")
    assert json.loads((tmp_path / "out" / "Places2017_scenelabels.json").read_text()) == {
        "ADE_train_00000001.jpg": 1,
        "ADE_train_00000002.jpg": 2,
        "ADE_val_00000001.jpg": 0,
    }


def test_bad_boundary_file_names_it_and_leaves_no_output(tmp_path):
    pytest.importorskip("cv2", reason="opencv-python-headless (dings-sets[segmentation]) is not installed")
    make_places2017(tmp_path / "in")
    write_tar(
        tmp_path / "in" / "boundaries.tar",
        {
            "annotations_boundary/training/ADE_train_00000001.mat": b"not a mat file",
            "annotations_boundary/training/ADE_train_00000002.mat": boundary_mat(6, 8, {}),
        },
    )
    with pytest.raises(
        ValueError,
        match=r"boundaries.tar:annotations_boundary/training/ADE_train_00000001.mat: .*not a readable MATLAB",
    ):
        convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []
