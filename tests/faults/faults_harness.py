"""Fault injection for dings, shared by the CI subset (test_faults.py) and the full run (run_full.py).

Two halves, both seeded:

* kill trials (write side): a forked child runs a write (overwrite, first write, shard set,
  split, shuffle, merge, sample) and is killed (SIGKILL) or interrupted (SIGINT) either at the
  k-th file-system call of the write (``os.write``, ``os.fsync``, ``os.replace``, ``os.unlink``)
  or after a random delay. Then a reader opens the output: it must see the complete old or the
  complete new generation (or nothing, if there was none), verify must pass, no journal may be
  left, and the next write of the same output must leave no temporary file.
* corrupted-file cases (read side): a small dataset gets one fault (bit flip, truncation,
  appended bytes, lying offsets or headers, crafted samples) and is opened, counted, iterated,
  looked up, verified and shuffled. Only documented exception types may come out, no operation
  may hang or blow up memory, iteration must yield exactly ``len()`` samples, and verify must
  never call a changed dataset good.
"""

from __future__ import annotations

import gc
import hashlib
import os
import random
import signal
import sys
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import msgpack
import numpy as np

from dings.format import (
    DamagedDataError,
    FileWriter,
    ShardedWriter,
    UnsafeDataError,
    index_path,
    verify,
)
from dings.format.checksums import pack_checksums, sample_checksum
from dings.format.index import pack_filter, pack_key_hashes, pack_keys, pack_offsets

OPERATIONS = ("overwrite", "first", "sharded", "split", "shuffle", "merge", "sample")
MODES = ("step-kill", "step-int", "time-kill", "time-int")
PATCHED = ("write", "fsync", "replace", "unlink", "rename")

# --- datasets ---


def make_samples(rng: random.Random, tag: str, count: int | None = None) -> list[dict]:
    """Samples with a key, bytes of random size, a label and sometimes a numpy array."""
    count = rng.randint(3, 40) if count is None else count
    samples = []
    for i in range(count):
        sample = {
            "key": f"{tag}{i:04d}",
            "label": rng.randint(0, 9),
            "data": rng.randbytes(rng.choice([1, 10, 100, 3000])),
        }
        if rng.random() < 0.3:
            sample["array"] = np.arange(rng.randint(1, 6), dtype=np.int32) * i
        samples.append(sample)
    return samples


def write_dataset(path: Path, samples: list[dict], overwrite: bool = True) -> Path:
    with FileWriter(path, overwrite=overwrite, progress=False) as writer:
        for sample in samples:
            writer.write(sample)
    return path


def raw_items(path: Path) -> list[tuple[str, bytes]]:
    """(key, packed bytes) of every sample, read with the offsets directly (no reader)."""
    from dings.format import load_keys, load_offsets

    offsets = load_offsets(path).tolist()
    keys = load_keys(path)
    data = path.read_bytes()
    return [(k, data[a:b]) for k, a, b in zip(keys, offsets, offsets[1:])]


def write_raw_dataset(path: Path, items: list[tuple[str, bytes]]) -> None:
    """Write packed samples as a dataset with consistent index, checksum and md5 files (any bytes)."""
    keys = [k for k, _ in items]
    blobs = [b for _, b in items]
    offsets = [0]
    for blob in blobs:
        offsets.append(offsets[-1] + len(blob))
    files = {
        "": b"".join(blobs),
        ".offsets": pack_offsets(offsets),
        ".keys": pack_keys(keys),
        ".key_hashes": pack_key_hashes(keys),
        ".filter": pack_filter(keys, len(keys)),
    }
    lines = []
    for suffix, content in files.items():
        Path(str(path) + suffix).write_bytes(content)
        lines.append(f"{hashlib.md5(content).hexdigest()}  {path.name}{suffix}\n")
    index_path(path, ".crc32").write_bytes(pack_checksums([sample_checksum(b) for b in blobs]))
    index_path(path, ".md5").write_text("".join(lines))


# --- kill trials ---


@dataclass
class Trial:
    """One kill or interrupt trial and what it found."""

    operation: str
    mode: str
    seed: int
    outcome: str = ""  # "old", "new", "none"
    problems: list[str] = field(default_factory=list)
    leftovers_before_next_write: int = 0


