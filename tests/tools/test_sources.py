"""Source files: hash_md5hex, load_md5file, locate_files, verify_files and prepare_indir (with a local HTTP server)."""

from __future__ import annotations

import hashlib
import random

import pytest

from dings.format import FileWriter
from dings.tools import (
    ChecksumMismatchError,
    DownloadError,
    Md5FileError,
    MissingSourceFileError,
    SourceFileError,
    hash_md5hex,
    load_md5file,
    locate_files,
    prepare_indir,
    verify_files,
)

TRAIN = random.Random(1).randbytes(100_000)
TEST = random.Random(2).randbytes(30_000)
QUIET = {"progress": False, "backoff": 0.0}


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


# --- hash_md5hex ---


@pytest.mark.parametrize("data", [b"", b"abc", TRAIN])
def test_hash_md5hex(tmp_path, data):
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert hash_md5hex(path) == md5(data)
    assert hash_md5hex(str(path), read_size=999) == md5(data)  # many blocks, last one short


def test_hash_md5hex_progress(tmp_path, capsys):
    path = tmp_path / "f.bin"
    path.write_bytes(TEST)
    hash_md5hex(path, progress=False)
    assert capsys.readouterr().err == ""
    hash_md5hex(path, progress=True)
    assert "md5 f.bin" in capsys.readouterr().err


def test_hash_md5hex_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        hash_md5hex(tmp_path / "missing")


# --- load_md5file ---


def test_load_md5file_formats(tmp_path):
    a, b, c, d, e, f = (md5(bytes([i])) for i in range(6))
    path = tmp_path / "MD5SUMS"
    path.write_bytes(
        (
            f"# checksums\n{a}  train.zip\r\n\n{b.upper()} *images/test.tar\n"
            f"MD5 (bsd name.txt) = {c}\n\\{d}  odd\\\\name\\nx\n{e}  name with  spaces\n{f} one_space.bin\n"
        ).encode()
    )
    assert load_md5file(path) == {
        "train.zip": a,
        "images/test.tar": b,
        "bsd name.txt": c,
        "odd\\name\nx": d,
        "name with  spaces": e,
        "one_space.bin": f,
    }


def test_load_md5file_reads_dataset_md5(tmp_path):
    data = tmp_path / "set.msgpack"
    with FileWriter(data, progress=False) as writer:
        writer.write({"key": "a", "v": 1})
    digests = load_md5file(tmp_path / "set.msgpack.md5")
    assert digests["set.msgpack"] == md5(data.read_bytes())
    assert all(hash_md5hex(tmp_path / name) == digest for name, digest in digests.items())


@pytest.mark.parametrize(
    "line",
    [
        "d41d8cd98f00b204e9800998ecf8427e",  # no name
        "d41d8cd98f00b204e9800998ecf8427  short.bin",  # 31 digits
        "g41d8cd98f00b204e9800998ecf8427e  bad.bin",  # not hex
        "d41d8cd98f00b204e9800998ecf8427e\tfile.bin",  # tab
        "file.bin  d41d8cd98f00b204e9800998ecf8427e",  # swapped
    ],
)
def test_load_md5file_malformed_line(tmp_path, line):
    path = tmp_path / "sums.md5"
    path.write_text(f"{md5(b'')}  ok.bin\n\n{line}\n")
    with pytest.raises(Md5FileError) as info:
        load_md5file(path)
    assert str(info.value).startswith(f"{path}:3: expected '<32 hex digits>  <file name>'")
    assert isinstance(info.value, ValueError) and isinstance(info.value, SourceFileError)


def test_load_md5file_conflicting_duplicate(tmp_path):
    path = tmp_path / "sums.md5"
    path.write_text(f"{md5(b'a')}  x.bin\n{md5(b'a')}  x.bin\n{md5(b'b')}  x.bin\n")
    with pytest.raises(Md5FileError, match=r"sums\.md5:3: 'x.bin' is listed again"):
        load_md5file(path)


def test_load_md5file_binary_garbage(tmp_path):
    path = tmp_path / "sums.md5"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(Md5FileError, match="not a text file"):
        load_md5file(path)


