"""sets, write and prepare end to end: the catalog, running a converter, preparing sources."""

from __future__ import annotations

import json
from pathlib import Path

from dings.readers import MsgpackReader
from dings.sets import list_datasets
from dings.tools import verify

from ..sets.cifar_fixtures import make_cifar10 as make_cifar10_archive


def make_cifar10(indir: Path) -> dict:
    """A tiny CIFAR-10 archive (2 images per batch) from the dings.sets tests' fixture."""
    return make_cifar10_archive(indir, per_batch=2)


def test_sets_lists_every_dataset_by_domain(cli):
    result = cli.run("sets")
    assert result.returncode == 0, result.stderr
    for info in list_datasets():
        assert f"  {info.name}" in result.stdout
        assert f"{info.domain}:" in result.stdout


def test_sets_search_and_json(cli):
    doc = json.loads(cli.run("sets", "tag:10-classes", "cifar", "--json").stdout)
    assert [d["name"] for d in doc] == ["CIFAR10"]
    assert {d["name"] for d in json.loads(cli.run("sets", "cifar", "--json").stdout)} >= {"CIFAR10", "CIFAR100"}
    assert json.loads(cli.run("sets", "domain:classification", "--json").stdout)
    none = cli.run("sets", "no-such-dataset-anywhere")
    assert none.returncode == 1 and "no dataset matches" in none.stdout
    none_json = cli.run("sets", "domain:saliency", "tag:small-images", "--json")
    assert none_json.returncode == 1 and json.loads(none_json.stdout) == []


def test_sets_show(cli):
    result = cli.run("sets", "--show", "cifar-10")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("CIFAR10 (classification)")
    assert "cifar-10-python.tar.gz" in result.stdout and "train.msgpack" in result.stdout
    doc = json.loads(cli.run("sets", "--show", "CIFAR10", "--json").stdout)
    assert doc["name"] == "CIFAR10" and doc["converter"] == "dings.sets.CIFAR10_write"


def test_unknown_dataset_suggests_a_close_name(cli):
    for args in (("sets", "--show", "CIFAR01"), ("write", "CIFAR01"), ("prepare", "CIFAR01")):
        result = cli.run(*args)
        assert result.returncode == 2, args
        assert "did you mean CIFAR10" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_bare_write_lists_datasets(cli):
    result = cli.run("write")
    assert result.returncode == 0, result.stderr
    assert "dings write DATASET -h" in result.stdout
    assert "classification:" in result.stdout and "CIFAR10" in result.stdout


def test_write_dataset_help_is_the_converters(cli):
    result = cli.run("write", "CIFAR10", "-h")
    assert result.returncode == 0, result.stderr
    assert "usage: dings write CIFAR10" in result.stdout
    assert "sample keys:" in result.stdout and "--shuffle" in result.stdout


def test_write_runs_the_converter(cli, tmp_path):
    expected = make_cifar10(tmp_path / "in")
    out = tmp_path / "out"
    result = cli.run("write", "CIFAR10", str(tmp_path / "in"), "-o", str(out), "--skip-verification", "-q")
    assert result.returncode == 0, result.stderr
    assert f"wrote {out / 'train.msgpack'}" in result.stdout
    for split in ("train", "test"):
        assert verify(out / f"{split}.msgpack", progress=False).ok
        with MsgpackReader(out / f"{split}.msgpack") as reader:
            assert sorted(reader.keys) == sorted(key for key, _, _ in expected[split])
    again = cli.run("write", "CIFAR10", str(tmp_path / "in"), "-o", str(out), "--skip-verification", "-q")
    assert again.returncode == 1
    assert "-y/--no-confirm" in again.stderr


def test_write_without_converter(cli):
    catalog_only = [info for info in list_datasets() if info.converter is None]
    if not catalog_only:
        __import__("pytest").skip("every registered dataset has a converter")
    result = cli.run("write", catalog_only[0].name)
    assert result.returncode == 1
    assert "no converter" in result.stderr


def test_prepare_prints_paths_and_facts(cli, tmp_path):
    make_cifar10(tmp_path / "data" / "CIFAR10")
    result = cli.run("prepare", "cifar10", "--data-dir", str(tmp_path / "data"), "--skip-verification", "-q")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["indir"] == str(tmp_path / "data" / "CIFAR10")
    assert doc["files"] == {"cifar-10-python.tar.gz": str(tmp_path / "data" / "CIFAR10" / "cifar-10-python.tar.gz")}
    assert doc["dataset"]["name"] == "CIFAR10" and doc["dataset"]["splits"]


def test_prepare_reports_a_checksum_mismatch(cli, tmp_path):
    make_cifar10(tmp_path / "data" / "CIFAR10")
    result = cli.run("prepare", "CIFAR10", "--data-dir", str(tmp_path / "data"), "-q")
    assert result.returncode == 1
    assert "cifar-10-python.tar.gz" in result.stderr and "md5" in result.stderr
    assert "Traceback" not in result.stderr


def test_prepare_unknown_source_file(cli, tmp_path):
    result = cli.run("prepare", "CIFAR10", "--data-dir", str(tmp_path), "--files", "nope.zip")
    assert result.returncode == 2
    assert "nope.zip" in result.stderr
