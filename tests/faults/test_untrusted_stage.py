"""Untrusted inputs: ``stage`` refuses hostile index files before it copies anything.

A downloaded dataset may come with an index file that is a symlink to ``/dev/zero``, a FIFO, or a
sparse file of many GiB beside a 7-byte data file. ``stage`` checks every file it would copy as
the readers do (a regular file, no larger than the data file allows, offsets that end at the data
file's size) and refuses the dataset with one error naming the file, before it copies anything.
Local stages run in a fresh interpreter whose address space is limited to 1 GiB and which may
write no file larger than 64 MiB; the wall-clock limit only detects hangs, it measures nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dings.format import CorruptIndexError, index_size_limit

from ..readers import remote_servers as _servers
from .hostile import HANG, MEMORY, make_hostile, one_line, seven_byte_dataset, small_dataset

if not hasattr(os, "mkfifo"):  # pragma: no cover - Windows
    pytest.skip("hostile index files need os.mkfifo", allow_module_level=True)

http_server = _servers.http_server
FILE_SIZE = 64 << 20

#: stages argv[3] into argv[4] in an interpreter limited to argv[1] bytes of memory and argv[2]
#: bytes per file written; prints one outcome line
CHILD = r"""
import resource, signal, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1])))
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), int(sys.argv[2])))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing
from dings.format import FormatError
from dings.tools import stage

try:
    print("ok", stage(sys.argv[3], sys.argv[4], progress=False), flush=True)
except (FormatError, OSError) as exc:
    print("error", type(exc).__name__, str(exc).replace("\n", " "), flush=True)
except BaseException as exc:
    print("raw", type(exc).__name__, str(exc).replace("\n", " ")[:300], flush=True)