def test_load_md5file_missing(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_md5file(tmp_path / "nope.md5")


# --- locate_files / verify_files ---


def test_locate_files(tmp_path, monkeypatch):
    files = {"train": {"path": "a/train.bin", "url": "http://x/train.bin", "md5": md5(TRAIN)}}
    monkeypatch.chdir(tmp_path)
    located = locate_files(files, "in")
    assert located["train"]["path"] == tmp_path / "in" / "a" / "train.bin"
    assert located["train"]["path"].is_absolute()
    assert located["train"]["url"] == "http://x/train.bin"
    assert files["train"]["path"] == "a/train.bin"  # a copy; the input is untouched


@pytest.mark.parametrize(
    "spec, message",
    [
        ("train.bin", "expected a mapping"),
        ({"url": "http://x"}, "has no 'path'"),
        ({"path": "t.bin", "md5": "1234"}, "'md5' must be 32 hex digits"),
    ],
)
def test_locate_files_bad_spec(tmp_path, spec, message):
    with pytest.raises(ValueError, match=rf"files\['train'\]: .*{message}"):
        locate_files({"train": spec}, tmp_path)


def test_verify_files(tmp_path):
    (tmp_path / "train.bin").write_bytes(TRAIN)
    (tmp_path / "extra.txt").write_bytes(b"no checksum published")
    files = {
        "train": {"path": "train.bin", "md5": md5(TRAIN).upper()},
        "extra": {"path": "extra.txt", "md5": None},
        "unchecked_missing": {"path": "gone.bin"},  # no md5: not verified, so not required
    }
    located = verify_files(files, tmp_path, progress=False)
    assert located["train"]["path"] == tmp_path / "train.bin"


def test_verify_files_mismatch(tmp_path):
    (tmp_path / "train.bin").write_bytes(TRAIN[:-1])
    with pytest.raises(ChecksumMismatchError) as info:
        verify_files({"train": {"path": "train.bin", "md5": md5(TRAIN)}}, tmp_path, progress=False)
    error = info.value
    assert (error.name, error.path, error.expected, error.actual) == (
        "train",
        tmp_path / "train.bin",
        md5(TRAIN),
        md5(TRAIN[:-1]),
    )
    assert md5(TRAIN) in str(error) and md5(TRAIN[:-1]) in str(error)


def test_verify_files_missing(tmp_path):
    with pytest.raises(MissingSourceFileError, match="train.bin: source file 'train' is missing"):
        verify_files({"train": {"path": "train.bin", "md5": md5(TRAIN)}}, tmp_path, progress=False)


# --- prepare_indir ---


def _specs(server, **train_options):
    return {
        "train": {"path": "train.bin", "url": server.add("/train.bin", TRAIN, **train_options), "md5": md5(TRAIN)},
        "test": {"path": "sub/test.bin", "url": server.add("/test.bin", TEST), "md5": md5(TEST)},
    }


def test_prepare_indir_downloads_and_verifies(http_server, tmp_path):
    files = _specs(http_server)
    indir = tmp_path / "in"
    located = prepare_indir(files, indir, **QUIET)
    assert located["train"]["path"] == indir / "train.bin"
    assert located["test"]["path"] == indir / "sub" / "test.bin"
    assert located["train"]["path"].read_bytes() == TRAIN
    assert located["test"]["path"].read_bytes() == TEST
    assert located["train"]["md5"] == md5(TRAIN)
    assert len(http_server.requests) == 2


def test_prepare_indir_does_not_download_existing_files(http_server, tmp_path):
    files = _specs(http_server)
    (tmp_path / "sub").mkdir()
    (tmp_path / "train.bin").write_bytes(TRAIN)
    (tmp_path / "sub" / "test.bin").write_bytes(TEST)
    prepare_indir(files, tmp_path, **QUIET)
    assert http_server.requests == []


def test_prepare_indir_resumes_interrupted_download(http_server, tmp_path):
    files = _specs(http_server, drop_after=50_000)
    prepare_indir(files, tmp_path, retries=1, **QUIET)
    assert (tmp_path / "train.bin").read_bytes() == TRAIN
    assert http_server.ranges("/train.bin") == [None, "bytes=50000-"]


def test_prepare_indir_wrong_content(http_server, tmp_path):
    files = _specs(http_server, corrupt=True)
    with pytest.raises(ChecksumMismatchError) as info:
        prepare_indir(files, tmp_path, **QUIET)
    served = http_server.routes["/train.bin"].body()
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'train.bin'}: md5 mismatch for source file 'train'")
    assert f"expected {md5(TRAIN)}, got {md5(served)}" in message
    assert files["train"]["url"] in message and "delete the file and run again" in message
    assert "\n" not in message


