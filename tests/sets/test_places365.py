"""Places365_write: every variant's archives become training/validation/testing, in archive order."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

import dings.sets.Places365 as places
from dings.readers import MsgpackReader
from dings.sets import Places365_write, get
from dings.sets.converter import converter_parser

from .places365_fixtures import make_places365

META = Path(places.__file__).with_name("meta") / "Places365_classes.json.gz"


def convert(indir, outdir, *extra):
    return Places365_write.main([str(indir), "-o", str(outdir), "-s", "-q", *extra])


def read(path):
    with MsgpackReader(path) as reader:
        assert reader.verify_data()
        return list(reader)


@pytest.mark.parametrize("flags", [("-l",), ()], ids=["low-res", "large"])
def test_every_sample_keeps_member_path_jpeg_and_label(tmp_path, flags):
    expected = make_places365(tmp_path / "in", low_res=bool(flags))
    outputs = convert(tmp_path / "in", tmp_path / "out", *flags)
    assert [p.name for p in outputs.written] == ["training.msgpack", "validation.msgpack", "testing.msgpack"]
    for split, rows in expected.items():
        samples = read(tmp_path / "out" / f"{split}.msgpack")
        assert [s["key"] for s in samples] == [key for key, _, _ in rows]
        for sample, (key, image, label) in zip(samples, rows):
            if label is None:
                assert sample == {"key": key, "image": image}
            else:
                assert sample == {"key": key, "image": image, "label": label}
                assert type(sample["label"]) is int
    training = read(tmp_path / "out" / "training.msgpack")
    assert [places.CLASSES[s["label"]] for s in training[::2]] == [
        "airfield",
        "apartment_building/outdoor",
        "zen_garden",
    ]


def test_only_the_chosen_variant_files_are_needed(tmp_path):
    make_places365(tmp_path / "in", low_res=True, challenge=True)
    outputs = convert(tmp_path / "in", tmp_path / "out", "-l", "-c")
    assert len(read(outputs.written[0])) == 6
    # no other Places365 file is in INDIR, so none other was asked for (it would have been downloaded)
    assert sorted(os.listdir(tmp_path / "in")) == sorted(places.source_names(low_res=True, challenge=True))
    assert places.source_names() == [
        "filelist_places365-standard.tar",
        "train_large_places365standard.tar",
        "val_large.tar",
        "test_large.tar",
    ]


def test_output_matches_the_reference_converter(tmp_path, monkeypatch):
    write = pytest.importorskip("datadings.sets.Places365_write", reason="the datadings oracle is not installed")
    make_places365(tmp_path / "in", low_res=True)
    convert(tmp_path / "in", tmp_path / "ours", "-l")
    (tmp_path / "ref").mkdir()
    monkeypatch.setattr("sys.argv", ["x", str(tmp_path / "in"), "-o", str(tmp_path / "ref"), "-l", "-s", "-y"])
    write.main()
    for split in ("training", "validation", "testing"):
        ours = (tmp_path / "ours" / f"{split}.msgpack").read_bytes()
        assert ours == (tmp_path / "ref" / f"{split}.msgpack").read_bytes(), split


def test_unknown_training_class_is_an_error_and_leaves_no_output(tmp_path):
    make_places365(tmp_path / "in")
    import tarfile

    from .places365_fixtures import add_member, jpeg

    with tarfile.open(tmp_path / "in" / "train_256_places365standard.tar", "a") as tar:
        add_member(tar, "data_256/n/no_such_place/00000001.jpg", jpeg(99))
    with pytest.raises(
        ValueError,
        match=r"member data_256/n/no_such_place/00000001.jpg is in folder 'no_such_place', which is not a Places365 class",
    ):
        convert(tmp_path / "in", tmp_path / "out", "-l")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_validation_image_without_label_is_an_error(tmp_path):
    make_places365(tmp_path / "in", val_lines="Places365_val_00000001.jpg 17\n")
    with pytest.raises(
        ValueError, match=r"member val_256/Places365_val_00000002.jpg has no label in filelist_places365-standard.tar"
    ):
        convert(tmp_path / "in", tmp_path / "out", "-l")
    assert not (tmp_path / "out" / "validation.msgpack").exists()


@pytest.mark.parametrize("line", ["Places365_val_00000001.jpg seventeen", "Places365_val_00000001.jpg 365", "x 1 2"])
def test_malformed_validation_list_names_the_line(tmp_path, line):
    make_places365(tmp_path / "in", val_lines=f"Places365_val_00000002.jpg 3\n{line}\n")
    with pytest.raises(ValueError, match=r"places365_val.txt line 2: expected '<file name> <label 0..364>'"):
        convert(tmp_path / "in", tmp_path / "out", "-l")


def test_truncated_tar_is_an_error_and_leaves_no_output(tmp_path):
    make_places365(tmp_path / "in")
    path = tmp_path / "in" / "test_256.tar"
    path.write_bytes(path.read_bytes()[:1500])
    with pytest.raises(ValueError, match=r"test_256.tar: not a readable tar archive"):
        convert(tmp_path / "in", tmp_path / "out", "-l")
    assert not (tmp_path / "out" / "testing.msgpack").exists()
    assert (tmp_path / "out" / "validation.msgpack").exists()  # the splits before it are complete


def test_class_metadata_matches_the_shipped_file():
    with gzip.open(META, "rt", encoding="utf-8") as f:
        shipped = json.load(f)
    assert places.CLASSES == tuple(shipped)
    assert len(places.CLASSES) == 365 and list(places.CLASSES) == sorted(places.CLASSES)
    assert places.CLASSES[0] == "airfield" and places.CLASSES[-1] == "zen_garden"
    assert places.CLASSES[8] == "apartment_building/outdoor"
    assert sum("/" in c for c in places.CLASSES) == 75
    assert places.CLASS_TO_ID["zen_garden"] == 364 and places.ID_TO_CLASS[8] == "apartment_building/outdoor"
    with pytest.raises(AttributeError, match="NO_SUCH"):
        places.NO_SUCH  # noqa: B018


def test_catalog_entry_and_help_list_options_and_differences():
    info = get("places365")
    assert info is places.INFO and info.converter == "dings.sets.Places365_write"
    assert [s.name for s in info.splits] == ["training", "validation", "testing"]
    assert {s.name for s in info.sources} == {
        n for low in (False, True) for ch in (False, True) for n in places.source_names(low, ch)
    }
    assert all(s.url.endswith(s.name) and len(s.md5) == 32 for s in info.sources)
    text = converter_parser(info).format_help()
    assert "--low-res" in text and "--challenge" in text and "--shuffle" not in text
    assert "places365_val.txt" in text