class _Setup:
    """A folder with the old generation of an operation's outputs, and how to run and check it."""

    def __init__(self, folder: Path, operation: str, rng: random.Random) -> None:
        self.folder = folder
        self.operation = operation
        self.rng = rng
        folder.mkdir(parents=True, exist_ok=True)
        self.src = folder / "src.msgpack"
        self.out = folder / "out.msgpack"
        self.parts = [folder / f"part_{i}.msgpack" for i in range(3)]
        new = make_samples(rng, "n")
        old = make_samples(rng, "o")
        self.new_samples = new
        if operation == "overwrite":
            write_dataset(self.out, old)
        elif operation == "sharded":
            with ShardedWriter(
                folder / "set.msgpack", max_samples=rng.randint(1, 10), overwrite=True, progress=False
            ) as w:
                for s in old:
                    w.write(s)
            self.max_samples = rng.randint(1, 10)
        elif operation == "split":
            write_dataset(self.src, old)
            from dings.tools import split

            positions = sorted(rng.sample(range(1, len(old)), 2))
            split(self.src, positions, self.parts, overwrite=True, progress=False)
            write_dataset(self.src, new + make_samples(rng, "m", 3))
            self.positions = sorted(rng.sample(range(1, len(new) + 3), 2))
        elif operation in ("shuffle", "sample"):
            write_dataset(self.src, new)
            write_dataset(self.out, old)
            self.number = rng.randint(1, len(new))
        elif operation == "merge":
            self.src2 = folder / "src2.msgpack"
            write_dataset(self.src, new)
            write_dataset(self.src2, make_samples(rng, "p"))
            write_dataset(self.out, old)
        self.old_state = self.state()

    def run(self) -> None:
        """The write under test (also the "next write" after a trial)."""
        op, rng_seed = self.operation, 7
        if op in ("overwrite", "first"):
            write_dataset(self.out, self.new_samples)
        elif op == "sharded":
            with ShardedWriter(
                self.folder / "set.msgpack", max_samples=self.max_samples, overwrite=True, progress=False
            ) as w:
                for s in self.new_samples:
                    w.write(s)
        elif op == "split":
            from dings.tools import split

            split(self.src, self.positions, self.parts, overwrite=True, progress=False)
        elif op == "shuffle":
            from dings.tools import shuffle

            shuffle(self.src, self.out, seed=rng_seed, overwrite=True, progress=False)
        elif op == "sample":
            from dings.tools import sample

            sample(self.src, self.out, self.number, "random", seed=rng_seed, overwrite=True, progress=False)
        elif op == "merge":
            from dings.tools import merge

            merge([self.src, self.src2], self.out, overwrite=True, progress=False)

    def state(self) -> object:
        """What readers see: a tuple of per-dataset (key, bytes) lists; None for a missing dataset."""
        from dings.readers import MsgpackReader, ShardedReader

        def read(path: Path) -> list[tuple[str, bytes]] | None:
            try:
                with MsgpackReader(path) as reader:
                    items = [(k, bytes(v)) for k, v in reader.iter(0, yield_key=True, raw=True)]
                    if len(items) != len(reader):
                        raise AssertionError(f"{path}: iterated {len(items)} samples, len() says {len(reader)}")
            except FileNotFoundError:
                return None
            report = verify(path)
            if not report.ok:
                raise AssertionError(f"verify after recovery: {report}")
            return items

        if self.operation == "sharded":
            pattern = str(self.folder / "set-*.msgpack")
            try:
                with ShardedReader(pattern) as reader:
                    items = [(k, bytes(v)) for k, v in reader.iter(0, yield_key=True, raw=True)]
                    shards = [Path(s.path) for s in reader.shards]
            except FileNotFoundError:
                return None
            for shard in shards:
                if not verify(shard).ok:
                    raise AssertionError(f"verify after recovery: {verify(shard)}")
            return (len(shards), items)
        if self.operation == "split":
            return tuple(read(p) for p in self.parts)
        return read(self.out)

    def classify(self, state: object, new_state: object) -> str:
        if state == self.old_state:
            return "old"
        if state == new_state:
            return "new"
        return "mixed"

    def _names(self) -> list[str]:
        # a child interrupted before it created its output folder leaves no folder at all
        return [p.name for p in self.folder.iterdir()] if self.folder.is_dir() else []

    def journals(self) -> list[str]:
        return sorted(n for n in self._names() if n.endswith(".journal"))

    def temporaries(self) -> list[str]:
        return sorted(n for n in self._names() if n.startswith("."))


