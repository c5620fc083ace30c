"""dings writers produce the same bytes as datadings 3.4 for the same samples in the same order.

Each corpus entry is written by dings and by the oracle into two folders under the same base file
name; all six files of the dataset (data, offsets, keys, key_hashes, filter, md5) must be identical.
"""

from __future__ import annotations

import math

import pytest

datadings = pytest.importorskip("datadings", reason="the oracle datadings==3.4.7 is installed by the hatch test env")

from dings.format import RawWriter, ShardedWriter, packb  # noqa: E402

#: the six files of a dataset as suffixes of NAME.msgpack ("" is the data file), see FORMAT.md
SIX_FILES = ("", ".offsets", ".keys", ".key_hashes", ".filter", ".md5")
SIX_FILE_IDS = ["msgpack", "offsets", "keys", "key_hashes", "filter", "md5"]


@pytest.fixture(scope="session")
def raw_written(corpus, tmp_path_factory):
    """The corpus written by dings' RawWriter, fed with ``packb(sample)``."""
    path = tmp_path_factory.mktemp(f"raw-{corpus.name}") / f"{corpus.name}.msgpack"
    with RawWriter(path, overwrite=True, progress=False) as writer:
        for sample in corpus.samples:
            writer.write(sample["key"], packb(sample))
    return path


@pytest.mark.parametrize("suffix", SIX_FILES, ids=SIX_FILE_IDS)
def test_file_writer_output_is_byte_identical_to_datadings(written, suffix, helpers):
    ours, theirs = helpers.companion(written.dings, suffix), helpers.companion(written.datadings, suffix)
    assert ours.name == theirs.name
    assert ours.read_bytes() == theirs.read_bytes(), f"{ours.name} differs from datadings' file"


@pytest.mark.parametrize("suffix", SIX_FILES, ids=SIX_FILE_IDS)
def test_raw_writer_fed_with_packb_is_byte_identical_to_datadings(raw_written, written, suffix, helpers):
    ours, theirs = helpers.companion(raw_written, suffix), helpers.companion(written.datadings, suffix)
    assert ours.read_bytes() == theirs.read_bytes(), f"{ours.name} differs from datadings' file"


def test_raw_copy_of_a_datadings_file_through_the_dings_reader_is_byte_identical(written, tmp_path, helpers):
    copy = tmp_path / written.datadings.name
    reader = helpers.open_dings_reader(written.datadings)
    with RawWriter(copy, overwrite=True, progress=False) as writer:
        for key, raw in reader.iter(yield_key=True, raw=True):
            writer.write(key, raw)
    reader.close()
    assert helpers.differing_files(copy, written.datadings) == []


def _slices(samples: list, size: int) -> list[list]:
    return [samples[i : i + size] for i in range(0, len(samples), size)] or [[]]


def test_sharded_writer_shards_are_byte_identical_to_datadings_writing_the_same_slices(corpus, tmp_path, helpers):
    per_shard = max(1, math.ceil(len(corpus) / 3))
    with ShardedWriter(
        tmp_path / "dings" / f"{corpus.name}.msgpack", max_samples=per_shard, overwrite=True, progress=False
    ) as writer:
        for sample in corpus.samples:
            writer.write(sample)
    slices = _slices(corpus.samples, per_shard)
    assert len(writer.shards) == len(slices)
    for shard, samples in zip(writer.shards, slices):
        theirs = helpers.write_with_datadings(tmp_path / "datadings" / shard.name, samples)
        assert helpers.differing_files(shard, theirs) == [], f"shard {shard.name}"


@pytest.mark.parametrize(
    ("corpus", "max_bytes"),
    [("1000-small-dicts", 50_000), ("20-large-300kB-samples", 1_000_000)],
    indirect=["corpus"],
)
def test_sharded_writer_with_a_byte_limit_matches_datadings_writing_the_same_slices(
    corpus, max_bytes, tmp_path, helpers
):
    with ShardedWriter(
        tmp_path / "dings" / f"{corpus.name}.msgpack", max_bytes=max_bytes, overwrite=True, progress=False
    ) as writer:
        for sample in corpus.samples:
            writer.write(sample)
    # rebuild the slices independently: a shard takes samples while their packed sizes fit max_bytes
    slices, current, size = [], [], 0
    for sample in corpus.samples:
        packed = len(packb(sample))
        if current and size + packed > max_bytes:
            slices.append(current)
            current, size = [], 0
        current.append(sample)
        size += packed
    slices.append(current)
    assert len(writer.shards) == len(slices) > 1
    for shard, samples in zip(writer.shards, slices):
        theirs = helpers.write_with_datadings(tmp_path / "datadings" / shard.name, samples)
        assert helpers.differing_files(shard, theirs) == [], f"shard {shard.name}"


@pytest.mark.parametrize("corpus", ["70000-short-samples"], indirect=True)
def test_keys_file_of_more_than_65535_samples_starts_with_an_array32_header(written, helpers):
    for path in (written.dings, written.datadings):
        head = helpers.companion(path, ".keys").read_bytes()[:5]
        assert head == b"\xdd" + len(written.corpus).to_bytes(4, "big")


def test_md5_file_lists_the_five_files_with_bare_names_in_format_order(written, helpers):
    # FORMAT.md: "<md5 hex>  <file name>\n" for data, offsets, keys, key_hashes, filter
    import hashlib

    lines = helpers.companion(written.datadings, ".md5").read_bytes().decode("utf-8").split("\n")
    assert lines[-1] == ""
    expected = []
    for suffix in SIX_FILES[:-1]:
        file = helpers.companion(written.datadings, suffix)
        expected.append(f"{hashlib.md5(file.read_bytes()).hexdigest()}  {file.name}")
    assert lines[:-1] == expected
