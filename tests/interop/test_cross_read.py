"""dings reads what datadings 3.4 wrote, and datadings 3.4 reads what dings wrote.

Every test opens the files of both writers (``origin``) where it makes sense, so each reader is
checked against the other writer's files as well as its own. Samples are compared exactly (types,
dtypes, byte order, shapes, bit patterns) against the original samples and between the readers.
"""

from __future__ import annotations

import pytest

pytest.importorskip("datadings", reason="the oracle datadings==3.4.7 is installed by the hatch test env")

import datadings.index  # noqa: E402
import numpy as np  # noqa: E402

from dings.format import index as dings_index  # noqa: E402
from dings.format import verify  # noqa: E402

UNKNOWN_KEY = "not-a-key"


def iterate_datadings(reader):
    """Iterate the oracle's reader. datadings 3.4.7 raises IndexError when iterating an empty
    dataset (its own files too), so an empty dataset yields nothing here, like dings' reader."""
    return iter(reader) if len(reader) else iter(())


@pytest.fixture(params=["dings", "datadings"], ids=["dings-written", "datadings-written"])
def origin(request) -> str:
    """Which writer produced the files under test."""
    return request.param


@pytest.fixture
def path(written, origin):
    return getattr(written, origin)


@pytest.fixture
def dings_reader(path, helpers):
    reader = helpers.open_dings_reader(path)
    yield reader
    reader.close()


@pytest.fixture
def datadings_reader(path, helpers):
    return helpers.open_datadings_reader(path)


def test_dings_reader_reads_every_sample_datadings_wrote(written, helpers, same):
    theirs = helpers.open_datadings_reader(written.datadings)
    with helpers.open_dings_reader(written.datadings) as reader:
        assert len(reader) == len(written.corpus)
        count = 0
        for i, (ours, oracle, original) in enumerate(zip(reader, iterate_datadings(theirs), written.corpus.samples)):
            same(ours, original, f"sample {i}")
            same(ours, oracle, f"sample {i} (vs datadings' reader)")
            count += 1
        assert count == len(written.corpus)


def test_datadings_reader_reads_every_sample_dings_wrote(written, helpers, same):
    theirs = helpers.open_datadings_reader(written.dings)
    assert len(theirs) == len(written.corpus)
    with helpers.open_dings_reader(written.dings) as reader:
        count = 0
        for i, (oracle, ours, original) in enumerate(zip(iterate_datadings(theirs), reader, written.corpus.samples)):
            same(oracle, original, f"sample {i}")
            same(oracle, ours, f"sample {i} (vs dings' reader)")
            count += 1
        assert count == len(written.corpus)


def test_readers_agree_on_the_length(written, dings_reader, datadings_reader):
    assert len(dings_reader) == len(datadings_reader) == len(written.corpus)


def test_get_by_index_returns_the_same_sample_in_both_readers(written, dings_reader, datadings_reader, same):
    for i, _key in written.corpus.lookups:
        ours = dings_reader.get(i)
        same(ours, datadings_reader.get(i), f"get({i})")
        same(ours, written.corpus.samples[i], f"get({i})")


def test_find_key_agrees_for_every_index(written, dings_reader, datadings_reader):
    ours = [dings_reader.find_key(i) for i in range(len(written.corpus))]
    theirs = [datadings_reader.find_key(i) for i in range(len(written.corpus))]
    assert ours == theirs == written.corpus.keys


def test_find_index_agrees_for_every_key(written, dings_reader, datadings_reader):
    """All keys; a fixed random sample of 200 keys (plus first and last) for big corpora."""
    for i, key in written.corpus.lookups:
        assert dings_reader.find_index(key) == int(datadings_reader.find_index(key)) == i, key
        assert key in dings_reader
        assert key in datadings_reader


def test_an_unknown_key_is_in_neither_reader(dings_reader, datadings_reader):
    assert (UNKNOWN_KEY in dings_reader) is False
    assert (UNKNOWN_KEY in datadings_reader) is False
    with pytest.raises(KeyError):
        dings_reader.find_index(UNKNOWN_KEY)
    with pytest.raises(KeyError):
        datadings_reader.find_index(UNKNOWN_KEY)


def test_dings_raw_get_returns_the_exact_bytes_datadings_stored(written, helpers):
    data = written.datadings.read_bytes()
    offsets = np.frombuffer(helpers.companion(written.datadings, ".offsets").read_bytes(), dtype=">u8")
    with helpers.open_dings_reader(written.datadings) as reader:
        for i, key in written.corpus.lookups:
            found_key, raw = reader.get(i, yield_key=True, raw=True)
            assert found_key == key
            assert raw == data[int(offsets[i]) : int(offsets[i + 1])]


def test_dings_verify_accepts_datadings_written_files(written):
    report = verify(written.datadings)
    assert report.ok, str(report)
    assert report.length == len(written.corpus)


def test_dings_index_loaders_read_datadings_index_files_like_datadings_does(written):
    path = written.datadings
    assert np.array_equal(
        dings_index.load_offsets(path), np.asarray(datadings.index.load_offsets(path), dtype=np.uint64)
    )
    assert dings_index.load_keys(path) == list(datadings.index.load_keys(path)) == written.corpus.keys
    assert dings_index.keys_len(path) == datadings.index.keys_len(path) == len(written.corpus)
    our_salt, our_hashes = dings_index.load_key_hashes(path)
    their_salt, their_hashes = datadings.index.load_key_hashes(path)
    assert our_salt == their_salt
    assert [int(h) for h in our_hashes] == [int(h) for h in their_hashes]
    our_filter, their_filter = dings_index.load_filter(path), datadings.index.load_filter(path)
    for _i, key in written.corpus.lookups:
        assert key in our_filter and key in their_filter
