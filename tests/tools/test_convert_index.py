"""convert_index: a legacy ``.index`` becomes the new index files and md5, byte-identical to a writer's."""

from __future__ import annotations

import shutil

import msgpack
import numpy as np
import pytest

from dings.format import CorruptIndexError, DamagedDataError, index_path
from dings.tools import convert_index, verify

NEW_FILES = (".offsets", ".keys", ".key_hashes", ".filter", ".crc32", ".md5")


@pytest.fixture
def written(make_dataset, tmp_path):
    """A dataset written by FileWriter, kept as the reference for the conversion."""
    (tmp_path / "reference").mkdir()
    return make_dataset("set.msgpack", n=40, folder=tmp_path / "reference")


def make_legacy(reference, folder):
    """Copy the data file of ``reference`` into ``folder`` with only a legacy index next to it."""
    folder.mkdir(exist_ok=True)
    data = folder / reference.name
    shutil.copyfile(reference, data)
    offsets = np.frombuffer(index_path(reference, ".offsets").read_bytes(), ">u8")
    keys = msgpack.unpackb(index_path(reference, ".keys").read_bytes())
    mapping = {key: int(start) for key, start in zip(keys, offsets[:-1])}
    index_path(data, ".index").write_bytes(msgpack.packb(mapping, use_bin_type=True))
    return data


def test_in_place_conversion_matches_the_writers_files(written, tmp_path):
    legacy = make_legacy(written, tmp_path / "legacy")
    result = convert_index(index_path(legacy, ".index"), progress=False)
    assert result == legacy
    for suffix in NEW_FILES:
        assert index_path(legacy, suffix).read_bytes() == index_path(written, suffix).read_bytes(), suffix
    assert index_path(legacy, ".index").exists()  # left as it was
    assert verify(legacy, deep=True, progress=False).ok
    assert sorted(p.name for p in legacy.parent.iterdir()) == sorted(
        [legacy.name, legacy.name + ".index"] + [legacy.name + s for s in NEW_FILES]
    )


@pytest.mark.parametrize("link", [False, True])
def test_conversion_to_another_folder_copies_or_links_the_data(written, tmp_path, link):
    legacy = make_legacy(written, tmp_path / "legacy")
    before = sorted(p.name for p in legacy.parent.iterdir())
    result = convert_index(legacy, tmp_path / "out" / "deeper", link=link, progress=False)
    assert result == tmp_path / "out" / "deeper" / legacy.name
    assert sorted(p.name for p in legacy.parent.iterdir()) == before
    for suffix in ("",) + NEW_FILES:
        assert index_path(result, suffix).read_bytes() == index_path(written, suffix).read_bytes(), suffix
    assert not index_path(result, ".index").exists()
    assert (result.stat().st_ino == legacy.stat().st_ino) == link
    assert verify(result, progress=False).ok


def test_empty_legacy_dataset(tmp_path):
    data = tmp_path / "empty.msgpack"
    data.write_bytes(b"")
    index_path(data, ".index").write_bytes(msgpack.packb({}))
    convert_index(data, progress=False)
    assert verify(data, deep=True, progress=False).ok
    assert msgpack.unpackb(index_path(data, ".keys").read_bytes()) == []


def test_existing_outputs_are_refused_unless_overwrite(written, tmp_path):
    legacy = make_legacy(written, tmp_path / "legacy")
    index_path(legacy, ".offsets").write_bytes(b"stale")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        convert_index(legacy, progress=False)
    assert index_path(legacy, ".offsets").read_bytes() == b"stale"
    assert not index_path(legacy, ".md5").exists()
    convert_index(legacy, overwrite=True, progress=False)
    assert verify(legacy, progress=False).ok


def test_missing_files_are_clear_errors(written, tmp_path):
    with pytest.raises(FileNotFoundError, match="legacy index not found"):
        convert_index(written, tmp_path / "elsewhere", progress=False)
    with pytest.raises(FileNotFoundError, match="data file not found"):
        convert_index(tmp_path / "nope.msgpack", progress=False)


def test_a_dataset_without_checksums_gets_them(written):
    crc = index_path(written, ".crc32")
    expected = crc.read_bytes()
    with pytest.raises(FileExistsError, match="crc32: exists"):
        convert_index(written, progress=False)
    crc.unlink()
    others = {p.name: p.read_bytes() for p in written.parent.iterdir()}
    assert convert_index(written, progress=False) == written
    assert crc.read_bytes() == expected  # the writers' checksums, rebuilt
    assert {p.name: p.read_bytes() for p in written.parent.iterdir() if p != crc} == others


def test_checksums_are_not_added_to_damaged_data(written):
    index_path(written, ".crc32").unlink()
    data = bytearray(written.read_bytes())
    data[len(data) // 2] ^= 0x40
    written.write_bytes(bytes(data))
    with pytest.raises(DamagedDataError, match="does not match its md5 file"):
        convert_index(written, progress=False)
    assert not index_path(written, ".crc32").exists()


def test_a_legacy_index_that_does_not_fit_the_data_is_refused(written, tmp_path):
    legacy = make_legacy(written, tmp_path / "legacy")
    mapping = msgpack.unpackb(index_path(legacy, ".index").read_bytes())
    mapping["s0039"] = legacy.stat().st_size + 100
    index_path(legacy, ".index").write_bytes(msgpack.packb(mapping))
    with pytest.raises(CorruptIndexError, match=r"\.index"):
        convert_index(legacy, progress=False)
    assert sorted(p.name for p in legacy.parent.iterdir()) == [legacy.name, legacy.name + ".index"]


def test_repeated_keys_in_a_legacy_index_are_refused(tmp_path):
    data = tmp_path / "dup.msgpack"
    samples = [msgpack.packb({"key": k}) for k in "abc"]
    data.write_bytes(b"".join(samples))
    # a map with the key "b" twice: decoding keeps the last, so sample b would silently vanish
    entries = [("a", 0), ("b", len(samples[0])), ("b", len(samples[0]) + len(samples[1]))]
    index = b"\x83" + b"".join(msgpack.packb(k) + msgpack.packb(v) for k, v in entries)
    index_path(data, ".index").write_bytes(index)
    with pytest.raises(CorruptIndexError, match="keys repeat"):
        convert_index(data, progress=False)
    assert not index_path(data, ".offsets").exists()


def test_convert_index_prints_nothing_without_progress(written, tmp_path, capsys):
    convert_index(make_legacy(written, tmp_path / "legacy"), tmp_path / "out", progress=False)
    assert capsys.readouterr() == ("", "")
