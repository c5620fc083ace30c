"""stage: copy datasets to a local folder, skip verified files, redo damaged ones, never look complete early."""

from __future__ import annotations

import importlib
import json

import pytest

from dings.format import ShardedWriter, index_path, load_label_names, write_label_names
from dings.tools import stage, verify

# the package exports the function under the module's name; the module itself is in sys.modules
stage_module = importlib.import_module("dings.tools.stage")

SUFFIXES = ("", ".offsets", ".keys", ".key_hashes", ".filter", ".crc32", ".md5")


def files_of(data):
    return [index_path(data, s) for s in SUFFIXES]


@pytest.fixture
def source(make_dataset, tmp_path):
    (tmp_path / "global").mkdir()
    return make_dataset("train.msgpack", n=60, folder=tmp_path / "global")


def test_stage_copies_every_file_and_then_skips_them(source, tmp_path):
    local = tmp_path / "local"
    first = stage(source, local, progress=False)
    assert first.datasets == [local / source.name]
    assert sorted(first.copied) == sorted(files_of(local / source.name))
    assert first.skipped == []
    assert first.bytes_copied == sum(p.stat().st_size for p in files_of(source))
    for src, dst in zip(files_of(source), files_of(local / source.name)):
        assert src.read_bytes() == dst.read_bytes()
    assert first.copied[-1].name.endswith(".md5")  # the md5 file last
    inodes = [p.stat().st_ino for p in files_of(local / source.name)]
    again = stage(source, local, progress=False)
    assert again.copied == [] and again.bytes_copied == 0
    assert sorted(again.skipped) == sorted(files_of(local / source.name))
    assert [p.stat().st_ino for p in files_of(local / source.name)] == inodes
    assert verify(local / source.name, deep=True, progress=False).ok
    assert list(local.glob(".*")) == []


def test_the_checksum_and_label_name_sidecars_travel_with_the_copy(source, tmp_path):
    write_label_names(source, ["cat", "dog"])
    local = tmp_path / "local"
    first = stage(source, local, progress=False)
    for suffix in (".crc32", ".labels.json"):
        assert (local / (source.name + suffix)).read_bytes() == index_path(source, suffix).read_bytes()
    assert first.copied[-1].name.endswith(".md5")  # still the last file: the copy looks complete only then
    assert load_label_names(local / source.name) == ["cat", "dog"]
    report = verify(local / source.name, progress=False)
    assert report.ok and "checksums" in report.checked and not report.notes
    write_label_names(source, ["a much longer first name", "dog"])  # changed in the source: copied again
    again = stage(source, local, progress=False)
    assert [p.name for p in again.copied] == [source.name + ".labels.json"]
    assert load_label_names(local / source.name) == ["a much longer first name", "dog"]


def test_a_damaged_local_file_is_copied_again(source, tmp_path):
    local = tmp_path / "local"
    stage(source, local, progress=False)
    data = bytearray((local / source.name).read_bytes())
    data[5] ^= 0xFF  # same size, wrong md5
    (local / source.name).write_bytes(bytes(data))
    keys = index_path(local / source.name, ".keys")
    keys.write_bytes(keys.read_bytes()[:-4])  # incomplete
    result = stage(source, local, progress=False)
    assert sorted(p.name for p in result.copied) == sorted([source.name, keys.name, source.name + ".md5"])
    assert sorted(p.name for p in result.skipped) == sorted(
        source.name + s for s in (".offsets", ".key_hashes", ".filter", ".crc32")
    )
    assert verify(local / source.name, progress=False).ok


def test_a_missing_local_md5_file_is_rewritten_alone(source, tmp_path):
    local = tmp_path / "local"
    stage(source, local, progress=False)
    index_path(local / source.name, ".md5").unlink()
    result = stage(source, local, progress=False)
    assert result.copied == [index_path(local / source.name, ".md5")]
    assert len(result.skipped) == 6


