"""The commit protocol: a dataset or a shard set appears whole or not at all, at every instant."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dings.format import (
    CorruptIndexError,
    FileWriter,
    IncompleteCommitError,
    ShardedWriter,
    check_committed,
    check_generation,
    clean_temporaries,
    pin_generation,
    verify,
)
from dings.format import commit as commit_module
from dings.format.commit import deferred_interrupts, temp_path
from dings.readers import MsgpackReader, ShardedReader

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="crashes are simulated in forked children")


def write(path: Path, tag: str, count: int) -> None:
    with FileWriter(path, overwrite=True, progress=False) as writer:
        for i in range(count):
            writer.write({"key": f"{tag}{i}", "v": i})


def write_set(path: Path, tag: str, count: int, per_shard: int) -> None:
    with ShardedWriter(path, max_samples=per_shard, overwrite=True, progress=False) as writer:
        for i in range(count):
            writer.write({"key": f"{tag}{i}", "v": i})


def keys(path: Path) -> list[str] | None:
    try:
        with MsgpackReader(path) as reader:
            return [sample["key"] for sample in reader]
    except FileNotFoundError:
        return None


def crash_at(call: int, action) -> bool:
    """Run ``action`` in a child that dies (no cleanup at all) at its ``call``-th rename or removal.

    Returns whether the child died (False: it finished before that call).
    """
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        count = [0]
        for name in ("replace", "unlink"):
            original = getattr(os, name)

            def patched(*args, _original=original, **kwargs):
                count[0] += 1
                if count[0] == call:
                    os._exit(9)
                return _original(*args, **kwargs)

            setattr(os, name, patched)
        action()
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WEXITSTATUS(status) == 9


def dotfiles(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.name.endswith(".journal"))


def test_a_crash_at_every_step_of_an_overwrite_leaves_the_old_or_the_new_dataset(tmp_path):
    path = tmp_path / "d.msgpack"
    old, new = [f"old{i}" for i in range(5)], [f"new{i}" for i in range(7)]
    seen = set()
    for call in range(1, 40):
        write(path, "old", 5)
        died = crash_at(call, lambda: write(path, "new", 7))
        found = keys(path)  # the reader finishes or discards what the crash left
        assert found in (old, new), call
        assert verify(path).ok
        assert not index_path_exists(path, ".journal")
        seen.add(tuple(found))
        write(path, "next", 2)  # the next write removes the dead writer's temporaries
        assert dotfiles(tmp_path) == []
        if not died:
            break
    assert seen == {tuple(old), tuple(new)}  # both sides of the commit point were hit


def index_path_exists(path: Path, suffix: str) -> bool:
    return os.path.lexists(str(path) + suffix)


def test_a_crash_at_every_step_of_a_shard_set_overwrite_leaves_one_generation(tmp_path):
    pattern = str(tmp_path / "s-*.msgpack")
    old = [f"old{i}" for i in range(9)]
    new = [f"new{i}" for i in range(4)]
    seen = set()
    for call in range(1, 120, 2):  # every other step keeps the test short; the fault suite takes all
        write_set(tmp_path / "s.msgpack", "old", 9, 2)  # five shards
        died = crash_at(call, lambda: write_set(tmp_path / "s.msgpack", "new", 4, 3))  # two shards
        with ShardedReader(pattern) as reader:
            found = [sample["key"] for sample in reader]
            shards = len(reader.shards)
        assert (found, shards) in ((old, 5), (new, 2)), call
        assert not list(tmp_path.glob("*.journal"))
        seen.add(shards)
        if not died:
            break
    assert seen == {5, 2}


def test_a_marker_without_its_primary_journal_is_discarded(tmp_path):
    path = tmp_path / "d.msgpack"
    write(path, "a", 3)
    marker = Path(str(path) + ".journal")
    marker.write_text(json.dumps({"dings-commit": 1, "primary": "gone.msgpack.journal"}))
    assert check_committed(path) is True
    assert not marker.exists()
    assert keys(path) == ["a0", "a1", "a2"]
    assert check_committed(path) is False


def test_an_unreadable_journal_is_refused_with_a_clear_error(tmp_path):
    path = tmp_path / "d.msgpack"
    write(path, "a", 3)
    Path(str(path) + ".journal").write_bytes(b"\x00garbage")
    with pytest.raises(IncompleteCommitError, match=r"d\.msgpack\.journal: unreadable commit journal") as info:
        MsgpackReader(path)
    assert isinstance(info.value, ValueError)


def test_a_journal_whose_files_are_gone_is_refused(tmp_path):
    path = tmp_path / "d.msgpack"
    gone = ".d.msgpack.h.1-0123abcd.tmp"  # a writer's temporary, already gone
    plan = {"dings-commit": 1, "host": "h", "pid": 1, "renames": [[gone, "d.msgpack"]], "remove": [], "markers": []}
    Path(str(path) + ".journal").write_text(json.dumps(plan))
    with pytest.raises(IncompleteCommitError, match="cannot finish an interrupted commit"):
        check_committed(path)


def test_only_dead_writers_temporaries_are_removed(tmp_path):
    target = tmp_path / "d.msgpack"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    host = commit_module._host()
    dead_file = tmp_path / f".d.msgpack.{host}.{dead_pid}-0123abcd.tmp.offsets"
    mine = temp_path(target, ".keys")
    other_host = tmp_path / f".d.msgpack.elsewhere.{dead_pid}-0123abcd.tmp"
    other_dataset = tmp_path / f".e.msgpack.{host}.{dead_pid}-0123abcd.tmp"
    for file in (dead_file, mine, other_host, other_dataset):
        file.write_bytes(b"x")
    removed = clean_temporaries(tmp_path, lambda name: name == "d.msgpack" or name.startswith("d.msgpack."))
    assert removed == [dead_file]
    assert mine.exists() and other_host.exists() and other_dataset.exists()


def test_a_reader_notices_that_its_dataset_was_replaced(tmp_path):
    path = tmp_path / "d.msgpack"
    write(path, "a", 3)
    with open(path, "rb") as f:
        pinned = pin_generation(f.fileno())
        check_generation(path, pinned)  # unchanged
        write(path, "b", 3)
        with pytest.raises(IncompleteCommitError, match="replaced while it was open"):
            check_generation(path, pinned)


def test_a_read_after_the_dataset_was_replaced_says_replaced_and_to_reopen(tmp_path):
    path = tmp_path / "d.msgpack"
    write(path, "a", 3)
    with MsgpackReader(path) as reader:  # opening loads no index: the first read does
        write(path, "longer-b", 50)
        # the index no longer fits the data: named as a replace (never as damage to verify)
        with pytest.raises(
            (CorruptIndexError, IncompleteCommitError), match="replaced while it was open; open it again"
        ) as info:
            reader[0]
    assert "\n" not in str(info.value)


def test_a_finished_write_leaves_no_journal_and_no_temporary(tmp_path):
    write(tmp_path / "d.msgpack", "a", 3)
    write_set(tmp_path / "s.msgpack", "b", 5, 2)
    assert dotfiles(tmp_path) == []


def test_ctrl_c_during_a_commit_is_delivered_after_it():
    done = []
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            done.append(True)  # not interrupted here
    assert done == [True]
