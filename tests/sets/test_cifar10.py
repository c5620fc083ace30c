"""CIFAR10_write converts the real archive layout into train/test datasets, exactly and reproducibly."""

from __future__ import annotations

import io
import os
import pickle
import tarfile

import numpy as np
import pytest
from PIL import Image

from dings.readers import MsgpackReader
from dings.sets import CIFAR10_write
from dings.sets.converter import ConversionError
from dings.sets.safe_pickle import UnsafePickleError

from .cifar_fixtures import add_member, make_cifar10


def convert(indir, outdir, *extra):
    return CIFAR10_write.main([str(indir), "-o", str(outdir), "-s", "-q", *extra])


def pixels(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert (image.format, image.mode, image.size) == ("PNG", "RGB", (32, 32))
    return np.asarray(image)


def test_every_sample_has_key_png_and_label_in_file_order(tmp_path):
    expected = make_cifar10(tmp_path / "in")
    outputs = convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    assert [p.name for p in outputs.written] == ["train.msgpack", "test.msgpack"]
    for split, rows in expected.items():
        with MsgpackReader(tmp_path / "out" / f"{split}.msgpack") as reader:
            samples = list(reader)
        assert [s["key"] for s in samples] == [name for name, _, _ in rows]
        for sample, (_, row, label) in zip(samples, rows):
            assert set(sample) == {"key", "image", "label"}
            assert sample["label"] == label
            image = pixels(sample["image"])
            assert tuple(image[0, 0]) == (row[0], row[1024], row[2048])
            assert np.array_equal(image, row.reshape(3, 32, 32).transpose(1, 2, 0))
        assert MsgpackReader(tmp_path / "out" / f"{split}.msgpack").verify_data()


def test_shuffle_is_seeded_and_identical_for_any_thread_count(tmp_path):
    make_cifar10(tmp_path / "in", per_batch=3)
    convert(tmp_path / "in", tmp_path / "a", "--seed", "7", "-t", "1")
    convert(tmp_path / "in", tmp_path / "b", "--seed", "7", "-t", "2")
    convert(tmp_path / "in", tmp_path / "c", "--seed", "8", "-t", "1")
    convert(tmp_path / "in", tmp_path / "plain", "--shuffle", "no")
    data = {d: (tmp_path / d / "train.msgpack").read_bytes() for d in ("a", "b", "c")}
    assert data["a"] == data["b"]
    assert data["a"] != data["c"]
    keys = {d: MsgpackReader(tmp_path / d / "train.msgpack").keys for d in ("a", "c", "plain")}
    assert sorted(keys["a"]) == sorted(keys["plain"]) and keys["a"] != keys["plain"]


def test_existing_output_needs_no_confirm_without_a_terminal(tmp_path, monkeypatch):
    make_cifar10(tmp_path / "in")
    convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    before = (tmp_path / "out" / "train.msgpack").read_bytes()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(ConversionError, match=r"train.msgpack: output exists; pass -y/--no-confirm"):
        convert(tmp_path / "in", tmp_path / "out", "--seed", "3")
    assert (tmp_path / "out" / "train.msgpack").read_bytes() == before
    convert(tmp_path / "in", tmp_path / "out", "--seed", "3", "-y")
    assert (tmp_path / "out" / "train.msgpack").read_bytes() != before


def test_declined_overwrite_skips_that_split_and_continues(tmp_path, monkeypatch):
    make_cifar10(tmp_path / "in")
    convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    (tmp_path / "out" / "test.msgpack").unlink()
    answers = iter(["no"])
    monkeypatch.setattr("dings.sets.converter.query_user", lambda *a, **k: next(answers))
    outputs = convert(tmp_path / "in", tmp_path / "out", "--seed", "1")
    assert [p.name for p in outputs.skipped] == ["train.msgpack"]
    assert [p.name for p in outputs.written] == ["test.msgpack"]


def test_a_failing_conversion_leaves_no_output(tmp_path):
    indir = tmp_path / "in"
    indir.mkdir()
    with tarfile.open(indir / "cifar-10-python.tar.gz", "w:gz") as tar:
        add_member(tar, "cifar-10-batches-py/data_batch_1", b"not a pickle")
    with pytest.raises(ValueError, match=r"data_batch_1: not a readable pickle"):
        convert(indir, tmp_path / "out")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_a_pickle_that_runs_code_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    indir = tmp_path / "in"
    indir.mkdir()
    with tarfile.open(indir / "cifar-10-python.tar.gz", "w:gz") as tar:
        add_member(tar, "cifar-10-batches-py/data_batch_1", pickle.dumps({b"data": Evil()}, protocol=2))
    with pytest.raises(UnsafePickleError, match=r"refusing to load (posix|os)\.system"):
        convert(indir, tmp_path / "out")
    assert not (tmp_path / "pwned").exists()
