"""SharedMemoryReader: one copy per machine in /dev/shm, attached atomically, shared by every worker
(checked through /proc: the same inode, no anonymous pages, no growth of private memory), removed
by its last user."""

from __future__ import annotations

import gc
import multiprocessing
import os
import random
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

from dings.readers import MsgpackReader
from dings.torch import IterableDataset, SharedMemoryReader

SHM = Path("/dev/shm")
pytestmark = pytest.mark.skipif(
    not SHM.is_dir() or not Path("/proc/self/smaps").exists(), reason="needs Linux /dev/shm and /proc"
)


def mapping_of(path: Path) -> dict:
    """Inode and memory figures (kB) of this process's mapping of ``path``, from /proc/self/smaps."""
    found: dict = {}
    current = False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5 and ":" in fields[3]:
                current = len(fields) >= 6 and fields[5] == str(path)
                if current:
                    found["inode"] = int(fields[4])
            elif current and fields[0].endswith(":") and len(fields) >= 2 and fields[1].isdigit():
                found[fields[0][:-1]] = found.get(fields[0][:-1], 0) + int(fields[1])
    return found


def private_kb(path: Path) -> int:
    """This process's private memory (kB) outside its mappings of ``path``: what a copy would add to.

    One read of /proc/self/smaps: pages of ``path`` turn from private to shared as soon as another
    worker touches them, so they must be told apart in the same snapshot.
    """
    total = 0
    outside = True
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5 and ":" in fields[3]:
                outside = not (len(fields) >= 6 and fields[5] == str(path))
            elif outside and fields[0] in ("Private_Clean:", "Private_Dirty:"):
                total += int(fields[1])
    return total


class Probe(torch.utils.data.Dataset):
    """Index 0 and 1: read every sample (in worker 0 and 1) and report the mapping; index 2: a
    control that makes a private copy of the file, to show that the measurement sees copies."""

    def __init__(self, reader: SharedMemoryReader) -> None:
        self.reader = reader

    def __len__(self) -> int:
        return 3

    def __getitem__(self, index: int) -> dict:
        # a garbage collection would write to every object inherited from the parent process and
        # so copy its pages: keep it out of the measurement
        gc.collect()
        gc.disable()
        try:
            return self._measure(index)
        finally:
            gc.enable()

    def _measure(self, index: int) -> dict:
        before = private_kb(self.reader.path)
        if index < 2:  # sample by sample: no read-ahead buffers that the allocator might keep
            total = sum(len(self.reader.get(i)["data"]) for i in range(len(self.reader)))
            kept = None
        else:
            kept = bytearray(self.reader.path.read_bytes())
            total = len(kept)
        grown = private_kb(self.reader.path) - before
        return {"pid": os.getpid(), "total": total, "grown": grown, **mapping_of(self.reader.path)}


@pytest.fixture
def big_file(make_file):
    return make_file(3000, name=f"big{random.getrandbits(24):x}", payload=4000)  # ~12 MB


def test_workers_share_one_copy(big_file):
    reader = SharedMemoryReader(big_file)
    try:
        size_kb = reader.path.stat().st_size // 1024
        assert reader.path.parent.parent == SHM and reader.path.stat().st_ino != big_file.stat().st_ino
        loader = DataLoader(Probe(reader), batch_size=None, num_workers=2)
        reports = list(loader)
        readers, control = reports[:2], reports[2]
        assert len({r["pid"] for r in readers}) == 2
        inode = reader.path.stat().st_ino
        for report in readers:
            assert report["inode"] == inode  # every worker maps the one file in /dev/shm
            assert report["Rss"] >= size_kb * 0.9  # ... has read all of it
            assert report["Anonymous"] == 0  # ... through the file's own pages, no private copies
            assert report["grown"] < size_kb / 4
        assert control["grown"] >= size_kb * 0.9  # a private copy does show up
        assert sum(1 for p in SHM.iterdir() if p.name.startswith(f"dings-{big_file.stem}-")) == 2  # folder + lock
    finally:
        reader.close()
    assert not reader.folder.exists() and not any(p.name.startswith(f"dings-{big_file.stem}-") for p in SHM.iterdir())


