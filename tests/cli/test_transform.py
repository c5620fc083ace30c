"""shuffle, merge, split, sample, convert-index and stage end to end, with their failure cases."""

from __future__ import annotations

import json
import shutil

import msgpack
import numpy as np

from dings.readers import MsgpackReader
from dings.tools import verify


def keys(path):
    with MsgpackReader(path) as reader:
        return list(reader.keys)


def test_shuffle_writes_a_permutation_quietly(cli, dataset, tmp_path):
    out = tmp_path / "out.msgpack"
    result = cli.run("shuffle", str(dataset), str(out), "--true-shuffle", "--seed", "4", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
    assert sorted(keys(out)) == keys(dataset) != keys(out)
    assert verify(out, progress=False).ok


def test_existing_output_needs_yes_without_a_terminal(cli, dataset, tmp_path):
    out = cli.write_dataset(tmp_path / "out.msgpack", count=3, prefix="old")
    before = out.read_bytes()
    result = cli.run("shuffle", str(dataset), str(out))
    assert result.returncode == 1
    assert "exists" in result.stderr and "-y" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert out.read_bytes() == before
    result = cli.run("shuffle", str(dataset), str(out), "-y", "-q")
    assert result.returncode == 0, result.stderr
    assert len(keys(out)) == 20


def test_merge_random_and_duplicate_keys(cli, tmp_path):
    a = cli.write_dataset(tmp_path / "a.msgpack", count=5, prefix="a")
    b = cli.write_dataset(tmp_path / "b.msgpack", count=7, prefix="b")
    out = tmp_path / "ab.msgpack"
    result = cli.run("merge", str(a), str(b), str(out), "-s", "random", "--seed", "1", "-q")
    assert result.returncode == 0, result.stderr
    assert sorted(keys(out)) == sorted(keys(a) + keys(b))
    clash = cli.run("merge", str(a), str(a), str(tmp_path / "aa.msgpack"), "-q")
    assert clash.returncode == 1
    assert "a000" in clash.stderr and "prefix" in clash.stderr
    assert not (tmp_path / "aa.msgpack").exists()


def test_merge_unknown_strategy_is_usage_error(cli, dataset, tmp_path):
    result = cli.run("merge", str(dataset), str(tmp_path / "o.msgpack"), "-s", "zigzag")
    assert result.returncode == 2
    assert "zigzag" in result.stderr


def test_split_default_names_and_outfiles(cli, dataset, tmp_path):
    result = cli.run("split", str(dataset), "5", "12", "-q")
    assert result.returncode == 0, result.stderr
    parts = [tmp_path / f"data_{n}.msgpack" for n in range(3)]
    assert [len(keys(p)) for p in parts] == [5, 7, 8]
    assert sum((keys(p) for p in parts), []) == keys(dataset)
    train, val = tmp_path / "train.msgpack", tmp_path / "val.msgpack"
    result = cli.run("split", str(dataset), "15", "-o", str(train), str(val), "-q")
    assert result.returncode == 0, result.stderr
    assert keys(train) + keys(val) == keys(dataset) and len(keys(val)) == 5


def test_split_position_must_be_a_number(cli, dataset):
    result = cli.run("split", str(dataset), "half")
    assert result.returncode == 2
    assert "SPLIT" in result.stderr and "'half'" in result.stderr


def test_split_position_out_of_range(cli, dataset):
    result = cli.run("split", str(dataset), "20", "-q")
    assert result.returncode == 1
    assert "out of range" in result.stderr


def test_split_wrong_number_of_outfiles(cli, dataset, tmp_path):
    result = cli.run("split", str(dataset), "5", "-o", str(tmp_path / "only.msgpack"))
    assert result.returncode == 2
    assert "need 2 -o/--outfiles" in result.stderr


def test_sample_random_subset(cli, dataset, tmp_path):
    out = tmp_path / "few.msgpack"
    result = cli.run("sample", str(dataset), str(out), "6", "-s", "random", "--seed", "2", "-q")
    assert result.returncode == 0, result.stderr
    got = keys(out)
    assert len(got) == 6 and set(got) <= set(keys(dataset)) and got == sorted(got)
    too_many = cli.run("sample", str(dataset), str(tmp_path / "x.msgpack"), "99", "-q")
    assert too_many.returncode == 1 and "only 20" in too_many.stderr


def test_convert_index_of_a_legacy_dataset(cli, dataset, tmp_path):
    # a legacy dataset: the data file and only a .index (a msgpack map key -> offset)
    old = tmp_path / "old"
    old.mkdir()
    legacy = old / "data.msgpack"
    shutil.copyfile(dataset, legacy)
    offsets = np.frombuffer((tmp_path / "data.msgpack.offsets").read_bytes(), ">u8")
    mapping = {key: int(start) for key, start in zip(keys(dataset), offsets[:-1])}
    (old / "data.msgpack.index").write_bytes(msgpack.packb(mapping, use_bin_type=True))
    outdir = tmp_path / "new"
    result = cli.run("convert-index", str(legacy), "-o", str(outdir), "-q")
    assert result.returncode == 0, result.stderr
    assert verify(outdir / "data.msgpack", progress=False).ok
    for suffix in (".offsets", ".keys", ".key_hashes", ".filter"):
        assert (outdir / f"data.msgpack{suffix}").read_bytes() == (tmp_path / f"data.msgpack{suffix}").read_bytes()
    again = cli.run("convert-index", str(legacy), "-o", str(outdir), "-q")
    assert again.returncode == 1 and "-y/--no-confirm" in again.stderr


def test_convert_index_without_legacy_index(cli, dataset, tmp_path):
    result = cli.run("convert-index", str(dataset), "-o", str(tmp_path / "other"), "-q")
    assert result.returncode == 1
    assert "legacy index not found" in result.stderr


def test_convert_index_adds_missing_checksums(cli, dataset):
    crc = dataset.with_name(dataset.name + ".crc32")
    expected = crc.read_bytes()
    refused = cli.run("convert-index", str(dataset), "-q")
    assert refused.returncode == 1 and "-y/--no-confirm" in refused.stderr
    crc.unlink()
    assert "no per-sample checksums" in cli.run("verify", str(dataset), "-q").stdout
    result = cli.run("convert-index", str(dataset), "-q")
    assert result.returncode == 0, result.stderr
    assert crc.read_bytes() == expected


def test_stage_copies_then_skips(cli, dataset, tmp_path):
    local = tmp_path / "local"
    first = json.loads(cli.run("stage", str(dataset), str(local), "--json", "-q").stdout)
    assert len(first["copied"]) == 7 and first["skipped"] == []  # with the .crc32 sidecar
    assert verify(local / "data.msgpack", progress=False).ok
    second = cli.run("stage", str(dataset), str(local), "-q")
    assert second.returncode == 0
    assert "0 file(s) copied" in second.stdout and "7 already present" in second.stdout
