"""shuffle: same samples in a new, seeded order; chunked by default, true shuffle on request."""

from __future__ import annotations

import pytest

from dings.readers import MsgpackReader, QuasiShuffler, Shuffler
from dings.tools import shuffle, verify


@pytest.fixture
def source(make_dataset):
    return make_dataset("in.msgpack", n=200)


@pytest.mark.parametrize("true_shuffle", [False, True])
def test_shuffle_keeps_every_sample_byte_for_byte(source, tmp_path, ds, true_shuffle):
    out = shuffle(source, tmp_path / "out.msgpack", true_shuffle=true_shuffle, seed=3, progress=False)
    assert out == tmp_path / "out.msgpack"
    assert ds.read_raw(out) == ds.read_raw(source)
    keys = ds.read_keys(out)
    assert sorted(keys) == ds.read_keys(source)
    assert keys != ds.read_keys(source)
    assert verify(out, deep=True, progress=False).ok


def test_quasi_shuffle_follows_quasishuffler_order(source, tmp_path, ds):
    out = shuffle(source, tmp_path / "out.msgpack", buf_size=20, chunk_size=4, seed=9, progress=False)
    with MsgpackReader(source) as reader:
        expected = [key for key, _ in QuasiShuffler(reader, 20, 4, 9).iter(start=0, yield_key=True, raw=True)]
    assert ds.read_keys(out) == expected


def test_true_shuffle_follows_shuffler_order(source, tmp_path, ds):
    out = shuffle(source, tmp_path / "out.msgpack", true_shuffle=True, seed=5, progress=False)
    with MsgpackReader(source) as reader:
        expected = [key for key, _ in Shuffler(reader, 5).iter(start=0, yield_key=True, raw=True)]
    assert ds.read_keys(out) == expected


@pytest.mark.parametrize("true_shuffle", [False, True])
def test_same_seed_same_file_other_seed_other_order(source, tmp_path, ds, true_shuffle):
    a = shuffle(source, tmp_path / "a.msgpack", true_shuffle=true_shuffle, seed=1, progress=False)
    b = shuffle(source, tmp_path / "b.msgpack", true_shuffle=true_shuffle, seed=1, progress=False)
    c = shuffle(source, tmp_path / "c.msgpack", true_shuffle=true_shuffle, seed=2, progress=False)
    assert a.read_bytes() == b.read_bytes()
    assert ds.read_keys(a) != ds.read_keys(c)
    # unseeded runs repeat as well
    d = shuffle(source, tmp_path / "d.msgpack", true_shuffle=true_shuffle, progress=False)
    e = shuffle(source, tmp_path / "e.msgpack", true_shuffle=true_shuffle, progress=False)
    assert d.read_bytes() == e.read_bytes()


def test_existing_output_is_refused_unless_overwrite(source, tmp_path, make_dataset, ds):
    existing = make_dataset("out.msgpack", n=3, prefix="old")
    before = existing.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        shuffle(source, existing, progress=False)
    assert existing.read_bytes() == before
    shuffle(source, existing, overwrite=True, progress=False)
    assert sorted(ds.read_keys(existing)) == ds.read_keys(source)


def test_shuffle_errors(source, tmp_path):
    with pytest.raises(ValueError, match="is also an input"):
        shuffle(source, source, overwrite=True, progress=False)
    with pytest.raises(FileNotFoundError, match="missing.msgpack"):
        shuffle(tmp_path / "missing.msgpack", tmp_path / "out.msgpack", progress=False)
    with pytest.raises(ValueError, match="chunk_size"):
        shuffle(source, tmp_path / "out.msgpack", chunk_size=0, progress=False)
    with pytest.raises(ValueError, match="seed"):
        shuffle(source, tmp_path / "out.msgpack", seed=-1, progress=False)
    assert not (tmp_path / "out.msgpack").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_shuffle_of_an_empty_dataset(make_dataset, tmp_path, ds):
    empty = make_dataset("empty.msgpack", samples=[])
    out = shuffle(empty, tmp_path / "out.msgpack", progress=False)
    assert ds.read_keys(out) == []


def test_progress_flag_controls_all_output(source, tmp_path, capsys):
    shuffle(source, tmp_path / "quiet.msgpack", progress=False)
    assert capsys.readouterr() == ("", "")
    shuffle(source, tmp_path / "loud.msgpack", progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "shuffle in.msgpack" in captured.err and "200/200" in captured.err