def test_an_interrupted_stage_never_looks_complete(source, tmp_path, make_dataset, monkeypatch):
    local = tmp_path / "local"
    stage(source, local, progress=False)  # an older, complete copy
    make_dataset("train.msgpack", n=70, prefix="new", folder=source.parent, overwrite=True)  # the source changes
    original = stage_module.copy_file
    copies = []

    def interrupted(src, dst, bar=None):
        if dst is not None:
            copies.append(src)
            if len(copies) == 2:
                raise KeyboardInterrupt
        return original(src, dst, bar)

    monkeypatch.setattr(stage_module, "copy_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        stage(source, local, progress=False)
    assert not index_path(local / source.name, ".md5").exists()
    assert not verify(local / source.name, progress=False).ok
    assert list(local.glob(".*")) == []  # no temporary file left behind
    monkeypatch.setattr(stage_module, "copy_file", original)
    stage(source, local, progress=False)
    for src, dst in zip(files_of(source), files_of(local / source.name)):
        assert src.read_bytes() == dst.read_bytes()


def test_a_damaged_source_is_an_error_and_nothing_is_renamed_into_place(source, tmp_path):
    data = bytearray(source.read_bytes())
    data[-2] ^= 0x10
    source.write_bytes(bytes(data))
    local = tmp_path / "local"
    with pytest.raises(OSError, match="source is damaged"):
        stage(source, local, progress=False)
    assert not (local / source.name).exists()
    assert not index_path(local / source.name, ".md5").exists()
    assert list(local.glob(".*")) == []


def test_a_folder_or_glob_of_shards(tmp_path):
    with ShardedWriter(tmp_path / "shards" / "train", max_samples=10, progress=False) as writer:
        for i in range(35):
            writer.write({"key": f"k{i}", "v": i})
    folder = tmp_path / "shards" / "train"
    local = tmp_path / "local"
    result = stage(folder, local, progress=False)
    assert [p.name for p in result.datasets] == [f"train-0000{i}.msgpack" for i in range(4)]
    assert len(result.copied) == 4 * 7
    assert all(verify(p, progress=False).ok for p in result.datasets)
    partial = stage(str(folder / "train-0000[12].msgpack"), tmp_path / "two", progress=False)
    assert [p.name for p in partial.datasets] == ["train-00001.msgpack", "train-00002.msgpack"]
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(
        f"train-0000{i}.msgpack{s}" for i in (1, 2) for s in SUFFIXES
    )


def test_result_text_and_dict(source, tmp_path):
    result = stage(source, tmp_path / "local", progress=False)
    assert "7 file(s) copied" in str(result)
    data = json.loads(json.dumps(result.to_dict()))
    assert len(data["copied"]) == 7 and data["bytes_copied"] == result.bytes_copied


def test_stage_errors(source, tmp_path, make_dataset):
    with pytest.raises(FileNotFoundError, match="no .msgpack dataset matches"):
        stage(str(tmp_path / "nothing-*.msgpack"), tmp_path / "local", progress=False)
    with pytest.raises(FileNotFoundError, match="data file not found"):
        stage(tmp_path / "absent.msgpack", tmp_path / "local", progress=False)
    with pytest.raises(ValueError, match="is also an input"):
        stage(source, source.parent, progress=False)
    index_path(source, ".md5").unlink()
    with pytest.raises(FileNotFoundError, match="md5 file missing"):
        stage(source, tmp_path / "local", progress=False)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    make_dataset("same.msgpack", n=2, folder=tmp_path / "a")
    make_dataset("same.msgpack", n=2, folder=tmp_path / "b")
    with pytest.raises(ValueError, match="would both be staged"):
        stage(str(tmp_path / "[ab]" / "same.msgpack"), tmp_path / "local", progress=False)
    assert not (tmp_path / "local").exists()


def test_stage_prints_nothing_without_progress(source, tmp_path, capsys):
    stage(source, tmp_path / "local", progress=False)
    stage(source, tmp_path / "local", progress=False)
    assert capsys.readouterr() == ("", "")
