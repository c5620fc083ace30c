"""Datasets indexed only by a legacy ``NAME.msgpack.index`` file read the same in dings and datadings.

The legacy index is built by hand as FORMAT.md describes it: one msgpack map key → start offset in
ascending offset order, packed with ``msgpack.packb(mapping, use_bin_type=True)``, next to a data
file, with none of the new-style index files (offsets, keys, key_hashes, filter, md5).

datadings 3.4.7 does accept legacy-only datasets for ``len``, ``get``, iteration, ``find_index``
and ``find_key`` (tried below), so dings is compared against it for those. Its ``key in reader``
needs the ``.filter`` file and raises FileNotFoundError on a legacy-only dataset, so membership
is checked for dings against the original keys only.
"""

from __future__ import annotations

import shutil

import msgpack
import numpy as np
import pytest

pytest.importorskip("datadings", reason="the oracle datadings==3.4.7 is installed by the hatch test env")

import datadings.index  # noqa: E402

from dings.format import index as dings_index  # noqa: E402

NEW_STYLE_SUFFIXES = (".offsets", ".keys", ".key_hashes", ".filter", ".md5")


@pytest.fixture(scope="session")
def legacy(written, tmp_path_factory, helpers):
    """The corpus' data file (as datadings wrote it) with only a hand-built legacy index next to it."""
    folder = tmp_path_factory.mktemp(f"legacy-{written.corpus.name}")
    data = folder / written.datadings.name
    shutil.copyfile(written.datadings, data)
    # start offsets, read straight from the offsets file as FORMAT.md defines it (N+1 big-endian u64)
    offsets = np.frombuffer(helpers.companion(written.datadings, ".offsets").read_bytes(), dtype=">u8")
    mapping = {key: int(start) for key, start in zip(written.corpus.keys, offsets[:-1])}
    helpers.companion(data, ".index").write_bytes(msgpack.packb(mapping, use_bin_type=True))
    return data


def iterate_datadings(reader):
    """datadings 3.4.7 raises IndexError when iterating an empty dataset; yield nothing instead."""
    return iter(reader) if len(reader) else iter(())


def test_the_legacy_dataset_has_no_new_style_index_files(legacy, helpers):
    assert helpers.companion(legacy, ".index").is_file()
    for suffix in NEW_STYLE_SUFFIXES:
        assert not helpers.companion(legacy, suffix).exists()


def test_legacy_index_header_gives_the_length_in_dings_and_datadings(legacy, written):
    assert dings_index.legacy_index_len(legacy) == datadings.index.legacy_index_len(legacy) == len(written.corpus)


def test_dings_loads_a_legacy_index_like_datadings(legacy, written):
    our_keys, our_offsets = dings_index.legacy_load_index(legacy)
    their_keys, their_offsets = datadings.index.legacy_load_index(legacy)
    assert list(our_keys) == list(their_keys) == written.corpus.keys
    assert [int(o) for o in our_offsets] == [int(o) for o in their_offsets]


def test_dings_reads_the_original_samples_from_a_legacy_indexed_file(legacy, written, helpers, same):
    with helpers.open_dings_reader(legacy) as reader:
        assert len(reader) == len(written.corpus)
        samples = list(reader)
    assert len(samples) == len(written.corpus)
    for i, (ours, original) in enumerate(zip(samples, written.corpus.samples)):
        same(ours, original, f"sample {i}")


def test_dings_and_datadings_read_the_same_samples_from_a_legacy_indexed_file(legacy, written, helpers, same):
    theirs = helpers.open_datadings_reader(legacy)
    with helpers.open_dings_reader(legacy) as reader:
        assert len(reader) == len(theirs) == len(written.corpus)
        for i, (ours, oracle) in enumerate(zip(reader, iterate_datadings(theirs))):
            same(ours, oracle, f"sample {i}")
        for i, _key in written.corpus.lookups:
            same(reader.get(i), theirs.get(i), f"get({i})")


def test_dings_and_datadings_agree_on_keys_of_a_legacy_indexed_file(legacy, written, helpers):
    theirs = helpers.open_datadings_reader(legacy)
    with helpers.open_dings_reader(legacy) as reader:
        count = len(written.corpus)
        assert (
            [reader.find_key(i) for i in range(count)]
            == [theirs.find_key(i) for i in range(count)]
            == written.corpus.keys
        )
        for i, key in written.corpus.lookups:
            assert reader.find_index(key) == int(theirs.find_index(key)) == i, key
            assert reader.get(i, yield_key=True)[0] == key
        with pytest.raises(KeyError):
            reader.find_index("not-a-key")
        with pytest.raises(KeyError):
            theirs.find_index("not-a-key")


def test_dings_membership_on_a_legacy_indexed_file_matches_the_original_keys(legacy, written, helpers):
    # not compared with datadings: its `in` needs the .filter file, which a legacy dataset lacks
    with helpers.open_dings_reader(legacy) as reader:
        for _i, key in written.corpus.lookups:
            assert key in reader
        assert "not-a-key" not in reader


def test_dings_raw_get_on_a_legacy_indexed_file_returns_the_stored_bytes(legacy, written, helpers):
    data = legacy.read_bytes()
    offsets = dings_index.legacy_load_index(legacy)[1]
    with helpers.open_dings_reader(legacy) as reader:
        for i, _key in written.corpus.lookups:
            assert reader.get(i, raw=True) == data[int(offsets[i]) : int(offsets[i + 1])]


def test_reading_a_legacy_indexed_file_with_dings_writes_no_files(legacy, written, helpers):
    before = sorted(p.name for p in legacy.parent.iterdir())
    with helpers.open_dings_reader(legacy) as reader:
        list(reader)
        for _i, key in written.corpus.lookups[:5]:
            assert key in reader
    assert sorted(p.name for p in legacy.parent.iterdir()) == before
