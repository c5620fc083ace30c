"""CIFAR100_write: fine and coarse labels, numbered repeated names, seeded shuffle, clear failures."""

from __future__ import annotations

import io
import os
import pickle
import tarfile

import numpy as np
import pytest
from PIL import Image

from dings.readers import MsgpackReader
from dings.sets import CIFAR100, CIFAR100_write, get

from .cifar_fixtures import add_member, batch, make_cifar100


def convert(indir, outdir, *extra):
    return CIFAR100_write.main([str(indir), "-o", str(outdir), "-s", "-q", *extra])


def read(path):
    with MsgpackReader(path) as reader:
        return list(reader)


def test_samples_have_fine_and_coarse_labels_and_repeated_names_are_numbered(tmp_path):
    expected = make_cifar100(tmp_path / "in")
    outputs = convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    assert [p.name for p in outputs.written] == ["train.msgpack", "test.msgpack"]
    keys = {
        "train": ["bike_s_01.png", "apple_s_07.png", "bike_s_01.png2", "bike_s_01.png3"],
        "test": ["otter_s_3.png", "cloud_s_9.png"],
    }
    for split, rows in expected.items():
        samples = read(tmp_path / "out" / f"{split}.msgpack")
        assert [s["key"] for s in samples] == keys[split]
        for sample, (_, row, fine, coarse) in zip(samples, rows):
            assert set(sample) == {"key", "image", "label", "coarse_label"}
            assert (sample["label"], sample["coarse_label"]) == (fine, coarse)
            image = Image.open(io.BytesIO(sample["image"]))
            assert (image.format, image.mode, image.size) == ("PNG", "RGB", (32, 32))
            assert np.array_equal(np.asarray(image), row.reshape(3, 32, 32).transpose(1, 2, 0))
        assert MsgpackReader(tmp_path / "out" / f"{split}.msgpack").verify_data()


def test_shuffle_keeps_keys_and_is_identical_for_any_thread_count(tmp_path):
    names = {"train": [f"img_{i}.png" for i in range(6)] + ["img_0.png"], "test": ["t.png", "t.png"]}
    make_cifar100(tmp_path / "in", names)
    convert(tmp_path / "in", tmp_path / "a", "--seed", "5", "-t", "1")
    convert(tmp_path / "in", tmp_path / "b", "--seed", "5", "-t", "2")
    convert(tmp_path / "in", tmp_path / "plain", "--shuffle", "no")
    for split in ("train", "test"):
        assert (tmp_path / "a" / f"{split}.msgpack").read_bytes() == (tmp_path / "b" / f"{split}.msgpack").read_bytes()
    shuffled = {s["key"]: s for s in read(tmp_path / "a" / "train.msgpack")}
    plain = read(tmp_path / "plain" / "train.msgpack")
    assert [s["key"] for s in plain] != list(shuffled)
    # the same name always gets the same number: numbering follows file order, not the shuffled order
    assert {k: (s["label"], s["image"]) for k, s in shuffled.items()} == {
        s["key"]: (s["label"], s["image"]) for s in plain
    }
    assert "img_0.png2" in shuffled


def test_metadata_matches_the_reference_lists():
    datadings_cifar100 = pytest.importorskip("datadings.sets.CIFAR100")
    assert CIFAR100.CLASSES is CIFAR100.FINE_CLASSES
    assert list(CIFAR100.FINE_CLASSES) == list(datadings_cifar100.FINE_CLASSES)
    assert list(CIFAR100.COARSE_CLASSES) == list(datadings_cifar100.COARSE_CLASSES)
    assert (len(CIFAR100.FINE_CLASSES), CIFAR100.FINE_CLASSES[0], CIFAR100.FINE_CLASSES[-1]) == (100, "apple", "worm")
    assert (len(CIFAR100.COARSE_CLASSES), CIFAR100.COARSE_CLASSES[-1]) == (20, "vehicles_2")
    info = get("cifar-100")
    assert info is CIFAR100.INFO and [s.samples for s in info.splits] == [50_000, 10_000]


def test_missing_coarse_labels_fail_clearly_and_leave_no_output(tmp_path):
    indir = tmp_path / "in"
    indir.mkdir()
    rng = np.random.default_rng(0)
    with tarfile.open(indir / "cifar-100-python.tar.gz", "w:gz") as tar:
        add_member(tar, "cifar-100-python/train", batch(rng, ["a.png"], {b"fine_labels": [3]}))
    with pytest.raises(ValueError, match=r"cifar-100-python/train: b'coarse_labels' must list one label per image"):
        convert(indir, tmp_path / "out")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_missing_member_is_named(tmp_path):
    indir = tmp_path / "in"
    indir.mkdir()
    with tarfile.open(indir / "cifar-100-python.tar.gz", "w:gz") as tar:
        add_member(tar, "cifar-100-python/meta", pickle.dumps({b"fine_label_names": []}, protocol=2))
    with pytest.raises(ValueError, match=r"member cifar-100-python/train is missing"):
        convert(indir, tmp_path / "out")
