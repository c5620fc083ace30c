"""open_comp (plain/gzip/xz/bz2/zip by magic bytes), load_json, path_append, path_append_suffix."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import zipfile
from pathlib import Path

import pytest

from dings.tools import load_json, open_comp, path_append, path_append_suffix

PAYLOAD = "größe: 1\nline two\n".encode()

WRITERS = {
    "plain": Path.write_bytes,
    "gzip": lambda p, d: p.write_bytes(gzip.compress(d)),
    "xz": lambda p, d: p.write_bytes(lzma.compress(d)),
    "bz2": lambda p, d: p.write_bytes(bz2.compress(d)),
}


@pytest.mark.parametrize("kind", list(WRITERS))
def test_reads_each_compression_by_magic_bytes_whatever_the_name(tmp_path, kind):
    path = tmp_path / "source.dat"  # misleading name: detection must use the content
    WRITERS[kind](path, PAYLOAD)
    with open_comp(path) as f:
        assert f.read() == PAYLOAD
    with open_comp(path, "rt") as f:
        assert f.readlines() == ["größe: 1\n", "line two\n"]


@pytest.mark.parametrize(
    "suffix, decompress",
    [(".gz", gzip.decompress), (".xz", lzma.decompress), (".bz2", bz2.decompress), (".txt", bytes)],
)
def test_writes_by_extension(tmp_path, suffix, decompress):
    path = tmp_path / f"out{suffix}"
    with open_comp(path, "wt", level=1) as f:
        f.write("größe")
    assert decompress(path.read_bytes()) == "größe".encode()
    with open_comp(path, "rt") as f:
        assert f.read() == "größe"


def test_single_member_zip_opens_that_member(tmp_path):
    archive = tmp_path / "one.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("folder/", "")
        zf.writestr("folder/data.txt", PAYLOAD)
    with open_comp(archive) as f:
        assert f.read() == PAYLOAD
    with open_comp(archive, "rt", encoding="utf-8") as f:
        assert f.read().startswith("größe")


def test_member_path_inside_a_zip(tmp_path):
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.txt", b"A")
        zf.writestr("dir/b.json", b'{"b": 2}')
    with open_comp(tmp_path / "many.zip" / "a.txt") as f:
        assert f.read() == b"A"
    assert load_json(f"{archive}/dir/b.json") == {"b": 2}
    with pytest.raises(ValueError, match="holds 2 files, not 1; open one of them as"):
        open_comp(archive)
    with pytest.raises(FileNotFoundError, match="no member 'dir/missing.txt'"):
        open_comp(archive / "dir" / "missing.txt")


def test_zip_member_keeps_the_archive_open_until_closed(tmp_path):
    archive = tmp_path / "one.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("x.bin", b"0123456789" * 1000)
    f = open_comp(archive)
    assert f.read(5) == b"01234"
    assert len(f.read()) == 9995
    f.close()


def test_missing_file_and_bad_modes(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.gz"):
        open_comp(tmp_path / "missing.gz")
    with pytest.raises(FileNotFoundError):
        open_comp(tmp_path / "not_a_dir" / "x")
    (tmp_path / "plain.txt").write_text("x")
    with pytest.raises(FileNotFoundError):
        open_comp(tmp_path / "plain.txt" / "member")  # a plain file is no archive
    for mode in ("r+", "rbt", "", "q"):
        with pytest.raises(ValueError, match="unsupported mode"):
            open_comp(tmp_path / "x.gz", mode)
    with pytest.raises(ValueError, match="cannot write zip archives"):
        open_comp(tmp_path / "new.zip", "wb")


def test_corrupt_compressed_data_fails_on_read(tmp_path):
    path = tmp_path / "broken.gz"
    path.write_bytes(gzip.compress(PAYLOAD)[:-12] + b"garbage!")
    with pytest.raises((OSError, EOFError)):
        with open_comp(path) as f:
            f.read()


@pytest.mark.parametrize("kind", list(WRITERS))
def test_load_json_plain_and_compressed(tmp_path, kind):
    data = {"classes": ["cat", "dog"], "n": 2, "ü": None}
    path = tmp_path / "meta.json"
    WRITERS[kind](path, json.dumps(data).encode())
    assert load_json(path) == data


def test_load_json_error_names_the_file(tmp_path):
    path = tmp_path / "bad.json.gz"
    path.write_bytes(gzip.compress(b'{"a": '))
    with pytest.raises(ValueError, match=r"bad\.json\.gz: not valid JSON"):
        load_json(path)


def test_path_append_appends_to_the_name_like_datadings():
    assert path_append(Path("a/b.msgpack"), "_x") == Path("a/b.msgpack_x")
    assert path_append("some.file", "txt") == Path("some.filetxt")
    assert path_append("a/b.msgpack", "_x", before_suffix=True) == Path("a/b_x.msgpack")
    assert path_append("a/noext", "_x", before_suffix=True) == Path("a/noext_x")
    assert path_append("a/b.tar.gz", "_1", before_suffix=True) == Path("a/b.tar_1.gz")


@pytest.mark.parametrize("bad", ["/", "", "."])
def test_path_append_refuses_a_path_without_name(bad):
    with pytest.raises(ValueError, match="has no file name"):
        path_append(bad, "x")


def test_path_append_suffix_only_when_missing():
    assert path_append_suffix(Path("some.file"), ".file") == Path("some.file")
    assert path_append_suffix(Path("some.file"), ".txt") == Path("some.file.txt")
    assert path_append_suffix("some.file", "txt") == Path("some.filetxt")
    assert path_append_suffix("out/train", ".msgpack") == Path("out/train.msgpack")
    with pytest.raises(ValueError, match="has no file name"):
        path_append_suffix("/", ".msgpack")
