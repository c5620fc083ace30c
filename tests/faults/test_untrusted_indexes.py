"""Untrusted inputs: hostile index files and ZIP members give one clear error, in bounded time and memory.

A downloaded dataset may come with an index file that is a symlink to ``/dev/zero``, a FIFO, or
a sparse file of many GiB (a tar keeps it small), and a ZIP archive may hold a member that
expands to GiB. Every operation runs in a fresh interpreter whose address space is limited to
1 GiB; the wall-clock limit only detects hangs, it measures nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .hostile import HANG, MEMORY, make_hostile, run_child, seven_byte_dataset, small_dataset

if not hasattr(os, "mkfifo"):  # pragma: no cover - Windows
    pytest.skip("hostile index files need os.mkfifo", allow_module_level=True)


INDEX_FILES = (".offsets", ".keys", ".key_hashes", ".filter", ".crc32", ".md5")
HOSTILE = ("dev-zero", "fifo", "sparse")

#: runs one operation per line of argv in the limited interpreter; prints one line per operation
CHILD = r"""
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1])))
import warnings
warnings.simplefilter("ignore")
from dings.format import FormatError
from dings import readers, tools

def run(op, path):
    if op == "len":
        return len(readers.MsgpackReader(path))
    if op == "get":
        return sorted(readers.MsgpackReader(path)[0])
    if op == "iterate":
        return len(list(readers.MsgpackReader(path)))
    if op == "keys":
        return len(readers.MsgpackReader(path).keys)
    if op == "lookup":
        return "k1" in readers.MsgpackReader(path)
    if op == "checked":
        return sorted(readers.MsgpackReader(path, verify=True)[0])
    if op == "sharded":
        return len(list(readers.ShardedReader([path])))
    if op == "info":
        return tools.info(path, check_md5=True, progress=False).length
    if op == "cat":
        return len(list(tools.cat(path)))
    if op == "shuffle":
        return str(tools.shuffle(path, path + ".shuffled.msgpack", progress=False, overwrite=True))
    if op == "verify":
        report = tools.verify(path, deep=True, progress=False)
        return "ok" if report.ok else "problems " + " | ".join(report.problems)
    if op.startswith("zip"):
        limit = op.partition(":")[2]
        options = {"max_member_size": int(limit)} if limit else {}
        reader = readers.ZipFileReader(path, "**", **options)
        return [len(sample["data"]) for sample in reader]
    raise ValueError(op)

path = sys.argv[2]
for op in sys.argv[3:]:
    print("start", op, flush=True)
    try:
        print("ok", op, run(op, path), flush=True)
    except (FormatError, OSError) as exc:
        print("error", op, type(exc).__name__, str(exc).replace("\n", " "), flush=True)
    except BaseException as exc:
        print("raw", op, type(exc).__name__, str(exc).replace("\n", " ")[:200], flush=True)
