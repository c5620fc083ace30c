"""bench: reads msgpack datasets and directory trees and counts samples and bytes (no timings asserted)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dings.format import index_path
from dings.readers import DirectoryReader, ListReader, MsgpackReader, Shuffler
from dings.tools import BenchResult, bench


@pytest.fixture
def dataset(make_dataset):
    return make_dataset("data.msgpack", n=80)


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    sizes = {}
    for label in ("cat", "dog"):
        (root / label).mkdir(parents=True)
        for i in range(5):
            path = root / label / f"{i}.txt"
            path.write_bytes(b"x" * (10 * i + len(label)))
            sizes[path] = path.stat().st_size
    (root / "dog" / "skip.bin").write_bytes(b"y" * 1000)
    return root, sizes


def offsets(path) -> np.ndarray:
    return np.frombuffer(index_path(path, ".offsets").read_bytes(), ">u8")


@pytest.mark.parametrize("raw", [False, True])
@pytest.mark.parametrize("shuffle", [False, True])
def test_a_full_pass_counts_every_sample_and_the_data_size(dataset, raw, shuffle):
    result = bench(dataset, raw=raw, shuffle=shuffle, progress=False)
    assert isinstance(result, BenchResult)
    assert (result.samples, result.nbytes) == (80, dataset.stat().st_size)
    assert (result.raw, result.shuffle) == (raw, shuffle)
    assert result.seconds > 0
    assert result.samples_per_second == pytest.approx(80 / result.seconds)
    assert result.mb_per_second == pytest.approx(dataset.stat().st_size / 1e6 / result.seconds)


def test_limit_reads_the_first_samples(dataset):
    result = bench(dataset, limit=25, progress=False)
    assert (result.samples, result.nbytes) == (25, int(offsets(dataset)[25]))
    assert bench(dataset, limit=1000, progress=False).samples == 80


@pytest.mark.parametrize("raw", [False, True])
def test_shuffled_limit_counts_the_bytes_of_the_samples_read(dataset, raw):
    with MsgpackReader(dataset) as reader:
        shuffled = Shuffler(reader, 3)
        expected = sum(len(shuffled.get(i, raw=True)) for i in range(10))
    result = bench(dataset, raw=raw, shuffle=True, seed=3, limit=10, progress=False)
    assert (result.samples, result.nbytes) == (10, expected)


def test_a_directory_tree_is_read_with_directoryreader(tree):
    root, sizes = tree
    decoded = bench(root, progress=False)
    assert decoded.samples == 11
    assert decoded.nbytes == sum(sizes.values()) + 1000
    pattern = bench(str(root / "{LABEL}" / "*.txt"), progress=False)
    assert (pattern.samples, pattern.nbytes) == (10, sum(sizes.values()))
    excluded = bench(root, exclude=["*.bin"], progress=False)
    assert (excluded.samples, excluded.nbytes) == (10, sum(sizes.values()))
    raw = bench(root, raw=True, include=["*.txt"], progress=False)
    reader = DirectoryReader(str(root / "**"), include=["*.txt"])
    assert (raw.samples, raw.nbytes) == (10, sum(len(s) for s in reader.iter(raw=True)))
    assert "DirectoryReader" in raw.source


def test_an_open_reader_is_benchmarked_and_left_open(tmp_path):
    reader = ListReader([{"key": str(i), "v": i} for i in range(7)])
    result = bench(reader, raw=True, progress=False)
    assert result.samples == 7
    assert result.nbytes == sum(len(s) for s in reader.iter(start=0, raw=True))
    assert reader[3]["v"] == 3


def test_result_text_and_dict(dataset):
    result = bench(dataset, raw=True, progress=False)
    text = str(result)
    assert "80 samples" in text and "samples/s" in text and "MB/s" in text and "raw" in text
    data = json.loads(json.dumps(result.to_dict()))
    assert data["samples"] == 80 and data["nbytes"] == dataset.stat().st_size
    assert data["samples_per_second"] == pytest.approx(result.samples_per_second)


def test_bench_errors(tmp_path, dataset):
    with pytest.raises(FileNotFoundError, match="missing.msgpack"):
        bench(tmp_path / "missing.msgpack", progress=False)
    with pytest.raises(FileNotFoundError, match="no_such_dir"):
        bench(str(tmp_path / "no_such_dir" / "*.jpg"), progress=False)
    with pytest.raises(ValueError, match="limit"):
        bench(dataset, limit=-1, progress=False)


def test_bench_prints_nothing_without_progress(dataset, capsys):
    bench(dataset, shuffle=True, progress=False)
    assert capsys.readouterr() == ("", "")
