"""sample: the first N samples, or a seeded random subset kept in input order."""

from __future__ import annotations

import pytest

from dings.tools import sample, verify


@pytest.fixture
def source(make_dataset):
    return make_dataset("data.msgpack", n=120)


def test_sequential_takes_the_first_samples(source, tmp_path, ds):
    out = sample(source, tmp_path / "out.msgpack", 15, progress=False)
    assert ds.read_keys(out) == ds.read_keys(source)[:15]
    raw = ds.read_raw(source)
    assert ds.read_raw(out) == {k: raw[k] for k in ds.read_keys(out)}
    assert verify(out, deep=True, progress=False).ok


def test_random_takes_a_subset_in_input_order(source, tmp_path, ds):
    out = sample(source, tmp_path / "out.msgpack", 30, strategy="random", seed=2, progress=False)
    keys = ds.read_keys(out)
    all_keys = ds.read_keys(source)
    assert len(set(keys)) == 30 and set(keys) <= set(all_keys)
    assert keys == sorted(keys, key=all_keys.index)
    assert keys != all_keys[:30]
    raw = ds.read_raw(source)
    assert ds.read_raw(out) == {k: raw[k] for k in keys}


def test_random_is_reproducible_with_a_seed(source, tmp_path, ds):
    a = sample(source, tmp_path / "a.msgpack", 30, "random", seed=11, progress=False)
    b = sample(source, tmp_path / "b.msgpack", 30, "random", seed=11, progress=False)
    c = sample(source, tmp_path / "c.msgpack", 30, "random", seed=12, progress=False)
    assert a.read_bytes() == b.read_bytes()
    assert ds.read_keys(a) != ds.read_keys(c)


def test_all_samples_can_be_taken(source, tmp_path, ds):
    out = sample(source, tmp_path / "out.msgpack", 120, "random", progress=False)
    assert ds.read_keys(out) == ds.read_keys(source)


@pytest.mark.parametrize(
    ("number", "strategy", "error", "match"),
    [
        (121, "sequential", ValueError, "cannot take 121 samples from .*only 120"),
        (500, "random", ValueError, "only 120"),
        (0, "sequential", ValueError, "at least 1"),
        (2.0, "sequential", TypeError, "number must be an integer"),
        (5, "every-other", ValueError, "unknown sampling strategy"),
    ],
)
def test_bad_arguments_are_clear_errors(source, tmp_path, number, strategy, error, match):
    with pytest.raises(error, match=match):
        sample(source, tmp_path / "out.msgpack", number, strategy, progress=False)
    assert not (tmp_path / "out.msgpack").exists()


def test_existing_output_is_refused_unless_overwrite(source, tmp_path, make_dataset, ds):
    existing = make_dataset("out.msgpack", n=2, prefix="old")
    with pytest.raises(FileExistsError):
        sample(source, existing, 5, progress=False)
    assert ds.read_keys(existing) == ["old0000", "old0001"]
    sample(source, existing, 5, overwrite=True, progress=False)
    assert ds.read_keys(existing) == ds.read_keys(source)[:5]


def test_sample_prints_nothing_without_progress(source, tmp_path, capsys):
    sample(source, tmp_path / "out.msgpack", 10, "random", progress=False)
    assert capsys.readouterr() == ("", "")
