"""Run the installed ``dings`` console script in a subprocess, on tiny datasets."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from dings.format import FileWriter


def script(name: str = "dings") -> str:
    """Path of an installed console script (next to this Python, or on PATH)."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"the console script {name!r} is not installed (install dings-cli, e.g. via the hatch env)")
    return found


def run(*args: str, cwd: Path | None = None, name: str = "dings", timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``dings ARGS`` without a terminal on stdin; return the finished process (text output)."""
    env = {**os.environ, "COLUMNS": "100"}
    return subprocess.run(
        [script(name), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        env=env,
    )


def png(value: int, size: int = 8) -> bytes:
    """A small PNG whose pixels depend on ``value``."""
    from PIL import Image

    out = io.BytesIO()
    pixels = np.full((size, size, 3), value % 256, dtype=np.uint8)
    pixels[: size // 2, :, 0] = 255 - value % 256
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def write_dataset(path: Path, count: int = 20, prefix: str = "s") -> Path:
    """A dataset of ``count`` image-classification samples: key, PNG image, label."""
    with FileWriter(path, progress=False) as writer:
        for i in range(count):
            writer.write({"key": f"{prefix}{i:03d}", "image": png(i * 10), "label": i % 3})
    return path


def files_in(folder: Path) -> set[str]:
    """Every file name in ``folder`` (hidden temporary files included)."""
    return {p.name for p in folder.iterdir()}


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """``tmp_path/data.msgpack`` with 20 samples."""
    return write_dataset(tmp_path / "data.msgpack")


@pytest.fixture
def cli() -> SimpleNamespace:
    """Helpers: ``run(*args, cwd=None, name="dings")``, ``script``, ``write_dataset``, ``png``, ``files_in``."""
    return SimpleNamespace(run=run, script=script, write_dataset=write_dataset, png=png, files_in=files_in)