"""


def stage_bounded(source: Path, local: Path) -> str:
    """Stage ``source`` into ``local`` in a limited interpreter; return the outcome line."""
    return one_line(CHILD, str(MEMORY), str(FILE_SIZE), str(source), str(local), what=f"staging {source}")


def dataset(folder: Path, count: int = 5, name: str = "d.msgpack") -> Path:
    return small_dataset(folder, count, name)


def assert_refused(outcome: str, target: Path, local: Path) -> None:
    """One CorruptIndexError naming the file, and nothing copied."""
    assert outcome.startswith("error CorruptIndexError "), outcome
    assert str(target) in outcome, outcome
    assert not local.exists() or list(local.iterdir()) == [], sorted(p.name for p in local.iterdir())


# --- local sources ---


@pytest.mark.parametrize("last", [b"", (7).to_bytes(8, "big")], ids=["zeros", "ends-at-data-size"])
def test_a_sparse_offsets_file_beside_a_tiny_data_file_is_not_staged(tmp_path, last):
    path = seven_byte_dataset(tmp_path / "source")
    offsets = path.with_name(path.name + ".offsets")
    make_hostile(offsets, "sparse", last)
    local = tmp_path / "local"
    outcome = stage_bounded(path, local)
    assert_refused(outcome, offsets, local)
    assert "a data file of 7 bytes" in outcome  # why it cannot be an offsets file


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "sparse"])
@pytest.mark.parametrize("suffix", [".keys", ".key_hashes", ".filter", ".crc32", ".md5"])
def test_a_hostile_index_file_is_not_staged(tmp_path, suffix, kind):
    path = dataset(tmp_path / "source")
    target = path.with_name(path.name + suffix)
    make_hostile(target, kind)
    local = tmp_path / "local"
    assert_refused(stage_bounded(path, local), target, local)


def test_an_oversized_index_is_refused_before_any_dataset_is_copied(tmp_path):
    first = dataset(tmp_path / "source", name="a.msgpack")
    second = dataset(tmp_path / "source", name="b.msgpack")
    keys = second.with_name(second.name + ".keys")
    keys.write_bytes(keys.read_bytes() + bytes(index_size_limit(".keys", second.stat().st_size)))
    local = tmp_path / "local"
    from dings.tools import stage

    with pytest.raises(CorruptIndexError, match=str(keys)) as info:
        stage(str(tmp_path / "source" / "*.msgpack"), local, progress=False)  # both datasets
    assert "\n" not in str(info.value)
    assert not local.exists() or list(local.iterdir()) == []  # not even the first, intact dataset
    assert first.exists()


def test_offsets_that_do_not_end_at_the_data_size_are_not_staged(tmp_path):
    from dings.tools import stage

    path = dataset(tmp_path / "source")
    offsets = path.with_name(path.name + ".offsets")
    content = bytearray(offsets.read_bytes())
    content[-1] ^= 1  # same size, last offset is not the data file's size
    offsets.write_bytes(bytes(content))
    with pytest.raises(CorruptIndexError, match=str(offsets)):
        stage(path, tmp_path / "local", progress=False)
    assert not (tmp_path / "local").exists() or list((tmp_path / "local").iterdir()) == []


def test_an_md5_file_listing_a_file_of_another_dataset_is_refused(tmp_path):
    from dings.tools import stage

    path = dataset(tmp_path / "source")
    other = path.with_name("other.bin")
    other.write_bytes(bytes(1000))
    md5 = path.with_name(path.name + ".md5")
    md5.write_text(md5.read_text() + f"{'0' * 32}  other.bin\n")
    with pytest.raises(CorruptIndexError, match=r"other\.bin.*not a file of the dataset"):
        stage(path, tmp_path / "local", progress=False)


def test_a_hostile_label_names_sidecar_is_not_staged(tmp_path):
    path = dataset(tmp_path / "source")
    labels = path.with_name(path.name + ".labels.json")
    make_hostile(labels, "fifo")
    local = tmp_path / "local"
    assert_refused(stage_bounded(path, local), labels, local)


def _limit_file_size() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE, FILE_SIZE))


def test_the_cli_refuses_in_one_line(tmp_path):
    path = seven_byte_dataset(tmp_path / "source")
    offsets = path.with_name(path.name + ".offsets")
    make_hostile(offsets, "sparse")
    local = tmp_path / "local"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "dings", "stage", str(path), str(local)],
        capture_output=True,
        text=True,
        timeout=HANG,
        stdin=subprocess.DEVNULL,
        env=env,
        preexec_fn=_limit_file_size,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1 and offsets.name in lines[0], done.stderr
    assert not local.exists() or list(local.iterdir()) == []


# --- URL sources ---


@pytest.mark.parametrize("suffix", [".offsets", ".keys", ".crc32"])
def test_an_oversized_remote_index_file_is_not_staged(tmp_path, http_server, suffix):
    from dings.tools import stage

    path = dataset(tmp_path / "source")
    target = path.with_name(path.name + suffix)
    target.write_bytes(target.read_bytes() + bytes(1 << 20))
    for file in path.parent.iterdir():
        http_server.add(f"/d/{file.name}", file.read_bytes())
    url = http_server.url(f"/d/{path.name}")
    local = tmp_path / "local"
    with pytest.raises(CorruptIndexError, match=str(index_size_limit(suffix, path.stat().st_size))) as info:
        stage(url, local, progress=False, retries=0, backoff=0.0)
    assert f"{url}{suffix}:" in str(info.value) and "\n" not in str(info.value)
    assert not local.exists() or list(local.iterdir()) == []
    assert [r for r in http_server.requests_for(f"/d/{target.name}") if r.method == "GET"] == []  # never fetched


def test_an_oversized_remote_md5_file_is_not_downloaded(tmp_path, http_server):
    from dings.tools import stage

    path = dataset(tmp_path / "source")
    for file in path.parent.iterdir():
        http_server.add(f"/d/{file.name}", file.read_bytes())
    http_server.add(f"/d/{path.name}.md5", bytes(4 << 20))
    url = http_server.url(f"/d/{path.name}")
    with pytest.raises(CorruptIndexError, match=rf"{path.name}\.md5.*{index_size_limit('.md5', 0)}"):
        stage(url, tmp_path / "local", progress=False, retries=0, backoff=0.0)
