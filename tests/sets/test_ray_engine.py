"""Converters hand their per-image work to Ray (``--engine ray``) and write the same bytes as locally."""

from __future__ import annotations

from pathlib import Path

import pytest

import dings.sets
from dings.tools import ray_map

from ..ray_cluster import local_ray
from .imagenet_fixtures import make_ilsvrc2012, make_imagenet21k

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'dings-tools[ray]' (the hatch env has it)")


@pytest.fixture(scope="module")
def cluster():
    """One local Ray instance (2 CPUs, 127.0.0.1) for the module."""
    with local_ray() as context:
        yield context


@pytest.fixture
def ray_calls(monkeypatch):
    """The functions the converters handed to dings.tools.ray_map (which still runs them on Ray)."""
    import dings.sets.builder

    calls = []

    def counted(fn, items, **options):
        calls.append(fn)
        return ray_map(fn, items, **options)

    monkeypatch.setattr(dings.sets.builder, "ray_map", counted)
    return calls


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_ilsvrc2012_on_ray_writes_the_same_files_as_a_local_conversion(cluster, ray_calls, tmp_path):
    make_ilsvrc2012(tmp_path / "in")
    common = {"skip_verification": True, "progress": False}
    dings.sets.convert("ILSVRC2012", tmp_path / "in", tmp_path / "local", threads=2, **common)
    assert ray_calls == []
    outputs = dings.sets.convert("ILSVRC2012", tmp_path / "in", tmp_path / "ray", engine="ray", **common)
    assert [p.name for p in outputs.written] == ["train.msgpack", "val.msgpack"]
    local, on_ray = files_of(tmp_path / "local"), files_of(tmp_path / "ray")
    assert "train.msgpack.md5" in on_ray
    assert on_ray == local
    assert len(ray_calls) == 2  # the image check of each split ran on Ray


def test_a_converter_with_its_own_loop_runs_it_on_ray_from_the_command_line(cluster, ray_calls, tmp_path):
    make_imagenet21k(tmp_path / "in")
    dings.sets.command_line("ImageNet21k", [str(tmp_path / "in"), "-o", str(tmp_path / "local"), "-s", "-q"])
    dings.sets.command_line(
        "ImageNet21k", [str(tmp_path / "in"), "-o", str(tmp_path / "ray"), "-s", "-q", "--engine", "ray"]
    )
    assert files_of(tmp_path / "ray") == files_of(tmp_path / "local")
    assert len(ray_calls) == 1  # one pass over the archive fills both splits
    assert (tmp_path / "ray" / "train.msgpack").stat().st_size > 0


def test_only_converters_with_per_image_work_take_an_engine(tmp_path):
    with pytest.raises(TypeError, match=r"Places365 has no 'threads' option, so engine= cannot be given"):
        dings.sets.convert("Places365", tmp_path, tmp_path / "out", engine="ray")
    with pytest.raises(ValueError, match=r"engine must be 'local' or 'ray', got 'spark'"):
        dings.sets.convert("ILSVRC2012", tmp_path, tmp_path / "out", engine="spark")
    assert not (tmp_path / "out").exists()