def _install_step_fault(k: int, action: str) -> None:
    """In the child: SIGKILL (or raise KeyboardInterrupt) at the k-th patched file-system call."""
    count = [0]

    def wrap(original: Callable) -> Callable:
        def call(*args, **kwargs):
            count[0] += 1
            if count[0] == k:
                if action == "kill":
                    os.kill(os.getpid(), signal.SIGKILL)
                raise KeyboardInterrupt(f"injected at call {k}")
            return original(*args, **kwargs)

        return call

    for name in PATCHED:
        setattr(os, name, wrap(getattr(os, name)))


def _private_tqdm_locks() -> None:
    """Give tqdm thread locks instead of its multiprocessing semaphore, which fork shares with the
    children: a child killed while holding it would block the parent's next progress bar. (dings
    itself does not fork; this harness does, without exec.)"""
    import threading

    from tqdm.std import tqdm

    classes = [tqdm]
    while classes:
        cls = classes.pop()
        cls.set_lock(threading.RLock())
        classes.extend(cls.__subclasses__())


def _forked_child() -> None:
    """In a forked child: nothing shared with the parent may be held when it is killed."""
    _private_tqdm_locks()


def _calibrate(setup: _Setup) -> tuple[int, float]:
    """Run the write once in a child: how many patched calls it makes and how long it takes."""
    read_end, write_end = os.pipe()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        _forked_child()
        os.close(read_end)
        count = [0]
        for name in PATCHED:
            original = getattr(os, name)

            def call(*a, _original=original, **kw):
                count[0] += 1
                return _original(*a, **kw)

            setattr(os, name, call)
        try:
            setup.run()
        except BaseException:
            traceback.print_exc()
            os._exit(3)
        os.write(write_end, str(count[0]).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        text = f.read()
    os.waitpid(pid, 0)
    return int(text or b"0"), time.perf_counter() - start


def _wait(pid: int, timeout: float) -> tuple[int | None, bool]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status, False
        time.sleep(0.001)
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return status, True


def run_trial(base: Path, operation: str, mode: str, seed: int, timeout: float = 60.0) -> Trial:
    """One trial in ``base/<operation>-<seed>``; the folder is removed afterwards when all is well."""
    import shutil

    import tqdm.auto  # noqa: F401 - every tqdm class exists before the locks are replaced

    _private_tqdm_locks()
    trial = Trial(operation, mode, seed)
    rng = random.Random(seed)
    folder = base / f"{operation}-{mode}-{seed}"
    if folder.exists():
        shutil.rmtree(folder)
    setup = _Setup(folder, operation, rng)
    # the new generation, written once on a copy (so the trial folder keeps the old one)
    reference = _Setup.__new__(_Setup)
    reference.__dict__.update(setup.__dict__)
    reference.folder = base / f"ref-{operation}-{mode}-{seed}"
    if reference.folder.exists():
        shutil.rmtree(reference.folder)
    shutil.copytree(folder, reference.folder, symlinks=True)
    _rebase(reference, folder)
    calls, duration = _calibrate(reference)
    new_state = reference.state()
    shutil.rmtree(reference.folder)
    k = rng.randint(1, max(1, calls))
    delay = rng.uniform(0, duration * 1.3)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:  # an early SIGINT must end the child here, never let it run on as the parent
            _forked_child()
            if mode.startswith("step"):
                _install_step_fault(k, "kill" if mode == "step-kill" else "int")
            setup.run()
        except KeyboardInterrupt:
            # as at a real interpreter exit: unreachable writers' finalizers run
            gc.collect()
            os._exit(130)
        except BaseException:
            traceback.print_exc()
            os._exit(3)
        os._exit(0)
    if mode.startswith("time"):
        time.sleep(delay)
        try:
            os.kill(pid, signal.SIGKILL if mode == "time-kill" else signal.SIGINT)
        except ProcessLookupError:
            pass
    status, hung = _wait(pid, timeout)
    if hung:
        trial.problems.append("hang: the writer did not stop")
    elif os.WIFEXITED(status) and os.WEXITSTATUS(status) == 3:
        trial.problems.append("the writer raised an unexpected exception (see stderr)")
    interrupted = mode.endswith("int")
    if interrupted and not hung:
        leftovers = setup.temporaries()
        if leftovers:
            trial.problems.append(f"an interrupted write left temporaries: {leftovers}")
    try:
        state = setup.state()
    except Exception as exc:
        trial.problems.append(f"reading after the fault failed: {type(exc).__name__}: {exc}")
        state = object()
    trial.outcome = "none" if state is None and setup.old_state is None else setup.classify(state, new_state)
    if trial.outcome == "mixed":
        trial.problems.append("readers see neither the old nor the new generation")
    journals = setup.journals()
    if journals:
        trial.problems.append(f"journals left after a reader opened the output: {journals}")
    trial.leftovers_before_next_write = len(setup.temporaries())
    try:
        setup.run()
        if setup.state() != new_state:
            trial.problems.append("the next write did not produce the new generation")
    except Exception as exc:
        trial.problems.append(f"the next write failed: {type(exc).__name__}: {exc}")
    leftovers = setup.temporaries() + setup.journals()
    if leftovers:
        trial.problems.append(f"temporary files left after the next write: {leftovers}")
    if not trial.problems:
        shutil.rmtree(folder)
    return trial


def _rebase(setup: _Setup, old_folder: Path) -> None:
    """Point a copied setup's paths into its own folder."""
    for name, value in list(setup.__dict__.items()):
        if isinstance(value, Path) and value.parent == old_folder:
            setattr(setup, name, setup.folder / value.name)
        elif isinstance(value, list) and value and isinstance(value[0], Path):
            setattr(setup, name, [setup.folder / p.name for p in value])


class _ParentHang(Exception):
    pass


def _parent_alarm(signum, frame):  # pragma: no cover - only on a hang
    raise _ParentHang()


def run_trials(
    base: Path, count: int, seed: int, operations=OPERATIONS, modes=MODES, progress: bool = False
) -> list[Trial]:
    """``count`` trials spread evenly over operations and modes (a trial that hangs the parent for
    more than 180 s is stopped and counted as a hang)."""
    rng = random.Random(seed)
    trials = []
    combos = [(op, mode) for op in operations for mode in modes]
    for number in range(count):
        operation, mode = combos[number % len(combos)]
        seed_of_trial = rng.randrange(1 << 30)
        previous = signal.signal(signal.SIGALRM, _parent_alarm)
        signal.alarm(180)
        try:
            trials.append(run_trial(base, operation, mode, seed_of_trial))
        except _ParentHang:
            trials.append(
                Trial(operation, mode, seed_of_trial, "hang", ["hang: the trial did not finish within 180 s"])
            )
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
        if progress and number % 50 == 49:
            bad = sum(bool(t.problems) for t in trials)
            print(f"  {number + 1}/{count} kill trials, {bad} with problems", file=sys.stderr, flush=True)
    return trials


# --- corrupted files ---

#: what reading a damaged dataset may raise; anything else is a leak
ALLOWED = (DamagedDataError, UnsafeDataError, FileNotFoundError, IsADirectoryError)
KINDS = ("bitflip", "truncate", "append", "offsets", "keys-header", "crafted", "index-file")
FILES = ("", ".offsets", ".keys", ".key_hashes", ".filter", ".md5", ".crc32")


def _crafted_samples(rng: random.Random) -> list[bytes]:
    """Packed samples that are valid msgpack but not what a reader expects, or not valid at all."""
    key = msgpack.packb("key")
    deep = b"\x91" * rng.choice([100, 1000, 5000]) + b"\xa1x"  # lists nested deeper than msgpack packs
    return [
        b"\x82" + key + b"\xa1k" + b"\xa4deep" + deep,
        msgpack.packb([1, 2, 3]),
        msgpack.packb({"key": "k", b"nd": False, b"type": "<i4", b"data": b""}),
        msgpack.packb({"key": "k", "a": {b"nd": True, b"type": "<i4", b"kind": b"", b"shape": [5], b"data": b"12"}}),
        msgpack.packb(
            {"key": "k", "a": {b"nd": True, b"type": "|O", b"kind": b"O", b"shape": [1], b"data": b"\x80\x04K\x01."}}
        ),
        msgpack.packb(
            {"key": "k", "a": {b"nd": True, b"type": [["f", "<i4"]], b"kind": b"V", b"shape": [1], b"data": b"1234"}}
        ),
        msgpack.packb({"key": "k", "c": {b"complex": True, b"data": "not a complex"}}),
        b"\x82" + key + b"\xa1k" + b"\xa1x" + b"\xa2\xff\xfe",  # invalid UTF-8
        b"\x82" + key + b"\xa1k" + b"\x91\x01" + b"\x01",  # a list as a map key
        b"\x82" + key + b"\xa1k" + b"\xa1t" + b"\xd7\xff" + b"\xff" * 8,  # a bad timestamp ext
        b"\x81" + key + b"\xdb\xff\xff\xff\xff",  # a str that declares 4 GiB
        b"\x81" + key + b"\xa1k" + b"\x01\x02",  # trailing bytes
        msgpack.packb({"key": 5}),
        msgpack.packb({"nokey": "x"}),
        b"\xc1",
    ]


def corrupt(path: Path, kind: str, rng: random.Random) -> str:
    """Damage the dataset at ``path`` in place; return a description."""
    if kind == "crafted":
        items = raw_items(path)
        position = rng.randrange(len(items))
        blob = rng.choice(_crafted_samples(rng))
        items[position] = (items[position][0], blob)
        write_raw_dataset(path, items)
        return f"crafted sample {position}: {blob[:24]!r}"
    if kind == "offsets":
        target = index_path(path, ".offsets")
        values = np.frombuffer(target.read_bytes(), dtype=">u8").copy()
        i = rng.randrange(len(values))
        values[i] = rng.choice(
            [
                0,
                1,
                int(values[i]) + rng.randint(1, 50),
                max(0, int(values[i]) - rng.randint(1, 50)),
                1 << 40,
                (1 << 64) - 1,
            ]
        )
        target.write_bytes(values.astype(">u8").tobytes())
        return f"offset {i} set to {int(values[i])}"
    if kind == "keys-header":
        target = index_path(path, ".keys")
        content = target.read_bytes()
        header = rng.choice([b"\xdd\xff\xff\xff\xff", b"\xdd\x00\x10\x00\x00", b"\xdc\xff\xff", b"\x9f", b"\x90"])
        body = content[1:] if content[0] < 0xDC else content[3:] if content[0] == 0xDC else content[5:]
        target.write_bytes(header + body)
        return f"keys header {header!r}"
    suffix = rng.choice(FILES) if kind != "index-file" else rng.choice(FILES[1:])
    target = Path(str(path) + suffix)
    content = bytearray(target.read_bytes())
    if kind == "bitflip" or kind == "index-file":
        if not content:
            content = bytearray(b"\x00")
        i = rng.randrange(len(content))
        content[i] ^= 1 << rng.randrange(8)
        description = f"bit flip in {target.name} at {i}"
    elif kind == "truncate":
        cut = rng.randrange(len(content)) if content else 0
        content = content[:cut]
        description = f"{target.name} truncated to {cut}"
    else:
        extra = rng.randbytes(rng.randint(1, 64))
        content += extra
        description = f"{len(extra)} bytes appended to {target.name}"
    target.write_bytes(bytes(content))
    return description


@dataclass
class Case:
    """One corrupted-file case and what went wrong reading it."""

    kind: str
    description: str
    problems: list[str] = field(default_factory=list)


class _Timeout(Exception):
    pass


def _alarm(signum, frame):  # pragma: no cover - only on a hang
    raise _Timeout()


def _allowed(exc: BaseException) -> bool:
    if isinstance(exc, ALLOWED):
        return True
    return False


def check_damaged(path: Path, case: Case, rng: random.Random, time_limit: float = 10.0) -> None:
    """Read a damaged dataset every way there is; record leaks, hangs and wrong counts in ``case``."""
    from dings.readers import MsgpackReader, QuasiShuffler
    from dings.tools import verify as deep_verify

    def attempt(name: str, action: Callable[[], object]) -> object:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, time_limit)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return action()
        except _Timeout:
            case.problems.append(f"{name}: hang (more than {time_limit:.0f} s)")
        except MemoryError:
            case.problems.append(f"{name}: memory blow-up (MemoryError)")
        except Exception as exc:
            if not _allowed(exc):
                case.problems.append(f"{name}: leaked {type(exc).__module__}.{type(exc).__name__}: {str(exc)[:150]}")
            elif str(path.parent) not in str(exc) and str(path.name) not in str(exc):
                case.problems.append(f"{name}: {type(exc).__name__} does not name the file: {str(exc)[:150]}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        return None

    def read_all() -> None:
        with MsgpackReader(path) as reader:
            length = len(reader)
            count = sum(1 for _ in reader.iter(start=0))
            if count != length:
                case.problems.append(f"iterate: {count} samples but len() is {length}, without an error")

    def read_raw() -> None:
        with MsgpackReader(path) as reader:
            length = len(reader)
            count = sum(1 for _ in reader.iter(start=0, raw=True))
            if count != length:
                case.problems.append(f"iterate raw: {count} samples but len() is {length}, without an error")

    def random_access() -> None:
        with MsgpackReader(path) as reader:
            length = len(reader)
            for i in rng.sample(range(length), min(length, 5)) if length < 10**7 else [0]:
                reader.get(i)
            for key in ("o0001", "n0002", "zzz"):
                try:
                    reader.find_index(key)
                except KeyError:
                    pass

    def shuffled() -> None:
        with MsgpackReader(path) as reader:
            order = QuasiShuffler(reader, seed=1)
            count = sum(1 for _ in order.iter(start=0))
            if count != len(order):
                case.problems.append(f"QuasiShuffler: {count} samples but len() is {len(order)}")

    attempt("read", read_all)
    attempt("read raw", read_raw)
    attempt("random access", random_access)
    attempt("shuffle read", shuffled)
    report = attempt("verify", lambda: verify(path))
    if (
        report is not None and report.ok and case.kind != "crafted"
    ):  # crafted files are consistent: only decoding finds them
        case.problems.append("verify calls the damaged dataset good")
    deep = attempt("verify --deep", lambda: deep_verify(path, deep=True, progress=False))
    if deep is not None and deep.ok:
        case.problems.append("verify --deep calls the damaged dataset good")


def run_cases(base: Path, count: int, seed: int, progress: bool = False, kinds=KINDS) -> list[Case]:
    """``count`` corrupted-file cases spread evenly over the kinds of damage."""
    import shutil

    rng = random.Random(seed)
    pristine = base / "pristine"
    pristine.mkdir(parents=True, exist_ok=True)
    templates = []
    for number in range(4):
        path = pristine / f"t{number}.msgpack"
        write_dataset(path, make_samples(rng, "o", rng.randint(2, 30)))
        templates.append(path)
    cases = []
    work = base / "case"
    for number in range(count):
        kind = kinds[number % len(kinds)]
        template = rng.choice(templates)
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        path = work / "d.msgpack"
        for file in template.parent.iterdir():
            if file.name.startswith(template.name):
                shutil.copyfile(file, work / ("d.msgpack" + file.name[len(template.name) :]))
        before = {p.name: p.read_bytes() for p in work.iterdir()}
        case_rng = random.Random(rng.randrange(1 << 30))
        case = Case(kind, corrupt(path, kind, case_rng))
        if {p.name: p.read_bytes() for p in work.iterdir()} == before:
            case.description += " (no change)"
            continue
        check_damaged(path, case, case_rng)
        cases.append(case)
        if progress and number % 500 == 499:
            bad = sum(bool(c.problems) for c in cases)
            print(f"  {number + 1}/{count} corrupted-file cases, {bad} with problems", file=sys.stderr, flush=True)
    return cases


def summarize_trials(trials: list[Trial]) -> dict:
    outcomes = Counter(t.outcome for t in trials)
    problems = Counter(p.split(":")[0] for t in trials for p in t.problems)
    return {
        "trials": len(trials),
        "outcomes": dict(outcomes),
        "by_operation": dict(Counter(t.operation for t in trials)),
        "by_mode": dict(Counter(t.mode for t in trials)),
        "trials_with_problems": sum(bool(t.problems) for t in trials),
        "problems": dict(problems),
        "dead_temporaries_before_next_write": sum(t.leftovers_before_next_write for t in trials),
    }


def summarize_cases(cases: list[Case]) -> dict:
    leaks = Counter()
    kinds = Counter()
    for case in cases:
        for problem in case.problems:
            if "leaked" in problem:
                leaks[problem.split("leaked ", 1)[1].split(":")[0]] += 1
            kinds[problem.split(":")[0] if "leaked" not in problem else "leak"] += 1
    return {
        "cases": len(cases),
        "by_kind": dict(Counter(c.kind for c in cases)),
        "cases_with_problems": sum(bool(c.problems) for c in cases),
        "leaked_exception_types": dict(leaks),
        "problems": dict(kinds),
        "hangs": sum("hang" in p for c in cases for p in c.problems),
        "wrong_counts": sum("len() is" in p for c in cases for p in c.problems),
        "memory": sum("memory" in p for c in cases for p in c.problems),
        "verify_good": sum("calls the damaged dataset good" in p for c in cases for p in c.problems),
    }


def iter_problems(items) -> Iterator[str]:
    for item in items:
        for problem in item.problems:
            yield f"{getattr(item, 'operation', getattr(item, 'kind', ''))}/{getattr(item, 'mode', '')} seed={getattr(item, 'seed', '')} {getattr(item, 'description', '')}: {problem}"
