"""Every command that reads and writes refuses an output that is, contains or is inside its input.

Even with ``-y``: one line naming both paths, a non-zero exit status, and every input byte kept.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dings.format import FileWriter
from dings.tools import export

from .conftest import png, write_dataset


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every file (and symlink) below ``root`` with its content."""
    found: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        name = str(path.relative_to(root))
        if path.is_symlink():
            found[name] = "-> " + os.readlink(path)
        elif path.is_file():
            found[name] = path.read_bytes()
        else:
            found[name] = "dir"
    return found


@pytest.fixture
def inputs(tmp_path) -> Path:
    """``tmp_path/in``: a dataset, another one, an image folder, a list file, tar shards and a table."""
    folder = tmp_path / "in"
    folder.mkdir()
    write_dataset(folder / "base.msgpack", count=6)
    with FileWriter(folder / "other.msgpack", progress=False) as writer:
        writer.write({"key": "other", "image": png(1), "label": 0})
    for i in range(4):
        (folder / "photos" / f"c{i % 2}").mkdir(parents=True, exist_ok=True)
        (folder / "photos" / f"c{i % 2}" / f"{i}.png").write_bytes(png(i * 30))
    (folder / "classes.txt").write_text("c0\nc1\n")
    (folder / "list.csv").write_text("path,label\n" + "".join(f"photos/c{i % 2}/{i}.png,{i % 2}\n" for i in range(4)))
    export(folder / "base.msgpack", folder / "shard.tar", "webdataset", shard_size=3, progress=False)
    export(folder / "base.msgpack", folder / "whole.tar", "webdataset", progress=False)
    try:
        export(folder / "base.msgpack", folder / "table.parquet", "parquet", progress=False)
    except ImportError:
        pass
    (tmp_path / "link.msgpack").symlink_to(folder / "base.msgpack")
    return folder


CASES = [
    ["export", "in/base.msgpack", "in/base.msgpack", "--to", "webdataset"],
    ["export", "in/base.msgpack", "in/base.msgpack.offsets", "--to", "webdataset"],
    ["export", "in/base.msgpack", "in/base.msgpack.keys", "--to", "parquet"],
    ["export", "in/base.msgpack", "link.msgpack", "--to", "parquet"],
    ["export", "in/base.msgpack", "in", "--to", "folder"],
    ["export", "link.msgpack", ".", "--to", "folder"],
    ["import", "in/list.csv", "in/list.csv"],
    ["import", "in/whole.tar", "in/whole.tar"],
    ["import", "in/shard-{000000..000001}.tar", "in/shard-000001.tar"],
    ["import", "in/photos", "in/photos/photos.msgpack"],
    ["import", "in/list.csv", "in/classes.txt", "--labels", "in/classes.txt"],
    ["import", "in/photos", "in/photos", "--engine", "local"],
    ["import", "in/list.csv", "in/list.csv", "--engine", "local"],
    ["shuffle", "in/base.msgpack", "in/base.msgpack.offsets"],
    ["shuffle", "link.msgpack", "in/base.msgpack"],
    ["merge", "in/other.msgpack", "in/base.msgpack", "in/base.msgpack.keys"],
    ["split", "in/base.msgpack", "3", "-o", "in/x.msgpack", "in/base.msgpack.md5"],
    ["sample", "in/base.msgpack", "in/base.msgpack.crc32", "2"],
    ["stage", "in/base.msgpack", "in"],
]


@pytest.mark.parametrize("args", CASES, ids=[" ".join(a) for a in CASES])
def test_output_overlapping_the_input_is_refused_even_with_yes(cli, tmp_path, inputs, args):
    if "table.parquet" in args and not (inputs / "table.parquet").exists():
        pytest.skip("pyarrow is not installed")
    before = snapshot(tmp_path)
    result = cli.run(*args, *([] if args[0] == "stage" else ["-y"]), "-q", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "input" in lines[0] and "another output path" in lines[0], lines[0]
    assert snapshot(tmp_path) == before


def test_parquet_and_table_sources_are_kept(cli, tmp_path, inputs):
    pytest.importorskip("pyarrow")
    before = snapshot(tmp_path)
    result = cli.run("import", "in/table.parquet", "in/table.parquet", "-y", "-q", cwd=tmp_path)
    assert result.returncode == 1 and "is also an input" in result.stderr
    assert snapshot(tmp_path) == before


def test_outputs_next_to_the_input_are_fine(cli, tmp_path, inputs):
    for args in (
        ["export", "in/base.msgpack", "in/base.tar", "--to", "webdataset"],
        ["import", "in/list.csv", "in/list.msgpack"],
        ["shuffle", "in/base.msgpack", "in/shuffled.msgpack"],
        ["import", "in/shard-000000.tar", "in/shard.msgpack", "--shard-size", "2"],
        ["import", "in/photos", "in/photos_set", "--engine", "local"],
    ):
        result = cli.run(*args, "-y", "-q", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
