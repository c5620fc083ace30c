"""ImageNet21k_write: synset selection, first-50 validation split, label trees, gunzipped and skipped images."""

from __future__ import annotations

import io
import os

import pytest

from dings.readers import MsgpackReader
from dings.sets import ImageNet21k_synsets, ImageNet21k_write, get

from .imagenet_fixtures import jpeg, make_imagenet21k, tar_bytes, write_tar


def convert(indir, outdir, *extra):
    return ImageNet21k_write.main([str(indir), "-o", str(outdir), "-s", "-q", *extra])


def read(path):
    with MsgpackReader(path) as reader:
        return list(reader)


def test_samples_are_split_by_name_order_labelled_with_trees_and_undecodable_ones_skipped(tmp_path, capsys):
    expected = make_imagenet21k(tmp_path / "in")
    outputs = convert(tmp_path / "in", tmp_path / "out")
    assert sorted(p.name for p in outputs.written) == ["train.msgpack", "val.msgpack"]
    for split in ("val", "train"):
        samples = read(tmp_path / "out" / f"{split}.msgpack")
        assert [(s["key"], s["label"]) for s in samples] == [(k, label) for k, _, label in expected[split]]
        for sample, (_, data, label) in zip(samples, expected[split]):
            assert set(sample) == {"key", "image", "label", "label_tree"}
            assert sample["image"] == data  # kept byte for byte; the gzipped one is stored unpacked
            assert sample["label_tree"] == ImageNet21k_synsets.SYNSET_TREE_LIST[label]
        assert MsgpackReader(tmp_path / "out" / f"{split}.msgpack").verify_data()
    val = read(tmp_path / "out" / "val.msgpack")
    assert (len(val), val[0]["label_tree"], val[-1]["label_tree"]) == (52, [0], [9, 66, 65, 144])
    assert [s["key"] for s in read(tmp_path / "out" / "train.msgpack")] == ["n00005787_150.JPEG", "n00005787_151.JPEG"]
    err = capsys.readouterr().err
    assert "winter21_whole/n00005787.tar: skipping n00005787_999.JPEG: not a decodable image" in err
    assert "n99999999" not in err


def test_output_is_identical_for_any_thread_count_and_compress_applies(tmp_path):
    indir = tmp_path / "in"
    write_tar(
        indir / "winter21_whole.tar.gz",
        [
            (
                "winter21_whole/n00006484.tar",
                tar_bytes(
                    [
                        (
                            f"n00006484_{i}.JPEG",
                            jpeg(640 if i % 2 else 8, 480 if i % 2 else 8, i, mode="CMYK" if i == 3 else "RGB"),
                        )
                        for i in range(53)
                    ]
                ),
            )
        ],
        mode="w:gz",
    )
    convert(indir, tmp_path / "one", "--compress", "50", "-t", "1")
    convert(indir, tmp_path / "two", "--compress", "50", "-t", "2")
    for split in ("train", "val"):
        assert (tmp_path / "one" / f"{split}.msgpack").read_bytes() == (
            tmp_path / "two" / f"{split}.msgpack"
        ).read_bytes()
    from PIL import Image

    val = read(tmp_path / "one" / "val.msgpack")
    assert len(val) == 50 and len(read(tmp_path / "one" / "train.msgpack")) == 3
    sizes = {s["key"]: Image.open(io.BytesIO(s["image"])).size for s in val}
    assert sizes["n00006484_1.JPEG"] == (500, 375) and sizes["n00006484_3.JPEG"] == (500, 375)
    assert sizes["n00006484_2.JPEG"] == (8, 8)


def test_a_declined_split_is_skipped_and_the_other_written(tmp_path, monkeypatch):
    make_imagenet21k(tmp_path / "in")
    convert(tmp_path / "in", tmp_path / "out")
    before = (tmp_path / "out" / "train.msgpack").read_bytes()
    (tmp_path / "out" / "val.msgpack").unlink()
    monkeypatch.setattr("dings.sets.converter.query_user", lambda *a, **k: "no")
    outputs = convert(tmp_path / "in", tmp_path / "out")
    assert [p.name for p in outputs.skipped] == ["train.msgpack"]
    assert [p.name for p in outputs.written] == ["val.msgpack"]
    assert (tmp_path / "out" / "train.msgpack").read_bytes() == before
    assert len(read(tmp_path / "out" / "val.msgpack")) == 52


def test_a_damaged_synset_tar_fails_clearly_and_leaves_no_output(tmp_path):
    indir = tmp_path / "in"
    write_tar(
        indir / "winter21_whole.tar.gz",
        [
            ("winter21_whole/n00005787.tar", tar_bytes([("n00005787_1.JPEG", jpeg())])),
            ("winter21_whole/n00006484.tar", b"\x07" * 1000),
        ],
        mode="w:gz",
    )
    with pytest.raises(ValueError, match=r"winter21_whole.tar.gz:winter21_whole/n00006484.tar: not a readable tar"):
        convert(indir, tmp_path / "out")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_a_truncated_archive_fails_clearly_and_leaves_no_output(tmp_path):
    make_imagenet21k(tmp_path / "in")
    path = tmp_path / "in" / "winter21_whole.tar.gz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match=r"winter21_whole.tar.gz.*the archive is damaged"):
        convert(tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_metadata_comes_from_the_shipped_json():
    assert len(ImageNet21k_synsets.SYNSET_LIST) == ImageNet21k_synsets.NUM_VALID_SYNSETS == 10_450
    assert ImageNet21k_synsets.SYNSET_LIST == sorted(ImageNet21k_synsets.SYNSET_LIST)
    assert ImageNet21k_synsets.SYNSET_LIST[0] == "n00005787" and ImageNet21k_synsets.SYNSET_LIST[-1] == "n15102894"
    assert ImageNet21k_synsets.SYNSET_WORDS["n00005787"] == "benthos"
    assert ImageNet21k_synsets.SYNSET_WORDS["n15102894"] == "knothole"
    assert ImageNet21k_synsets.SYNSETS["n00288000"] == 9
    trees = ImageNet21k_synsets.SYNSET_TREE_LIST
    assert trees[9] == [9, 66, 65, 144] and all(tree[0] == label for label, tree in enumerate(trees))
    assert {len(tree) for tree in trees} <= set(range(1, 13)) and max(map(len, trees)) == 12
    assert (ImageNet21k_synsets.NUM_TRAIN_SAMPLES, ImageNet21k_synsets.NUM_VAL_SAMPLES) == (11_060_239, 522_500)
    assert ImageNet21k_synsets.VAL_SAMPLES_PER_SYNSET * ImageNet21k_synsets.NUM_VALID_SYNSETS == 522_500
    reference = pytest.importorskip("datadings.sets.ImageNet21k_synsets")
    assert ImageNet21k_synsets.SYNSET_LIST == list(reference.SYNSET_LIST)
    assert ImageNet21k_synsets.SYNSET_TREE_LIST == [list(t) for t in reference.SYNSET_TREE_LIST]
    info = get("ImageNet-21K-P")
    assert info.name == "ImageNet21k" and [s.samples for s in info.splits] == [11_060_239, 522_500]
    assert [s.name for s in info.sources] == ["winter21_whole.tar.gz"]  # the torch pickle is not a source
