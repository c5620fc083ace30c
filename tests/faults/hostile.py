"""What the "untrusted inputs" tests share: small datasets, hostile files, a bounded child interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dings.format import FileWriter, packb

#: address-space limit of a child interpreter: a header that lies cannot make it allocate more
MEMORY = 1 << 30
#: seconds after which a child counts as hung (a hang detector, not a timing assertion)
HANG = 60.0
#: the size of a sparse hostile file
SPARSE = 8 << 30


def small_dataset(folder: Path, count: int = 5, name: str = "d.msgpack", key: str = "k{}") -> Path:
    """A small dataset with every index file, checksums and md5 file; keys ``key.format(i)``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with FileWriter(path, progress=False) as writer:
        for i in range(count):
            writer.write({"key": key.format(i), "value": i})
    return path


def seven_byte_dataset(folder: Path) -> Path:
    """A dataset of one sample packed in 7 bytes, with all its index files."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "d.msgpack"
    with FileWriter(path, progress=False) as writer:
        writer.write({"key": "a"})
    assert path.read_bytes() == packb({"key": "a"}) and path.stat().st_size == 7
    return path


def make_hostile(target: Path, kind: str, last: bytes = b"") -> None:
    """Replace ``target`` by a symlink to /dev/zero (``dev-zero``), a FIFO (``fifo``) or a sparse
    8 GiB file (anything else) ending in ``last``."""
    target.unlink(missing_ok=True)
    if kind == "dev-zero":
        target.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        with open(target, "wb") as f:
            f.truncate(SPARSE)
            if last:
                f.seek(SPARSE - len(last))
                f.write(last)


def run_child(code: str, *args: str, what: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with ``args`` (``sys.argv[1:]``), output captured as text.

    Fails the test if it runs longer than ``HANG`` seconds (``what`` hung).
    """
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            timeout=HANG,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        pytest.fail(f"{what} hung: {out.splitlines()[-1:]}")
    return done


def one_line(code: str, *args: str, what: str) -> str:
    """:func:`run_child` for a child that prints exactly one outcome line; return that line."""
    done = run_child(code, *args, what=what)
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, f"the child died: {done.stdout[-500:]} {done.stderr[-2000:]}"
    return lines[0]
