"""Every package builds a wheel that declares only its own dependencies and keeps `dings` a namespace."""

from __future__ import annotations

import re
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ROOT / "packages"

# distribution -> dependency names its wheel must declare (and nothing else)
EXPECTED_DEPS = {
    "dings-format": {"msgpack", "msgpack-numpy", "numpy", "simplebloom"},
    "dings-readers": {"dings-format", "numpy"},
    "dings-tools": {"dings-format", "dings-readers", "numpy", "tqdm"},
    "dings-sets": {"dings-format", "dings-readers", "dings-tools", "numpy"},
    "dings-torch": {"dings-format", "dings-readers", "numpy", "torch", "pillow", "tqdm"},
    "dings-cli": {"dings-format", "dings-readers", "dings-tools", "dings-sets"},
}


def build_wheel(name: str, outdir: Path) -> Path:
    pytest.importorskip("hatchling", reason="hatchling (installed by the hatch test env) builds the wheels")
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(outdir)],
        cwd=PACKAGES / name,
        check=True,
        capture_output=True,
    )
    (wheel,) = outdir.glob(name.replace("-", "_") + "-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheels(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("wheels")
    return {name: build_wheel(name, outdir) for name in EXPECTED_DEPS}


def requirements(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        metadata = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        lines = zf.read(metadata).decode().splitlines()
    names = set()
    for line in lines:
        if line.startswith("Requires-Dist:") and "extra ==" not in line:
            names.add(re.split(r"[ <>=!~;\[]", line.split(":", 1)[1].strip())[0].lower())
    return names


@pytest.mark.parametrize("name", list(EXPECTED_DEPS))
def test_wheel_declares_only_its_own_dependencies(wheels, name):
    assert requirements(wheels[name]) == EXPECTED_DEPS[name]


@pytest.mark.parametrize("name", list(EXPECTED_DEPS))
def test_wheel_ships_its_module_typed_and_no_namespace_init(wheels, name):
    module = name.split("-", 1)[1]
    with zipfile.ZipFile(wheels[name]) as zf:
        files = set(zf.namelist())
    assert "dings/__init__.py" not in files
    assert f"dings/{module}/__init__.py" in files
    assert f"dings/{module}/py.typed" in files


def test_cli_has_an_extra_with_every_converter(wheels):
    with zipfile.ZipFile(wheels["dings-cli"]) as zf:
        metadata = zf.read(next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    assert "Provides-Extra: converters" in metadata
    assert re.search(r"Requires-Dist: dings-sets\[all\].*extra == .converters.", metadata)


SMOKE = """
import importlib.util, sys, tempfile, pathlib
from dings.format import FileWriter, verify
from dings.readers import MsgpackReader
for absent in ("dings.tools", "dings.torch", "torch", "PIL"):
    assert importlib.util.find_spec(absent) is None, absent + " should not be installed"
path = pathlib.Path(tempfile.mkdtemp()) / "x.msgpack"
with FileWriter(path, progress=False) as w:
    w.write({"key": "a", "v": 1})
assert verify(path).ok
assert MsgpackReader(path).get(0) == {"key": "a", "v": 1}
print("ok")
"""


def test_format_and_readers_work_installed_alone(wheels, tmp_path):
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(wheels["dings-format"]), str(wheels["dings-readers"])],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr
    result = subprocess.run([str(python), "-c", SMOKE], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


@pytest.mark.parametrize("name", list(EXPECTED_DEPS))
def test_wheel_has_license_urls_authors_classifiers_and_keywords(wheels, name):
    with zipfile.ZipFile(wheels[name]) as zf:
        names = zf.namelist()
        metadata = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        license_text = zf.read(next(n for n in names if n.endswith(".dist-info/licenses/LICENSE"))).decode()
    assert license_text.startswith("MIT License") and "dings developers" in license_text
    for field in (
        "License-Expression: MIT",
        "Author: dings developers",
        "Keywords: ",
        "Classifier: ",
        "Project-URL: Repository, https://",
    ):
        assert field in metadata, field
    readme = metadata.split("\n\n", 1)[1]
    assert "](../" not in readme and "](packages/" not in readme  # relative links break on the package index


def test_root_license_is_mit():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Copyright (c) 2026 dings developers" in text


def test_sets_wheel_is_small_and_ships_no_yfcc_reject_list(wheels):
    wheel = wheels["dings-sets"]
    with zipfile.ZipFile(wheel) as zf:
        assert not any("rejected_images" in n for n in zf.namelist())
    assert wheel.stat().st_size < 600_000, f"{wheel.name}: {wheel.stat().st_size:,} bytes"
