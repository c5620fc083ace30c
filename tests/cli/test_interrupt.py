"""Ctrl-C (SIGINT) in the middle of a write stops cleanly and leaves no partial outputs behind."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from dings.format import FileWriter


def big_dataset(path, count: int):
    """``count`` samples of 256 kB each, so writing a copy takes a noticeable moment."""
    block = os.urandom(1 << 18)
    with FileWriter(path, progress=False) as writer:
        for i in range(count):
            writer.write({"key": f"k{i:05d}", "data": block[i % 97 :] + block[: i % 97]})
    return path


def started(new: set, folder, when: str) -> bool:
    """Whether to send the signal now: a temporary file exists ("start"), or holds 1 MB of data ("mid")."""
    if when == "start":
        return bool(new)
    sizes = [(folder / name).stat().st_size for name in new if name.endswith(".tmp") and (folder / name).exists()]
    return any(size >= 1 << 20 for size in sizes)


@pytest.mark.parametrize("when", ["start", "mid"])
@pytest.mark.parametrize("command", ["shuffle", "split"])
def test_sigint_mid_write_leaves_only_the_inputs(cli, tmp_path, command, when):
    source = big_dataset(tmp_path / "in.msgpack", 320)  # 80 MB: copying it outlasts a busy machine's polling
    before = cli.files_in(tmp_path)
    args = {
        "shuffle": ["shuffle", str(source), str(tmp_path / "out.msgpack"), "--true-shuffle"],
        "split": ["split", str(source), "160", "-o", str(tmp_path / "a.msgpack"), str(tmp_path / "b.msgpack")],
    }[command]
    process = subprocess.Popen(
        [cli.script(), *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            if started(cli.files_in(tmp_path) - before, tmp_path, when):
                process.send_signal(signal.SIGINT)
                break
            time.sleep(0.0005)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    if process.returncode == 0:
        pytest.fail(f"{command} finished before it could be interrupted; make the test dataset bigger")
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert cli.files_in(tmp_path) == before
