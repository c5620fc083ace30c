"""MIT300_write stores the benchmark images of BenchmarkIMAGES.zip unchanged, without maps and clutter."""

from __future__ import annotations

import os

import pytest

from dings.readers import MsgpackReader
from dings.sets import MIT300_write, get

from .mit_fixtures import make_mit300


def convert(indir, outdir, *extra):
    return MIT300_write.main([str(indir), "-o", str(outdir), "-s", "-q", *extra])


def test_only_benchmark_images_are_stored_with_their_bytes(tmp_path):
    expected = make_mit300(tmp_path / "in")
    outputs = convert(tmp_path / "in", tmp_path / "out", "--shuffle", "no")
    assert [p.name for p in outputs.written] == ["MIT300.msgpack"]
    with MsgpackReader(tmp_path / "out" / "MIT300.msgpack") as reader:
        samples = list(reader)
    assert [s["key"] for s in samples] == list(expected)
    for sample in samples:
        assert set(sample) == {"key", "image"}
        assert sample["image"] == expected[sample["key"]]


def test_shuffle_depends_on_the_seed_only(tmp_path):
    expected = make_mit300(tmp_path / "in")
    keys = {}
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2"), ("d", "3")):
        convert(tmp_path / "in", tmp_path / name, "--seed", seed)
        keys[name] = MsgpackReader(tmp_path / name / "MIT300.msgpack").keys
    assert keys["a"] == keys["b"]
    assert len({tuple(k) for k in keys.values()}) > 1
    assert all(sorted(k) == sorted(expected) for k in keys.values())


def test_a_truncated_archive_is_reported_and_leaves_no_output(tmp_path):
    make_mit300(tmp_path / "in")
    path = tmp_path / "in" / "BenchmarkIMAGES.zip"
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ValueError, match=r"BenchmarkIMAGES.zip: not a readable zip archive .*download it again"):
        convert(tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_catalog_entry():
    info = get("MIT300")
    assert [(s.name, s.url, s.md5) for s in info.sources] == [
        ("BenchmarkIMAGES.zip", "http://saliency.mit.edu/BenchmarkIMAGES.zip", "03ed32bdf5e4289950cd28df89451260")
    ]
    assert [(s.filename, s.samples) for s in info.splits] == [("MIT300.msgpack", 300)]
    assert set(info.sample_keys) == {"key", "image"} and info.domain == "saliency"