def attach_and_report(path: str, queue, barrier) -> None:
    try:
        barrier.wait()
        reader = SharedMemoryReader(path)
        queue.put((reader.path.stat().st_ino, len(reader), reader[5]["i"]))
        barrier.wait()  # both attached before either closes
        reader.close()
    except BaseException as exc:
        queue.put(repr(exc))


def test_processes_attaching_at_once_make_one_copy(make_file):
    path = make_file(500, name=f"race{random.getrandbits(24):x}", payload=200)
    context = multiprocessing.get_context("fork")
    queue, barrier = context.Queue(), context.Barrier(2)
    processes = [context.Process(target=attach_and_report, args=(str(path), queue, barrier)) for _ in range(2)]
    for process in processes:
        process.start()
    try:
        reports = [queue.get(timeout=60) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    assert all(isinstance(r, tuple) for r in reports), reports
    assert reports[0] == reports[1] and reports[0][1:] == (500, 5)
    assert not any(p.name.startswith(f"dings-{path.stem}-") for p in SHM.iterdir())


def test_last_user_cleans_up_and_keep_leaves_the_copy(make_file):
    path = make_file(20, name=f"keep{random.getrandbits(24):x}")
    first, second = SharedMemoryReader(path), SharedMemoryReader(MsgpackReader(path))
    assert first.folder == second.folder and first.path.stat().st_ino == second.path.stat().st_ino
    first.close()
    assert second.folder.exists() and [s["i"] for s in second.iter(start=0)] == list(range(20))
    second.close()
    assert not second.folder.exists()
    kept = SharedMemoryReader(path, keep=True)
    name = kept.folder.name.removeprefix("dings-")
    kept.close()
    assert kept.folder.exists()
    again = SharedMemoryReader(path)
    assert SharedMemoryReader.remove(name) is False  # in use
    again.close()  # the last user, without keep=True, removes it
    assert not kept.folder.exists() and SharedMemoryReader.remove(name) is False
    kept = SharedMemoryReader(path, keep=True)
    kept.close()
    assert SharedMemoryReader.remove(name) is True and not kept.folder.exists()


def test_a_changed_file_gets_a_new_copy_and_leftovers_are_replaced(make_file):
    path = make_file(10, name=f"chg{random.getrandbits(24):x}")
    one = SharedMemoryReader(path)
    folder = one.folder
    one.close()
    os.utime(path, ns=(1, 1))
    two = SharedMemoryReader(path)
    try:
        assert two.folder != folder
    finally:
        two.close()
    two.folder.mkdir()
    (two.folder / "junk").write_text("half-copied")  # an incomplete copy left by a crash
    three = SharedMemoryReader(path)
    try:
        assert three.folder == two.folder and not (three.folder / "junk").exists() and len(three) == 10
    finally:
        three.close()


def test_named_copy_in_another_directory_and_errors(make_file, tmp_path, memory):
    path = make_file(7, name="named")
    shared = SharedMemoryReader(str(path) + ".offsets", name="my-copy", directory=tmp_path, progress=True)
    try:
        assert shared.folder == tmp_path / "dings-my-copy" and shared.path.name == "named.msgpack"
        assert [s["i"] for s in shared.iter(start=0)] == list(range(7)) and shared.find_index("s00003") == 3
        assert sorted(s["i"] for s in IterableDataset(shared, batch_size=2)) == list(range(7))
    finally:
        shared.close()
    assert not shared.folder.exists() and not (tmp_path / "dings-my-copy.lock").exists()
    with pytest.raises(TypeError, match="pass a path or a MsgpackReader"):
        SharedMemoryReader(memory(3), directory=tmp_path)
    with pytest.raises(ValueError, match="may only contain"):
        SharedMemoryReader(path, name="../x", directory=tmp_path)
    with pytest.raises(FileNotFoundError, match="shared-memory directory"):
        SharedMemoryReader(path, directory=tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="not found"):
        SharedMemoryReader(tmp_path / "nothing.msgpack", directory=tmp_path)
