"""Untrusted class metadata of exports: a folder's ``labels.json`` and a shard's ``__dings__`` member.

Each damaged or hostile file ends in one ``ImportDataError`` naming the file or member; a
``labels.json`` that another tool wrote (no ``"label_names"``) is left alone.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from dings.format import load_label_names
from dings.readers import MsgpackReader
from dings.tools import ImportDataError, import_folder, import_webdataset

from ..cli.conftest import png

#: the first bytes of a PNG file: enough for the import's image check
PNG = png(0)  # a real image: imports decode what they check
DEEP = "[" * 100_000 + "]" * 100_000


def tree(root: Path, labels_json: str | bytes | None) -> Path:
    """Class folders ``b`` and ``a`` with one image each, and ``labels.json`` as given."""
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        (root / name / "1.png").write_bytes(PNG)
    if labels_json is not None:
        path = root / "labels.json"
        path.write_bytes(labels_json if isinstance(labels_json, bytes) else labels_json.encode())
    return root


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "not valid JSON"),
        ('{"label_names": ' + DEEP + "}", "nested too deeply"),
        ('{"label_names": [1, 2]}', "not a class file"),
        ('{"label_names": "ab"}', "not a class file"),
        ('{"label_names": ["b", "a"], "keys": ["x"]}', "not a class file"),
        ('{"label_names": ["b", "a"], "keys": {"a/1.png": 7}}', "not a class file"),
        ('{"label_names": ["b", "a", "b"]}', "listed twice"),
        ('{"label_names": ["b"]}', "not in the class list"),
    ],
)
def test_a_damaged_class_file_is_refused_naming_it(tmp_path, text, message):
    root = tree(tmp_path / "tree", text)
    with pytest.raises(ImportDataError, match=message) as caught:
        import_folder(root, tmp_path / "out.msgpack", progress=False)
    assert str(root) in str(caught.value) and "\n" not in str(caught.value)
    assert not (tmp_path / "out.msgpack").exists()


@pytest.mark.parametrize("text", ['{"classes": ["b", "a"]}', "[1, 2, 3]", '"labels"'])
def test_another_tools_labels_json_is_ignored(tmp_path, text):
    root = tree(tmp_path / "tree", text)
    import_folder(root, tmp_path / "out.msgpack", progress=False)
    assert load_label_names(tmp_path / "out.msgpack") == ["a", "b"]  # the sorted folders, as without it


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs need a POSIX system")
def test_a_class_file_that_is_a_fifo_is_not_read(tmp_path):
    root = tree(tmp_path / "tree", None)
    os.mkfifo(root / "labels.json")
    import_folder(root, tmp_path / "out.msgpack", progress=False)  # would hang if it opened the FIFO
    assert load_label_names(tmp_path / "out.msgpack") == ["a", "b"]


def test_a_huge_sparse_class_file_is_refused_before_reading(tmp_path):
    root = tree(tmp_path / "tree", None)
    with open(root / "labels.json", "wb") as f:
        f.truncate((1 << 30) + 1)  # sparse: no disk space, but more than a class file takes
    with pytest.raises(ImportDataError, match=r"labels\.json: .* more than a class file takes"):
        import_folder(root, tmp_path / "out.msgpack", progress=False)


def test_keys_that_map_two_files_to_one_key_are_refused(tmp_path):
    root = tree(tmp_path / "tree", '{"label_names": ["b", "a"], "keys": {"a/1.png": "k", "b/1.png": "k"}}')
    with pytest.raises(ImportDataError, match="'k'"):
        import_folder(root, tmp_path / "out.msgpack", progress=False)


def shard(path: Path, meta: bytes | None, *, declared: int | None = None) -> Path:
    """A shard with a first member ``__dings__`` holding ``meta`` and one sample (label 1)."""
    with tarfile.open(path, "w") as archive:
        members = [("__dings__", meta)] if meta is not None else []
        for name, data in [*members, ("s0.png", PNG), ("s0.cls", b"1")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    if declared is not None:  # rewrite the first header's size field (and its checksum)
        raw = bytearray(path.read_bytes())
        raw[124:136] = f"{declared:011o}\0".encode()
        raw[148:156] = b" " * 8
        raw[148:156] = f"{sum(raw[:512]):06o}\0 ".encode()
        path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize(
    "meta, message",
    [
        (b"\xff\xfe{", "not valid JSON"),
        (b'{"label_names": ' + DEEP.encode() + b"}", "nested too deeply"),
        (b'{"label_names": {"a": 1}}', 'not {"label_names"'),
        (b'{"label_names": [0, 1]}', 'not {"label_names"'),
        (b'{"label_names": ["x", "x"]}', "listed twice"),
        (b'{"label_names": ["only"]}', "outside the class list"),
    ],
)
def test_a_damaged_metadata_member_is_refused_naming_it(tmp_path, meta, message):
    path = shard(tmp_path / "in.tar", meta)
    with pytest.raises(ImportDataError, match=message) as caught:
        import_webdataset(path, tmp_path / "out.msgpack", progress=False)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_a_metadata_member_over_the_member_limit_is_refused_before_reading(tmp_path):
    path = shard(tmp_path / "in.tar", b'{"label_names": ["a", "b"]}')
    with pytest.raises(ImportDataError, match="__dings__: .* more than max_member_size"):
        import_webdataset(path, tmp_path / "out.msgpack", max_member_size=8, progress=False)


def test_a_metadata_member_declaring_a_huge_size_is_refused_in_bounded_memory(tmp_path):
    path = shard(tmp_path / "in.tar", b'{"label_names": ["a", "b"]}', declared=(1 << 33) - 1)
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from dings.tools import ImportDataError, import_webdataset\n"
        "try:\n"
        f"    import_webdataset({str(path)!r}, {str(tmp_path / 'out.msgpack')!r}, progress=False)\n"
        "except ImportDataError as exc:\n"
        "    print(exc); sys.exit(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    assert "__dings__" in done.stdout


def test_a_shard_without_metadata_has_no_label_names(tmp_path):
    path = shard(tmp_path / "in.tar", None)
    import_webdataset(path, tmp_path / "out.msgpack", progress=False)
    assert load_label_names(tmp_path / "out.msgpack") is None
    with MsgpackReader(tmp_path / "out.msgpack") as reader:
        assert [s["label"] for s in reader] == [1]
