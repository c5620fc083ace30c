"""Keys on export: every exported key comes back on import, or the export is refused naming the key.

A tar member name ends at a NUL (``'a\\x00b.png'`` becomes ``'a'``, a member without an
extension that importers skip), and folder import skips hidden files (a key ``'.'`` would become
``'..png'``). Such keys are refused, before any output appears.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

from dings.format import FileWriter
from dings.readers import MsgpackReader
from dings.tools import ExportError, export_folder, export_webdataset, import_folder, import_webdataset


def png(value: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.full((4, 4, 3), value % 256, dtype=np.uint8)).save(out, format="PNG")
    return out.getvalue()


def dataset(tmp_path, keys: list[str], labels: bool = False):
    path = tmp_path / "d.msgpack"
    with FileWriter(path, progress=False, overwrite=True) as writer:
        for i, key in enumerate(keys):
            writer.write({"key": key, "image": png(i), **({"label": i % 2} if labels else {})})
    return path


def keys_of(path) -> list[str]:
    with MsgpackReader(path) as reader:
        return list(reader.keys)


@pytest.mark.parametrize("key", ["a\x00b", "dir/a\x00", "\x00"])
def test_webdataset_export_refuses_a_key_with_nul_and_writes_nothing(tmp_path, key):
    source = dataset(tmp_path, ["first", key, "last"])
    with pytest.raises(ExportError, match=rf"sample {re.escape(repr(key))}.*NUL.*rename"):
        export_webdataset(source, tmp_path / "out.tar", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir() if "tar" in p.name) == []


def test_awkward_keys_round_trip_through_webdataset(tmp_path):
    keys = [".", "..", ".hidden", "", "a.b.c", "dir/x.png", "dir/", "/abs", "sp ace", "ü/ñ", "a\nb", "_x", "x" * 300]
    source = dataset(tmp_path, keys)
    shards = export_webdataset(source, tmp_path / "out.tar", progress=False)
    result = import_webdataset([str(p) for p in shards], tmp_path / "back.msgpack", progress=False)
    assert result.samples == len(keys)
    assert keys_of(tmp_path / "back.msgpack") == keys


@pytest.mark.parametrize("key", [".", "..png", ".hidden", "", "cat/.x", ".git/a", "a\x00b", "a/", "a//b", "a/./b"])
def test_folder_export_refuses_keys_that_folder_import_cannot_read_back(tmp_path, key):
    source = dataset(tmp_path, ["ok", key])
    with pytest.raises(ExportError, match="sample .*key"):
        export_folder(source, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_folder_export_keys_round_trip(tmp_path):
    keys = ["0/a.png", "1/b.c.png", "0/sub/d.png", "1/ü ñ.png"]
    source = dataset(tmp_path, keys, labels=True)
    export_folder(source, tmp_path / "out", progress=False)
    import_folder(tmp_path / "out", tmp_path / "back.msgpack", progress=False)
    assert sorted(keys_of(tmp_path / "back.msgpack")) == sorted(keys)
