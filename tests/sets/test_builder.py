"""The converter framework: datasets declare facts and items, the framework writes; every built-in is a
Builder registered through the entry-point group, callable from Python and from the command line."""

from __future__ import annotations

import argparse
import subprocess
import sys
import venv
import zipfile
from pathlib import Path
from typing import Any

import dings.sets
import pytest
from dings.readers import MsgpackReader
from dings.sets import (
    Builder,
    DatasetInfo,
    Outputs,
    SourceFile,
    Split,
    convert,
    get,
    get_builder,
    list_datasets,
)

from .cifar_fixtures import make_cifar10

ROOT = Path(__file__).resolve().parents[2]


def test_convert_from_python_writes_what_the_command_line_writes(tmp_path):
    make_cifar10(tmp_path / "in", per_batch=3)
    from dings.sets import CIFAR10_write

    cli = CIFAR10_write.main([str(tmp_path / "in"), "-o", str(tmp_path / "cli"), "--seed", "3", "-t", "1", "-q", "-s"])
    api = convert(
        "cifar-10",
        tmp_path / "in",
        tmp_path / "api",
        shuffle=True,
        seed=3,
        threads=2,
        skip_verification=True,
        progress=False,
    )
    assert [p.name for p in api.written] == [p.name for p in cli.written] == ["train.msgpack", "test.msgpack"]
    for name in ("train.msgpack", "test.msgpack"):
        assert (tmp_path / "api" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()


def test_convert_names_options_a_dataset_does_not_have(tmp_path):
    with pytest.raises(TypeError, match=r"CIFAR10 has no option tile_size"):
        convert("CIFAR10", tmp_path, tmp_path, tile_size=3)
    with pytest.raises(TypeError, match=r"ILSVRC2012 has no 'shuffle' option"):
        convert("ILSVRC2012", tmp_path, tmp_path, shuffle=True)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_output_is_kept_unless_overwrite_is_given(tmp_path):
    make_cifar10(tmp_path / "in")
    options: dict[str, Any] = {"skip_verification": True, "progress": False}
    convert("CIFAR10", tmp_path / "in", tmp_path / "out", **options)
    with pytest.raises(dings.sets.ConversionError, match="output exists"):
        convert("CIFAR10", tmp_path / "in", tmp_path / "out", **options)
    again = convert("CIFAR10", tmp_path / "in", tmp_path / "out", overwrite=True, **options)
    assert len(again.written) == 2


def test_every_converter_is_a_builder_in_the_folder_of_its_domain():
    entry_points = (ROOT / "packages" / "dings-sets" / "pyproject.toml").read_text()
    for info in list_datasets():
        if info.name == "TOYSET":
            continue
        assert f'\n{info.name} = "dings.sets.{info.domain.replace("-", "_")}.' in entry_points, info.name
        if info.converter is None:
            with pytest.raises(LookupError, match="no converter"):
                get_builder(info.name)
            continue
        builder = get_builder(info.name)
        assert issubclass(builder, Builder) and builder.info is info
        assert builder.__module__ == f"dings.sets.{info.domain.replace('-', '_')}.{info.name.lower()}"
        assert info.converter == f"dings.sets.{info.name}_write"  # datadings' module, kept as a shim
        shim = __import__(info.converter, fromlist=["main"])
        assert callable(shim.main)


def test_datadings_module_names_still_import_with_their_contents():
    from dings.sets import CIFAR10, ILSVRC2012_synsets, Vaihingen_write

    assert CIFAR10.CLASSES[0] == "airplane" and CIFAR10.INFO is get("CIFAR10")
    assert len(ILSVRC2012_synsets.SYNSETS) == 1000
    assert callable(Vaihingen_write.read_area) and callable(Vaihingen_write.main)


def test_a_converter_module_runs_with_python_m():
    result = subprocess.run(
        [sys.executable, "-m", "dings.sets.MIT300_write", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m dings.sets.MIT300_write")  # as it was run


# -- a dataset defined in a few lines: facts, items, a per-item transform ------------------------

TOY = DatasetInfo(
    name="TINY",
    domain="classification",
    description="three items per split",
    homepage="https://example.invalid",
    sources=(SourceFile("tiny.txt"),),
    splits=(Split("train", 3), Split("test", 3)),
    sample_keys={"key": "str", "label": "int"},
    common_options=("shuffle", "threads"),
)


def square(item: tuple[str, int]) -> dict[str, Any]:
    key, value = item
    return {"key": key, "label": value * value}


class Tiny(Builder):
    info = TOY
    chunksize = 1

    def items(self, split: str) -> list[tuple[str, int]]:
        return [(f"{split}{i}", i) for i in range(3)]

    def transform(self) -> Any:
        return square


def write_tiny(outdir: Path, **options: Any) -> Outputs:
    namespace = argparse.Namespace(**{"shuffle": False, "seed": 0, "threads": 1, **options})
    return Tiny({}, namespace).run(Outputs(outdir, TOY, no_confirm=True, progress=False))


def test_the_framework_writes_every_split_through_the_transform(tmp_path):
    outputs = write_tiny(tmp_path)
    assert [p.name for p in outputs.written] == ["train.msgpack", "test.msgpack"]
    with MsgpackReader(tmp_path / "train.msgpack") as reader:
        assert list(reader) == [
            {"key": "train0", "label": 0},
            {"key": "train1", "label": 1},
            {"key": "train2", "label": 4},
        ]


def test_the_framework_shuffles_by_seed_identically_for_any_thread_count(tmp_path):
    write_tiny(tmp_path / "a", shuffle=True, seed=5, threads=1)
    write_tiny(tmp_path / "b", shuffle=True, seed=5, threads=2)
    assert (tmp_path / "a" / "train.msgpack").read_bytes() == (tmp_path / "b" / "train.msgpack").read_bytes()
    with MsgpackReader(tmp_path / "a" / "train.msgpack") as reader:
        assert sorted(s["key"] for s in reader) == ["train0", "train1", "train2"]


def test_the_framework_skips_a_split_the_user_keeps(tmp_path, monkeypatch):
    write_tiny(tmp_path)
    before = (tmp_path / "test.msgpack").stat().st_mtime_ns
    answers = iter(["no", "yes"])
    monkeypatch.setattr("dings.sets.converter.query_user", lambda *a, **k: next(answers))
    namespace = argparse.Namespace(shuffle=True, seed=1, threads=1)
    outputs = Tiny({}, namespace).run(Outputs(tmp_path, TOY, progress=False))
    assert [p.name for p in outputs.skipped] == ["train.msgpack"]
    assert [p.name for p in outputs.written] == ["test.msgpack"]
    assert (tmp_path / "test.msgpack").stat().st_mtime_ns >= before


def test_the_registry_works_from_installed_wheels(tmp_path):
    """Built-ins come from the wheel's entry points, not from scanning a source folder."""
    wheels = []
    for name in ("dings-format", "dings-readers", "dings-tools", "dings-sets"):
        subprocess.run(
            [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path / "wheels")],
            cwd=ROOT / "packages" / name,
            check=True,
            capture_output=True,
        )
        (wheel,) = (tmp_path / "wheels").glob(name.replace("-", "_") + "-*.whl")
        wheels.append(str(wheel))
    with zipfile.ZipFile(wheels[-1]) as zf:
        entry_points = zf.read(next(n for n in zf.namelist() if n.endswith("entry_points.txt"))).decode()
    assert "[dings.sets]" in entry_points and "CIFAR10 = dings.sets.classification.cifar10:CIFAR10" in entry_points
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = str(env / "bin" / "python")
    install = subprocess.run(
        [python, "-m", "pip", "install", "-q", *wheels], capture_output=True, text=True, check=False
    )
    assert install.returncode == 0, install.stderr
    check = (
        "from dings.sets import get_builder, list_datasets\n"
        "names = [i.name for i in list_datasets()]\n"
        "assert len(names) == 22 and 'TOYSET' not in names, names\n"
        "assert get_builder('Vaihingen').__module__ == 'dings.sets.remote_sensing.vaihingen'\n"
        "import dings.sets.CIFAR10_write\n"
        "print('ok')\n"
    )
    result = subprocess.run([python, "-c", check], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert result.stdout.strip() == "ok", result.stderr
