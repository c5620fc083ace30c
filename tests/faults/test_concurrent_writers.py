"""Concurrent writers: two jobs writing the same partitioned output at once never mix.

Every round starts two real processes (forked) on the same output with different sources, whose
samples have the same keys and differ in their bytes (the worst case: a mixed set has unique keys
and every shard verifies). Afterwards the committed set must be entirely one source's samples, and
each process must have succeeded (one after the other) or failed clearly because the other one
held the output.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from pathlib import Path

import pytest

from dings.format import OutputLock, OutputLockedError, load_manifest, verify
from dings.readers import ShardedReader
from dings.tools import import_partitioned, write_partitioned

from ..cli.conftest import png, run

ROUNDS = 20
PARTITIONS = 5
SIZE = 4
fork = multiprocessing.get_context("fork")


def make_source(root: Path, tag: int) -> Path:
    """A folder of ``PARTITIONS * SIZE`` tiny images; the same file names (keys) for every tag."""
    folder = root / f"source{tag}"
    for i in range(PARTITIONS * SIZE):
        label = folder / ["cat", "dog"][i % 2]
        label.mkdir(parents=True, exist_ok=True)
        (label / f"{i:03d}.png").write_bytes(png(40 * tag + i))
    return folder


def source_of(out: Path, sources: list[Path]) -> set[int]:
    """Which sources the committed samples come from (compared by their bytes)."""
    expected = []
    for source in sources:
        expected.append({f"{p.parent.name}/{p.name}": p.read_bytes() for p in source.glob("*/*.png")})
    found = set()
    with ShardedReader(str(out / f"{out.name}-*.msgpack")) as reader:
        samples = list(reader)
    assert sorted(s["key"] for s in samples) == sorted(expected[0])  # every key, once
    for sample in samples:
        found |= {tag for tag, files in enumerate(expected) if files[sample["key"]] == sample["image"]}
    return found


def importer(source: Path, out: Path, delay: float, start, results) -> None:
    start.wait()
    time.sleep(delay)  # a seeded stagger, so the rounds meet at different moments
    try:
        import_partitioned(source, out, "folder", partition_size=SIZE, shard_size=3, overwrite=True)
    except BaseException as exc:  # reported, asserted by the test
        results.put((str(source), type(exc).__name__, str(exc)))
    else:
        results.put((str(source), "ok", ""))


def race(target, args_of, seed: int) -> list[tuple[str, str, str]]:
    """Run ``target`` in two processes started together; their (who, outcome, message)."""
    rng = random.Random(seed)
    start, results = fork.Barrier(len(args_of)), fork.Queue()
    processes = [fork.Process(target=target, args=(*args, rng.uniform(0, 0.03), start, results)) for args in args_of]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    return outcomes


def assert_clear_failure(outcome: tuple[str, str, str], out: Path) -> None:
    who, kind, message = outcome
    assert kind == "OutputLockedError", f"{who}: {kind}: {message}"
    assert str(out) in message and "being written by another process (pid" in message
    assert "wait for it to finish or choose another output" in message and "\n" not in message


def test_two_imports_into_one_output_never_mix(tmp_path):
    sources = [make_source(tmp_path, tag) for tag in (0, 1)]
    out = tmp_path / "out" / "ds"
    succeeded = failed = 0
    for seed in range(ROUNDS):
        outcomes = race(importer, [(sources[0], out), (sources[1], out)], seed)
        assert any(kind == "ok" for _, kind, _ in outcomes), outcomes
        for outcome in outcomes:
            if outcome[1] == "ok":
                succeeded += 1
            else:
                failed += 1
                assert_clear_failure(outcome, out)
        assert len(source_of(out, sources)) == 1, f"round {seed}: a set mixing both sources"
        manifest = load_manifest(out)
        assert manifest["samples"] == PARTITIONS * SIZE
        for shard in manifest["shards"]:
            assert verify(out / shard["name"]).ok
        assert not (out / "ds.partial").exists() and (out / "ds.lock").read_bytes() == b""  # idle
    assert succeeded >= ROUNDS and failed > 0  # the writers did meet


def ranks_job(tag: int, out: Path, rank: int, delay: float, start, results) -> None:
    start.wait()
    time.sleep(delay)
    try:
        write_partitioned(
            [(tag, p) for p in range(PARTITIONS)], load_tagged, out, engine="ranks", rank=rank, world_size=2,
            shard_size=3, overwrite=True, resume=False, timeout=3,
        )  # fmt: skip
    except BaseException as exc:
        results.put((f"job {tag} rank {rank}", type(exc).__name__, str(exc)))
    else:
        results.put((f"job {tag} rank {rank}", "ok", ""))


def load_tagged(payload: tuple[int, int]):
    tag, partition = payload
    for i in range(partition * SIZE, (partition + 1) * SIZE):
        yield {"key": f"k{i:03d}", "source": tag, "data": random.Random(i * 7 + tag).randbytes(8)}


def test_ranks_of_two_jobs_never_mix(tmp_path):
    """The ranks of one job share the output; the ranks of another job are kept out."""
    out = tmp_path / "ranks"
    commits = 0
    for seed in range(6):
        args = [(tag, out, rank) for tag in (0, 1) for rank in (0, 1)]
        outcomes = race(ranks_job, args, 100 + seed)
        for who, kind, message in outcomes:
            assert kind in ("ok", "OutputLockedError", "TimeoutError"), f"{who}: {kind}: {message}"
        commits += sum(who.endswith("rank 0") and kind == "ok" for who, kind, _ in outcomes)
        if out.is_dir() and list(out.glob("ranks-*.msgpack")):
            with ShardedReader(str(out / "ranks-*.msgpack")) as reader:
                samples = list(reader)
            assert len({s["source"] for s in samples}) == 1, f"round {seed}: a set mixing both jobs"
            assert [s["key"] for s in samples] == [f"k{i:03d}" for i in range(PARTITIONS * SIZE)]
    assert commits > 0


def hold(lock_path: Path, job: str | None, held, release) -> None:
    with OutputLock(lock_path, job):
        held.set()
        release.wait(60)


def test_the_lock_admits_the_processes_of_one_job_only(tmp_path):
    path = tmp_path / "out" / "ds.lock"
    held, release = fork.Event(), fork.Event()
    other = fork.Process(target=hold, args=(path, "job-a", held, release))
    other.start()
    try:
        assert held.wait(60)
        with OutputLock(path, "job-a"):  # another rank of the same job
            pass
        with pytest.raises(OutputLockedError, match=rf"being written by another process \(pid {other.pid} on "):
            OutputLock(path, "job-b").acquire()
        with pytest.raises(OutputLockedError):
            OutputLock(path).acquire()  # a job of its own
    finally:
        release.set()
        other.join(60)
    with OutputLock(path, "job-b"):  # free again
        assert b'"job-b"' in path.read_bytes()
    assert path.read_bytes() == b""  # the last holder empties it


def test_a_lock_file_that_is_a_link_is_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "out" / "ds").mkdir(parents=True)
    (tmp_path / "out" / "ds" / "ds.lock").symlink_to(victim)
    with pytest.raises(OSError, match="ds.lock"):
        write_partitioned([[0]], lambda p: iter([{"key": "a"}]), tmp_path / "out" / "ds")
    assert victim.read_text() == "keep me"


def test_dings_import_names_the_other_writer(tmp_path):
    source = make_source(tmp_path, 0)
    out = tmp_path / "out" / "ds"
    held, release = fork.Event(), fork.Event()
    other = fork.Process(target=hold, args=(out / "ds.lock", None, held, release))
    other.start()
    try:
        assert held.wait(60)
        result = run("import", str(source), str(out), "--engine", "local", "-y", "-q")
    finally:
        release.set()
        other.join(60)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert f"being written by another process (pid {other.pid} on" in result.stderr
    assert not list(out.glob("*.msgpack")) and not (out / "ds.partial").exists()
    assert run("import", str(source), str(out), "--engine", "local", "-y", "-q").returncode == 0
    assert os.path.exists(out / "ds.manifest.json")
