"""``dings import`` and ``dings export`` as a user runs them: outputs, one-line errors, exit status."""

from __future__ import annotations

import json

import pytest

from dings.format import load_label_names
from dings.readers import MsgpackReader


@pytest.fixture
def tree(tmp_path, cli):
    root = tmp_path / "photos"
    for i in range(9):
        folder = root / ["cat", "dog", "owl"][i % 3]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i}.png").write_bytes(cli.png(i * 20))
    return root


def keys(path) -> list[str]:
    with MsgpackReader(path) as reader:
        return list(reader.keys)


def test_import_a_folder_then_info_shows_the_label_names(cli, tree, tmp_path):
    result = cli.run("import", str(tree), str(tmp_path / "photos.msgpack"), "-t", "2")
    assert result.returncode == 0, result.stderr
    assert "imported folder" in result.stdout and "9 samples" in result.stdout and "3 label names" in result.stdout
    assert load_label_names(tmp_path / "photos.msgpack") == ["cat", "dog", "owl"]
    info = cli.run("info", str(tmp_path / "photos.msgpack"), "--json", "-q")
    assert json.loads(info.stdout)["label_names"] == ["cat", "dog", "owl"]
    assert "0 (cat): 3" in cli.run("info", str(tmp_path / "photos.msgpack"), "-q").stdout


def test_import_options_shuffle_shards_quiet(cli, tree, tmp_path):
    args = [str(tree), str(tmp_path / "out" / "s.msgpack"), "--shuffle", "--seed", "2", "--shard-size", "4", "-q"]
    result = cli.run("import", *args)
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""
    shards = sorted((tmp_path / "out").glob("s-*.msgpack"))
    assert [p.name for p in shards] == ["s-00000.msgpack", "s-00001.msgpack", "s-00002.msgpack"]
    order = [k for p in shards for k in keys(p)]
    assert sorted(order) == sorted(
        f"{c}/{i}.png" for i, c in zip(range(9), ["cat", "dog", "owl"] * 3)
    ) and order != sorted(order)
    again = cli.run("import", *args)
    assert again.returncode == 1 and "exists; pass -y/--no-confirm" in again.stderr
    assert cli.run("import", *args, "-y").returncode == 0


def test_import_errors_are_one_line(cli, tree, tmp_path):
    (tree / "cat" / "bad.png").write_bytes(b"nope")
    result = cli.run("import", str(tree), str(tmp_path / "x.msgpack"), "-q")
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "bad.png: unreadable image" in result.stderr and not (tmp_path / "x.msgpack").exists()
    (tmp_path / "list.csv").write_text("name\nx.png\n")
    result = cli.run("import", str(tmp_path / "list.csv"), str(tmp_path / "x.msgpack"), "-q")
    assert result.returncode == 1 and "no path column" in result.stderr and "--path-column" in result.stderr
    result = cli.run("import", str(tmp_path / "missing"), str(tmp_path / "x.msgpack"))
    assert result.returncode == 1 and "--from huggingface" in result.stderr
    assert cli.run("import", str(tree), str(tmp_path / "x.msgpack"), "--from", "nope").returncode == 2
    assert cli.run("import", str(tree), str(tmp_path / "x.msgpack"), "--recompress", "101").returncode == 2


def test_export_every_format_and_import_it_back(cli, tree, tmp_path):
    assert cli.run("import", str(tree), str(tmp_path / "a.msgpack"), "-q").returncode == 0
    for to, target, extra in (
        ("webdataset", "a.tar", ["--shard-size", "5"]),
        ("parquet", "a.parquet", []),
        ("folder", "a_dir", []),
    ):
        if to == "parquet":
            pytest.importorskip("pyarrow")
        result = cli.run("export", str(tmp_path / "a.msgpack"), str(tmp_path / target), "--to", to, *extra)
        assert result.returncode == 0, result.stderr
        source = str(tmp_path / "a-{000000..000001}.tar") if to == "webdataset" else str(tmp_path / target)
        labels = ["--labels", str(tmp_path / "classes.txt")] if to == "webdataset" else []
        (tmp_path / "classes.txt").write_text("cat\ndog\nowl\n")
        assert cli.run("import", source, str(tmp_path / f"{to}.msgpack"), "-q", *labels).returncode == 0
        with MsgpackReader(tmp_path / "a.msgpack") as a, MsgpackReader(tmp_path / f"{to}.msgpack") as b:
            assert list(a) == list(b), to
        assert load_label_names(tmp_path / f"{to}.msgpack") == ["cat", "dog", "owl"]
    result = cli.run("export", str(tmp_path / "a.msgpack"), str(tmp_path / "a_dir"), "--to", "folder")
    assert result.returncode == 1 and "pass -y/--no-confirm" in result.stderr
    assert (
        cli.run(
            "export", str(tmp_path / "a.msgpack"), str(tmp_path / "p.parquet"), "--to", "parquet", "--shard-size", "2"
        ).returncode
        == 2
    )


def test_sigint_mid_import_leaves_only_the_inputs(cli, tmp_path):
    import os
    import signal
    import subprocess
    import time

    block = os.urandom(1 << 18)
    for i in range(320):  # 80 MB of "JPEGs" (the magic number, then noise): importing them takes a moment
        folder = tmp_path / "tree" / f"c{i % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i:04d}.jpg").write_bytes(b"\xff\xd8\xff\xe0" + block[i % 97 :] + block[: i % 97])
    before = cli.files_in(tmp_path)
    process = subprocess.Popen(
        [cli.script(), "import", str(tmp_path / "tree"), str(tmp_path / "out.msgpack"), "-t", "2", "--check", "header"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            temporary = [tmp_path / n for n in cli.files_in(tmp_path) - before if n.endswith(".tmp")]
            if any(p.exists() and p.stat().st_size >= 1 << 20 for p in temporary):
                process.send_signal(signal.SIGINT)
                break
            time.sleep(0.0005)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    if process.returncode == 0:
        pytest.fail("the import finished before it could be interrupted; make the test folder bigger")
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert cli.files_in(tmp_path) == before