def test_prepare_indir_damaged_existing_file(http_server, tmp_path):
    files = _specs(http_server)
    (tmp_path / "train.bin").write_bytes(TRAIN[:1000])
    with pytest.raises(ChecksumMismatchError, match="damaged, incomplete or another version; delete it and run again"):
        prepare_indir(files, tmp_path, **QUIET)
    assert http_server.ranges("/train.bin") == []  # an existing file is verified, not re-downloaded


def test_prepare_indir_skip_verification(http_server, tmp_path):
    files = _specs(http_server, corrupt=True)
    located = prepare_indir(files, tmp_path, skip_verification=True, **QUIET)
    assert located["train"]["path"].read_bytes() == http_server.routes["/train.bin"].body()


def test_prepare_indir_manual_download_missing(http_server, tmp_path):
    files = _specs(http_server)
    files["extra"] = {
        "path": "extra/labels.tar",
        "url": None,
        "md5": md5(b"labels"),
        "instructions": "register at https://example.org/register and download labels.tar",
    }
    with pytest.raises(MissingSourceFileError) as info:
        prepare_indir(files, tmp_path, **QUIET)
    message = str(info.value)
    target = tmp_path / "extra" / "labels.tar"
    assert "source file 'extra' must be downloaded by hand" in message
    assert "register at https://example.org/register and download labels.tar" in message
    assert f"put it at {target}" in message
    assert isinstance(info.value, FileNotFoundError)
    assert http_server.requests == []  # reported before any download starts


def test_prepare_indir_manual_download_present(http_server, tmp_path):
    (tmp_path / "labels.tar").write_bytes(b"labels")
    files = {"extra": {"path": "labels.tar", "md5": md5(b"labels")}}
    assert prepare_indir(files, tmp_path, **QUIET)["extra"]["path"] == tmp_path / "labels.tar"


def test_prepare_indir_manual_folder_without_md5(tmp_path):
    files = {"data": {"path": "Unpacked", "url": None, "md5": None, "instructions": "unpack the archive here"}}
    with pytest.raises(MissingSourceFileError, match=r"'data' must be downloaded by hand: unpack the archive here"):
        prepare_indir(files, tmp_path, **QUIET)
    (tmp_path / "Unpacked").mkdir()
    assert prepare_indir(files, tmp_path, **QUIET)["data"]["path"] == tmp_path / "Unpacked"
    # a folder is no substitute for a file with a checksum
    (tmp_path / "labels.tar").mkdir()
    with pytest.raises(MissingSourceFileError, match="'extra' must be downloaded by hand"):
        prepare_indir({"extra": {"path": "labels.tar", "md5": md5(b"labels")}}, tmp_path, **QUIET)


def test_prepare_indir_manual_download_damaged(tmp_path):
    (tmp_path / "labels.tar").write_bytes(b"other")
    files = {"extra": {"path": "labels.tar", "md5": md5(b"labels"), "instructions": "ask the authors"}}
    with pytest.raises(ChecksumMismatchError, match=r"replace it \(ask the authors\)"):
        prepare_indir(files, tmp_path, **QUIET)


def test_prepare_indir_download_error(http_server, tmp_path):
    files = _specs(http_server, status=404)
    with pytest.raises(DownloadError, match="HTTP 404"):
        prepare_indir(files, tmp_path, **QUIET)
    assert not (tmp_path / "train.bin").exists()
