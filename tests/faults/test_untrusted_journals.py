"""Untrusted inputs: a commit journal shipped with a dataset never touches anything outside it.

A dataset downloaded from a stranger may carry a crafted ``NAME.msgpack.journal``. Opening it
(MsgpackReader, ShardedReader, ``dings info``) must refuse every plan that names a file outside the
datasets of its own transaction, with one clear line, and touch nothing: the victim outside stays,
the journal stays. A legitimate interrupted commit still rolls forward.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dings.format import FileWriter, IncompleteCommitError, ShardedWriter, check_committed
from dings.format import commit as commit_module
from dings.format.commit import temp_path
from dings.readers import MsgpackReader, ShardedReader


def write(path: Path, tag: str, count: int = 3) -> None:
    with FileWriter(path, overwrite=True, progress=False) as writer:
        for i in range(count):
            writer.write({"key": f"{tag}{i}", "v": i})


def plan(renames=(), remove=(), markers=()) -> dict:
    return {
        "dings-commit": 1,
        "host": commit_module._host(),
        "pid": 1,
        "renames": [list(pair) for pair in renames],
        "remove": list(remove),
        "markers": list(markers),
    }


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def scene(tmp_path):
    """``home/`` with a victim file and the user's own dataset; ``download/`` with a stranger's dataset."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("the user's shell setup\n")
    write(home / "mine.msgpack", "mine")
    download = tmp_path / "download"
    download.mkdir()
    write(download / "d.msgpack", "d")
    write(download / "other.msgpack", "other")  # another dataset in the same folder, no journal
    payload = temp_path(download / "d.msgpack")
    payload.write_text("echo pwned\n")
    return tmp_path, home, download, payload


def _cases(home: Path, download: Path, payload: Path) -> dict[str, tuple[Path, dict]]:
    """name -> (where the journal goes, its content)."""
    journal = download / "d.msgpack.journal"
    return {
        "absolute path": (journal, plan(renames=[(payload.name, str(home / ".bashrc"))])),
        "dotdot": (journal, plan(renames=[(payload.name, "../home/.bashrc")])),
        "dotdot to a dataset": (journal, plan(renames=[(payload.name, "../home/mine.msgpack")])),
        "subfolder": (journal, plan(renames=[(payload.name, "sub/d.msgpack")])),
        "other dataset": (journal, plan(renames=[(".other.msgpack.h.1-0123abcd.tmp", "other.msgpack")])),
        "not the temporary's own name": (journal, plan(renames=[(payload.name, "d.msgpack.offsets")])),
        "not a temporary": (journal, plan(renames=[("other.msgpack", "d.msgpack")])),
        "backslash": (journal, plan(renames=[(payload.name, "..\\home\\.bashrc")])),
        "NUL": (journal, plan(renames=[(payload.name, "d.msgpack\x00")])),
        "remove absolute": (journal, plan(remove=[str(home / ".bashrc")])),
        "remove outside": (journal, plan(remove=["../home/mine.msgpack"])),
        "remove another dataset": (journal, plan(remove=["other.msgpack"])),
        "marker list names an outside dataset": (
            journal,
            plan(remove=["../home/mine.msgpack"], markers=["../home/mine.msgpack.journal"]),
        ),
        "marker list names a non-journal": (journal, plan(markers=["../home/.bashrc"])),
        "marker whose primary is ../x": (journal, {"dings-commit": 1, "primary": "../x"}),
        "marker whose primary is absolute": (journal, {"dings-commit": 1, "primary": "/etc/x.msgpack.journal"}),
        "malformed renames": (journal, {**plan(), "renames": [[payload.name]]}),
        "renames not a list": (journal, {**plan(), "renames": {"a": "b"}}),
    }


CASES = list(_cases(Path("h"), Path("d"), Path("p")))


def _open_with(opener: str, download: Path) -> Callable[[], object]:
    if opener == "MsgpackReader":
        return lambda: MsgpackReader(download / "d.msgpack").close()
    if opener == "ShardedReader":
        return lambda: ShardedReader(str(download / "*.msgpack")).close()
    return lambda: check_committed(download / "d.msgpack")


@pytest.mark.parametrize("opener", ["MsgpackReader", "ShardedReader", "check_committed"])
@pytest.mark.parametrize("case", CASES)
def test_a_crafted_journal_is_refused_and_touches_nothing(scene, case, opener):
    root, home, download, payload = scene
    journal, content = _cases(home, download, payload)[case]
    journal.write_text(json.dumps(content))
    before = snapshot(root)
    with pytest.raises(IncompleteCommitError) as info:
        _open_with(opener, download)()
    message = str(info.value)
    assert "\n" not in message
    assert str(journal) in message
    assert snapshot(root) == before  # the victims, the payload and the journal are all still there


