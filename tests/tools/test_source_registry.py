"""The registry of import source kinds: a kind is one object, and everything that imports picks it up.

A toy kind, declared and registered here (one file, nothing else changed), is detected, imported by
``dings import`` (with its own option), by :func:`import_source` and in partitions with
``--engine local``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dings.cli.main import main
from dings.format import FileWriter, PartitionedOutput, load_label_names
from dings.readers import MsgpackReader, open_dataset
from dings.tools import (
    ImportDataError,
    Source,
    SourceKind,
    SourceOption,
    detect_source,
    export,
    get_source_kind,
    import_partitioned,
    import_source,
    register_source_kind,
    source_kinds,
    unregister_source_kind,
)
from dings.tools.importing import core, kinds

from ..cli.conftest import png


def toy_source(path: str | os.PathLike, *, labels=None, scale: int = 1) -> Source:
    """A ``.toy`` file: one ``key number`` a line; a sample ``{"key", "n": number * scale}``."""
    lines = Path(path).read_text().split()
    items = list(zip(lines[::2], lines[1::2]))

    def load(item: tuple[str, str]) -> tuple[str, dict]:
        key, number = item
        if not number.isdigit():
            raise ImportDataError(f"{path}: {key}: {number!r} is not a number")
        return f"{path}: {key}", {"key": key, "n": int(number) * scale}

    return Source(items, load, Path(path).name, len(items), reads_files=False)


TOY = SourceKind(
    "toy",
    detect=lambda text: text.endswith(".toy"),
    source=toy_source,
    partition=kinds.partition_items,
    suffixes=(".toy",),
    options=(SourceOption("--toy-scale", "scale", "multiply every number", type=int, metavar="N"),),
)


@pytest.fixture
def toy(tmp_path):
    """The toy kind registered (for this test only) and a ``.toy`` file of five samples."""
    register_source_kind(TOY)
    path = tmp_path / "numbers.toy"
    path.write_text("".join(f"k{i} {i}\n" for i in range(5)))
    yield path
    unregister_source_kind("toy")


def samples(spec) -> list[dict]:
    with open_dataset(spec) as reader:
        return list(reader)


def expected(scale: int) -> list[dict]:
    return [{"key": f"k{i}", "n": i * scale} for i in range(5)]


def test_a_registered_kind_is_detected_and_imported_by_import_source(toy, tmp_path):
    assert "toy" in [kind.name for kind in source_kinds()]
    assert detect_source(toy) == "toy"
    result = import_source(toy, tmp_path / "out.msgpack", scale=2, progress=False)
    assert result.samples == 5
    assert samples(tmp_path / "out.msgpack") == expected(2)


def test_dings_import_takes_a_registered_kind_and_its_option(toy, tmp_path, capsys):
    assert main(["import", str(toy), str(tmp_path / "out.msgpack"), "--toy-scale", "3", "-q"]) == 0
    assert samples(tmp_path / "out.msgpack") == expected(3)
    assert main(["import", str(toy), str(tmp_path / "named.msgpack"), "--from", "toy", "-q"]) == 0
    assert samples(tmp_path / "named.msgpack") == expected(1)


def test_engine_local_partitions_a_registered_kind(toy, tmp_path):
    out = tmp_path / "parts" / "toy"
    args = ["import", str(toy), str(out), "--engine", "local", "--partition-size", "2", "--toy-scale", "4", "-q"]
    assert main(args) == 0
    assert len(PartitionedOutput(out).existing()) == 3
    assert samples(out) == expected(4)
    result = import_partitioned(toy, tmp_path / "lib" / "toy", partition_size=3, progress=False)
    assert result.samples == 5 and len(result.paths) == 2


def test_a_kind_that_cannot_partition_names_the_ones_that_can(toy, tmp_path, capsys):
    register_source_kind(SourceKind("toy", detect=TOY.detect, source=toy_source), replace=True)
    assert main(["import", str(toy), str(tmp_path / "out"), "--engine", "local", "-q"]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("dings import: error: a toy source cannot be imported with --engine; choose from folder")
    assert "\n" not in error and not (tmp_path / "out").exists()


def test_an_option_of_another_kind_is_refused(toy, tmp_path, capsys):
    assert main(["import", str(toy), str(tmp_path / "out.msgpack"), "--path-column", "p", "-q"]) == 2
    assert "--path-column is not an option of a toy source" in capsys.readouterr().err
    assert not (tmp_path / "out.msgpack").exists()


def test_names_are_unique_and_unknown_kinds_list_the_known_ones(toy, tmp_path):
    with pytest.raises(ValueError, match="'toy' is registered already"):
        register_source_kind(TOY)
    with pytest.raises(ValueError, match=r"unknown source kind 'toys'; choose from folder, list, .*, toy"):
        get_source_kind("toys")
    with pytest.raises(ValueError, match="give a source or an importer"):
        SourceKind("nothing", detect=lambda text: False)


def test_the_options_of_two_kinds_must_agree(toy, capsys):
    clash = SourceOption("--toy-scale", "scale", "another meaning", type=float)
    register_source_kind(SourceKind("toy2", detect=lambda text: False, source=toy_source, options=(clash,)))
    try:
        with pytest.raises(ValueError, match=r"'toy2' declares --toy-scale unlike 'toy'"):
            main(["import", "--help"])
    finally:
        unregister_source_kind("toy2")


def test_dings_help_imports_no_library():
    code = "import sys; from dings.cli.main import main\ntry: main(['--help'])\nexcept SystemExit: pass\n"
    code += "print(sorted(m for m in sys.modules if m.startswith(('dings.tools', 'numpy'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_the_output_is_checked_for_overwriting_once(tmp_path, monkeypatch):
    (tmp_path / "photos" / "cat").mkdir(parents=True)
    (tmp_path / "photos" / "cat" / "1.png").write_bytes(png(1))
    calls: list[Path] = []
    real = core._check_target
    monkeypatch.setattr(core, "_check_target", lambda output, *args: calls.append(output) or real(output, *args))
    for options in ({}, {"shard_size": 1}, {"shuffle": True}):
        calls.clear()
        import_source(tmp_path / "photos", tmp_path / "out.msgpack", overwrite=True, progress=False, **options)
        assert calls == [tmp_path / "out.msgpack"], options
    checks: list[bool] = []
    original = PartitionedOutput.check_overwrite
    monkeypatch.setattr(PartitionedOutput, "check_overwrite", lambda self, o: checks.append(o) or original(self, o))
    for overwrite in (False, True):  # a new output, then the same one replaced
        checks.clear()
        import_partitioned(tmp_path / "photos", tmp_path / "parts" / "p", overwrite=overwrite, progress=False)
        assert checks.count(False) == (0 if overwrite else 1), checks  # the commit does not refuse again
    with MsgpackReader(tmp_path / "out.msgpack") as reader:
        assert len(reader) == 1


@pytest.mark.parametrize("to", ["webdataset", "folder"])
def test_engine_local_keeps_the_label_names_an_export_stored(tmp_path, to):
    names = ["zero", "one", "two"]  # not in sorted order
    with FileWriter(tmp_path / "data.msgpack", progress=False, label_names=names) as writer:
        for i in range(6):
            writer.write({"key": f"s{i}", "image": png(i), "label": i % 3})
    source = tmp_path / ("exported.tar" if to == "webdataset" else "exported")
    export(tmp_path / "data.msgpack", source, to=to, progress=False)
    import_source(source, tmp_path / "plain.msgpack", progress=False)
    import_partitioned(source, tmp_path / "parts" / "p", partition_size=4, progress=False)
    assert load_label_names(tmp_path / "parts" / "p" / "p-00000-00000.msgpack") == names
    assert samples(tmp_path / "parts" / "p") == samples(tmp_path / "plain.msgpack")