"""


def _limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def bounded(path: Path, *ops: str) -> dict[str, str]:
    """Run ``ops`` on ``path`` in a limited interpreter; return op → its outcome line."""
    done = run_child(CHILD, str(MEMORY), str(path), *ops, what=f"{' '.join(ops)} on {path.name}")
    outcomes = {}
    for line in done.stdout.splitlines():
        status, op, *rest = line.split(" ", 2)
        if status != "start":
            outcomes[op] = " ".join([status, *rest])
    assert set(outcomes) == set(ops), f"the child died: {done.stdout[-500:]} {done.stderr[-2000:]}"
    return outcomes


def dataset(folder: Path, count: int = 5) -> Path:
    return small_dataset(folder, count)


def assert_clear(outcome: str, name: str) -> None:
    """One project error (or OSError) naming the file."""
    assert outcome.startswith("error "), outcome
    assert name in outcome, outcome


#: what must notice each hostile index file (everything else may succeed or fail clearly)
READS = {
    ".offsets": ("len", "get", "iterate", "sharded", "info", "cat", "shuffle"),
    ".keys": ("keys",),
    ".key_hashes": ("lookup",),
    ".filter": ("lookup",),
    ".crc32": ("checked",),
    ".md5": (),  # info reports an unreadable md5 file; verify (below) names it
}
EVERY_OP = ("len", "get", "iterate", "keys", "lookup", "checked", "sharded", "info", "cat", "shuffle", "verify")


@pytest.mark.parametrize("suffix", INDEX_FILES)
def test_a_hostile_index_file_is_a_clear_error_in_bounded_memory(tmp_path, suffix):
    for kind in HOSTILE:
        path = dataset(tmp_path / kind)
        name = path.name + suffix
        make_hostile(path.with_name(name), kind)
        outcomes = bounded(path, *EVERY_OP)
        for op, outcome in outcomes.items():
            assert outcome.startswith(("ok ", "error ")), f"{kind} {suffix} {op}: {outcome}"
            if outcome.startswith("error "):
                assert name in outcome, f"{kind} {suffix} {op}: {outcome}"
        for op in READS[suffix]:
            assert_clear(outcomes[op], name)
        assert outcomes["verify"].startswith("ok problems") and name in outcomes["verify"], outcomes["verify"]


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_hostile_legacy_index_is_a_clear_error(tmp_path, kind):
    path = dataset(tmp_path)
    for suffix in (".offsets", ".keys", ".key_hashes", ".filter", ".crc32", ".md5"):
        path.with_name(path.name + suffix).unlink()
    legacy = path.with_name(path.name + ".index")  # a legacy dataset: data and .index only
    make_hostile(legacy, kind)
    outcomes = bounded(path, "len", "get", "keys", "info", "verify")
    for op in ("len", "get", "keys", "info"):
        assert_clear(outcomes[op], legacy.name)
    assert outcomes["verify"].startswith("ok problems") and legacy.name in outcomes["verify"]


def test_a_hostile_label_names_file_is_a_warning_not_a_hang(tmp_path):
    for kind in ("dev-zero", "fifo"):
        path = dataset(tmp_path / kind)
        make_hostile(path.with_name(path.name + ".labels.json"), kind)
        outcomes = bounded(path, "info", "cat")
        assert outcomes == {"info": "ok 5", "cat": "ok 5"}


@pytest.mark.parametrize("last", [b"", (7).to_bytes(8, "big")], ids=["zeros", "ends-at-data-size"])
def test_a_sparse_offsets_file_beside_a_tiny_data_file_is_refused_before_allocating(tmp_path, last):
    path = seven_byte_dataset(tmp_path)
    offsets = path.with_name(path.name + ".offsets")
    make_hostile(offsets, "sparse", last)
    outcomes = bounded(path, "len", "get", "sharded", "info", "cat", "shuffle", "verify")
    for op in ("len", "get", "sharded", "info", "cat", "shuffle"):
        assert_clear(outcomes[op], offsets.name)
        assert "offsets" in outcomes[op]
    assert outcomes["verify"].startswith("ok problems") and offsets.name in outcomes["verify"]


def test_an_offsets_file_with_more_samples_than_data_bytes_is_refused(tmp_path):
    path = dataset(tmp_path, count=2)
    size = path.stat().st_size
    offsets = path.with_name(path.name + ".offsets")
    values = [*range(size + 1), size]  # size + 1 samples cannot fit in size bytes
    offsets.write_bytes(b"".join(v.to_bytes(8, "big") for v in values))
    outcomes = bounded(path, "len", "get", "verify")
    assert_clear(outcomes["len"], offsets.name)
    assert_clear(outcomes["get"], offsets.name)
    assert offsets.name in outcomes["verify"]


def test_key_hashes_and_checksums_must_have_one_entry_per_sample(tmp_path):
    from dings.format import CorruptIndexError, load_checksums, load_key_hashes, load_keys

    path = dataset(tmp_path, count=5)
    hashes = path.with_name(path.name + ".key_hashes")
    hashes.write_bytes(hashes.read_bytes() + bytes(8))
    with pytest.raises(CorruptIndexError, match=r"d\.msgpack\.key_hashes.*5 samples"):
        load_key_hashes(path, length=5)
    with pytest.raises(CorruptIndexError, match=r"d\.msgpack\.crc32"):
        load_checksums(path, 4)
    keys = path.with_name(path.name + ".keys")
    keys.write_bytes(keys.read_bytes() + bytes(10_000))  # more than the data file can explain
    with pytest.raises(CorruptIndexError, match=r"d\.msgpack\.keys.*bytes"):
        load_keys(path)


def test_a_data_file_that_is_not_a_regular_file_is_refused(tmp_path):
    path = dataset(tmp_path)
    make_hostile(path, "fifo")
    outcomes = bounded(path, "len", "info", "cat", "verify")
    for op in ("len", "info", "cat"):
        assert_clear(outcomes[op], path.name)
    assert outcomes["verify"].startswith("ok problems")


# --- the command line: a non-zero exit status and one line ---


def dings(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    try:
        return subprocess.run(
            [sys.executable, "-m", "dings", *args],
            capture_output=True,
            text=True,
            timeout=HANG,
            stdin=subprocess.DEVNULL,
            env=env,
            preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"dings {' '.join(args)} hung")


@pytest.mark.parametrize(("suffix", "kind"), [(".offsets", "sparse"), (".keys", "fifo"), (".keys", "dev-zero")])
def test_the_cli_says_what_is_wrong_in_one_line(tmp_path, suffix, kind):
    path = dataset(tmp_path)
    target = path.with_name(path.name + suffix)
    make_hostile(target, kind)
    verified = dings("verify", str(path))
    assert verified.returncode == 1 and target.name in verified.stdout + verified.stderr
    assert "Traceback" not in verified.stderr
    if suffix == ".offsets":
        for command in ("info", "cat"):
            done = dings(command, str(path))
            assert done.returncode == 1
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and target.name in lines[0], done.stderr


# --- ZIP archives ---


def _patch_sizes(archive: Path, member: str, size: int) -> None:
    """Make the local and central headers of ``member`` declare ``size`` uncompressed bytes."""
    content = bytearray(archive.read_bytes())
    name = member.encode()
    local = content.find(b"PK\x03\x04")
    central = content.find(b"PK\x01\x02")
    assert content[local + 30 : local + 30 + len(name)] == name
    content[local + 22 : local + 26] = size.to_bytes(4, "little")
    content[central + 24 : central + 28] = size.to_bytes(4, "little")
    archive.write_bytes(bytes(content))


def test_a_zip_member_declaring_gigabytes_is_refused_before_reading(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a/huge.bin", b"\0" * 1000)
    _patch_sizes(archive, "a/huge.bin", 0xFA000000)  # 4.2 GB
    outcomes = bounded(archive, "zip")
    assert_clear(outcomes["zip"], "bomb.zip")
    assert "a/huge.bin" in outcomes["zip"] and "max_member_size" in outcomes["zip"]


def test_a_large_compressible_member_is_refused_above_the_limit(tmp_path):
    archive = tmp_path / "big.zip"
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a/small.bin", b"x" * 100)
        with zf.open("a/big.bin", "w", force_zip64=True) as member:
            for _ in range(200):
                member.write(chunk)
    assert archive.stat().st_size < 2 << 20
    outcomes = bounded(archive, f"zip:{64 << 20}", f"zip:{256 << 20}")
    assert_clear(outcomes[f"zip:{64 << 20}"], "a/big.bin")
    assert "max_member_size" in outcomes[f"zip:{64 << 20}"]
    assert outcomes[f"zip:{256 << 20}"] == f"ok {[100, 200 << 20]}"  # within the limit it is read


def test_a_zip_member_that_expands_beyond_its_declared_size_is_a_clear_error(tmp_path):
    archive = tmp_path / "liar.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a/liar.bin", b"\0" * (4 << 20))
    _patch_sizes(archive, "a/liar.bin", 10)
    outcomes = bounded(archive, "zip")
    assert_clear(outcomes["zip"], "liar.zip")
    assert "a/liar.bin" in outcomes["zip"]


def test_zip_member_limit_is_validated():
    from dings.readers import ZipFileReader

    with pytest.raises(ValueError, match="max_member_size"):
        ZipFileReader("nothing.zip", max_member_size=0)


# --- copies of a dataset: nothing hostile is copied ---


@pytest.mark.parametrize(("suffix", "kind"), [(".keys", "fifo"), (".filter", "dev-zero"), (".offsets", "sparse")])
def test_a_shared_memory_copy_refuses_hostile_index_files_before_copying(tmp_path, suffix, kind):
    pytest.importorskip("torch")
    from dings.format import CorruptIndexError
    from dings.torch import SharedMemoryReader

    path = dataset(tmp_path / "source")
    target = path.with_name(path.name + suffix)
    make_hostile(target, kind)
    copies = tmp_path / "shm"
    copies.mkdir()
    with pytest.raises(CorruptIndexError, match=target.name):
        SharedMemoryReader(path, directory=copies)
    assert [p.name for p in copies.iterdir() if not p.name.endswith(".lock")] == []