def test_dings_info_refuses_a_crafted_journal_in_one_line(scene):
    root, home, download, payload = scene
    journal = download / "d.msgpack.journal"
    journal.write_text(json.dumps(plan(renames=[(payload.name, "../home/.bashrc")], remove=["../home/mine.msgpack"])))
    before = snapshot(root)
    result = subprocess.run(
        [sys.executable, "-m", "dings.cli", "info", str(download / "d.msgpack"), "-q"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "outside the datasets of its commit" in lines[0] and "delete the journal" in lines[0]
    assert snapshot(root) == before


def test_a_journal_that_is_a_link_or_a_fifo_is_refused(scene):
    root, home, download, payload = scene
    journal = download / "d.msgpack.journal"
    os.symlink(home / ".bashrc", journal)
    with pytest.raises(IncompleteCommitError, match="regular file"):
        check_committed(download / "d.msgpack")
    journal.unlink()
    if hasattr(os, "mkfifo"):
        os.mkfifo(journal)  # opening it must not wait for a writer
        with pytest.raises(IncompleteCommitError, match="regular file"):
            check_committed(download / "d.msgpack")


def test_a_marker_of_an_outside_dataset_must_point_back_to_the_primary(scene):
    """A marker listed in the plan only counts when it exists and names this primary journal."""
    root, home, download, payload = scene
    (home / "mine.msgpack.journal").write_text(json.dumps({"dings-commit": 1, "primary": "elsewhere.msgpack.journal"}))
    journal = download / "d.msgpack.journal"
    journal.write_text(json.dumps(plan(remove=["../home/mine.msgpack"], markers=["../home/mine.msgpack.journal"])))
    before = snapshot(root)
    with pytest.raises(IncompleteCommitError, match="outside the datasets of its commit"):
        check_committed(download / "d.msgpack")
    assert snapshot(root) == before


@pytest.mark.parametrize("name", ["d.msgpack", "d.bin"])
def test_a_legitimate_interrupted_commit_still_rolls_forward(scene, name):
    root, home, download, payload = scene
    payload.unlink()
    path = download / name
    commit_plans: list[dict] = []
    original = commit_module._roll_forward

    def crash(primary, content):  # the commit point is passed; the writer dies before renaming
        commit_plans.append(content)
        raise SystemExit

    commit_module._roll_forward = crash
    try:
        with pytest.raises(SystemExit):
            write(path, "new", 4)
    finally:
        commit_module._roll_forward = original
    assert os.path.exists(str(path) + ".journal") and commit_plans
    with MsgpackReader(path) as reader:
        assert [s["key"] for s in reader] == ["new0", "new1", "new2", "new3"]
    assert not os.path.exists(str(path) + ".journal")


def test_a_legitimate_interrupted_commit_across_folders_still_rolls_forward(tmp_path, monkeypatch):
    """split writes parts into different folders as one transaction: markers point back with ``..``."""
    from dings.format import close_together

    a, b = tmp_path / "a" / "train.msgpack", tmp_path / "b" / "val.msgpack"
    writers = [FileWriter(p, progress=False) for p in (a, b)]
    for writer, tag in zip(writers, "ab"):
        writer.write({"key": f"{tag}0"})
    monkeypatch.setattr(commit_module, "_roll_forward", lambda primary, content: (_ for _ in ()).throw(SystemExit))
    with pytest.raises(SystemExit):
        close_together(writers)
    monkeypatch.undo()
    assert os.path.exists(str(b) + ".journal")
    with MsgpackReader(b) as reader:  # via the marker in b/, pointing to ../a/train.msgpack.journal
        assert [s["key"] for s in reader] == ["b0"]
    with MsgpackReader(a) as reader:
        assert [s["key"] for s in reader] == ["a0"]
    assert not list(tmp_path.rglob("*.journal"))


def test_a_legitimate_interrupted_shard_set_commit_still_rolls_forward(tmp_path, monkeypatch):
    write_set = lambda tag, count: _write_set(tmp_path / "s.msgpack", tag, count)  # noqa: E731
    write_set("old", 9)  # five shards; the new set of two replaces them and removes three
    monkeypatch.setattr(commit_module, "_roll_forward", lambda primary, content: (_ for _ in ()).throw(SystemExit))
    with pytest.raises(SystemExit):
        write_set("new", 4)
    monkeypatch.undo()
    with ShardedReader(str(tmp_path / "s-*.msgpack")) as reader:
        assert [s["key"] for s in reader] == [f"new{i}" for i in range(4)]
    assert not list(tmp_path.glob("*.journal"))


def test_a_legitimate_interrupted_partitioned_commit_still_rolls_forward(tmp_path, monkeypatch):
    """Staged shards move from ``NAME.partial/`` one folder up; the manifest and label names go with them."""
    from dings.format import PartitionedOutput, load_label_names, load_manifest

    out = PartitionedOutput(tmp_path / "train", max_samples=2)
    records = [
        out.write_partition(p, [{"key": f"k{p}-{i}", "label": i % 2} for i in range(3)], f"p{p}") for p in (0, 1)
    ]
    monkeypatch.setattr(commit_module, "_roll_forward", lambda primary, content: (_ for _ in ()).throw(SystemExit))
    with pytest.raises(SystemExit):
        out.commit(records, label_names=["zero", "one"])
    monkeypatch.undo()
    assert list((tmp_path / "train").glob("*.journal"))
    with ShardedReader(str(tmp_path / "train" / "train-*.msgpack")) as reader:
        assert len([s["key"] for s in reader]) == 6
    assert load_manifest(tmp_path / "train")["samples"] == 6
    assert all(load_label_names(p) == ["zero", "one"] for p in out.existing())
    assert not list((tmp_path / "train").glob("*.journal"))


def _write_set(path: Path, tag: str, count: int) -> None:
    with ShardedWriter(path, max_samples=2, overwrite=True, progress=False) as writer:
        for i in range(count):
            writer.write({"key": f"{tag}{i}", "v": i})


# --- concurrent writers: label names stay bound to their data ---


def _import(path: Path, tag: str, names: list[str] | None, shard_size: int | None) -> None:
    from dings.tools import import_samples

    samples = [{"key": f"{tag}{i}", "label": i % 2} for i in range(5)]
    import_samples(samples, path, label_names=names, shard_size=shard_size, overwrite=True, progress=False)


@pytest.mark.parametrize("shard_size", [None, 2])
def test_label_names_stay_bound_to_their_data_when_another_writer_commits_right_after(
    tmp_path, monkeypatch, shard_size
):
    """Writer A commits; before A returns, writer B commits the same output (a widened window)."""
    from dings.format import load_label_names
    from dings.format.commit import Commit

    path = tmp_path / "d.msgpack"
    original = Commit.run
    calls = []

    def commit_then_b(self):
        original(self)
        if not calls:  # only A's commit lets B in
            calls.append(self)
            _import(path, "b", ["b-zero", "b-one"], shard_size)

    monkeypatch.setattr(Commit, "run", commit_then_b)
    _import(path, "a", ["a-zero", "a-one"], shard_size)
    monkeypatch.undo()
    files = [path] if shard_size is None else sorted(tmp_path.glob("d-*.msgpack"))
    for file in files:
        with MsgpackReader(file) as reader:
            assert all(sample["key"].startswith("b") for sample in reader)
        assert load_label_names(file) == ["b-zero", "b-one"]


def test_label_names_that_cannot_be_written_leave_the_old_dataset(tmp_path, monkeypatch):
    """The sidecar is written before the commit point: failing to write it keeps the old generation."""
    from dings.format import load_label_names
    from dings.format import writer as writer_module

    path = tmp_path / "d.msgpack"
    _import(path, "a", ["a-zero", "a-one"], None)
    original = writer_module.label_names_content

    def fail(names, digest):
        if digest is not None:
            raise OSError(28, "No space left on device")
        return original(names, digest)

    monkeypatch.setattr(writer_module, "label_names_content", fail)
    with pytest.raises(OSError, match="No space left"):
        _import(path, "b", ["b-zero", "b-one"], None)
    monkeypatch.undo()
    with MsgpackReader(path) as reader:
        assert [s["key"] for s in reader] == [f"a{i}" for i in range(5)]
    assert load_label_names(path) == ["a-zero", "a-one"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.msgpack"] + sorted(
        f"d.msgpack{s}" for s in (".crc32", ".filter", ".key_hashes", ".keys", ".labels.json", ".md5", ".offsets")
    )


@pytest.mark.parametrize("shard_size", [None, 2])
def test_an_import_without_label_names_drops_those_of_the_dataset_it_replaces_in_its_commit(
    tmp_path, monkeypatch, shard_size
):
    from dings.format import load_label_names
    from dings.format.commit import Commit

    path = tmp_path / "d.msgpack"
    _import(path, "a", ["a-zero", "a-one"], shard_size)
    plans = []
    original = Commit._plan
    monkeypatch.setattr(Commit, "_plan", lambda self: plans.append(original(self)) or plans[-1])
    _import(path, "b", None, shard_size)
    assert any(name.endswith(".labels.json") for name in plans[-1]["remove"])
    files = [path] if shard_size is None else sorted(tmp_path.glob("d-*.msgpack"))
    assert files and all(load_label_names(file) is None for file in files)
    assert not list(tmp_path.glob("*.labels.json"))


def test_split_commits_the_label_names_with_its_parts(tmp_path):
    from dings.format import load_label_names
    from dings.tools import split

    path = tmp_path / "d.msgpack"
    _import(path, "a", ["a-zero", "a-one"], None)
    parts = split(path, [0.6], [tmp_path / "x" / "train.msgpack", tmp_path / "y" / "val.msgpack"], progress=False)
    assert [load_label_names(p) for p in parts] == [["a-zero", "a-one"]] * 2
