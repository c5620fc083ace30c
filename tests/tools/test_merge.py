"""merge: concat or random interleaving, optional shuffle, duplicate keys, key prefixes."""

from __future__ import annotations

import numpy as np
import pytest

from dings.format import DamagedDataError, DuplicateKeyError, packb, unpackb
from dings.tools import merge, verify
from dings.tools.merge import replace_key


@pytest.fixture
def inputs(make_dataset):
    return make_dataset("a.msgpack", n=150, prefix="a"), make_dataset("b.msgpack", n=50, prefix="b")


def test_concat_writes_inputs_in_order_unchanged(inputs, tmp_path, ds):
    a, b = inputs
    out = merge([a, b], tmp_path / "out.msgpack", progress=False)
    assert ds.read_keys(out) == ds.read_keys(a) + ds.read_keys(b)
    assert ds.read_raw(out) == {**ds.read_raw(a), **ds.read_raw(b)}
    assert verify(out, deep=True, progress=False).ok


def test_random_interleaves_keeping_each_inputs_order(inputs, tmp_path, ds):
    a, b = inputs
    out = merge([a, b], tmp_path / "out.msgpack", strategy="random", seed=4, progress=False)
    keys = ds.read_keys(out)
    assert sorted(keys) == sorted(ds.read_keys(a) + ds.read_keys(b))
    assert [k for k in keys if k.startswith("a")] == ds.read_keys(a)
    assert [k for k in keys if k.startswith("b")] == ds.read_keys(b)
    # proportional picking spreads the small input over the whole output, not at one end
    positions = np.array([i for i, k in enumerate(keys) if k.startswith("b")])
    assert positions.min() < 20 and positions.max() > 180
    assert 70 < positions.mean() < 130
    assert ds.read_raw(out) == {**ds.read_raw(a), **ds.read_raw(b)}


def test_random_is_reproducible_with_a_seed(inputs, tmp_path, ds):
    first = merge(inputs, tmp_path / "1.msgpack", strategy="random", seed=7, progress=False)
    again = merge(inputs, tmp_path / "2.msgpack", strategy="random", seed=7, progress=False)
    other = merge(inputs, tmp_path / "3.msgpack", strategy="random", seed=8, progress=False)
    assert first.read_bytes() == again.read_bytes()
    assert ds.read_keys(first) != ds.read_keys(other)


def test_shuffle_shuffles_each_input_before_concat(inputs, tmp_path, ds):
    a, b = inputs
    out = merge([a, b], tmp_path / "out.msgpack", shuffle=True, seed=1, progress=False)
    keys = ds.read_keys(out)
    assert sorted(keys[:150]) == ds.read_keys(a) and keys[:150] != ds.read_keys(a)
    assert sorted(keys[150:]) == ds.read_keys(b) and keys[150:] != ds.read_keys(b)
    again = merge([a, b], tmp_path / "again.msgpack", shuffle=True, seed=1, progress=False)
    assert again.read_bytes() == out.read_bytes()


def test_duplicate_keys_are_an_error_before_any_output_exists(make_dataset, tmp_path):
    a = make_dataset("a.msgpack", n=5, prefix="x")
    b = make_dataset("b.msgpack", samples=[{"key": "y"}, {"key": "x0003"}])
    out = tmp_path / "out" / "merged.msgpack"
    with pytest.raises(DuplicateKeyError) as error:
        merge([a, b], out, progress=False)
    message = str(error.value)
    assert "'x0003'" in message and str(a) in message and str(b) in message and "prefix_keys" in message
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


def test_prefix_keys_makes_keys_unique_and_rewrites_the_sample_key(make_dataset, tmp_path, ds):
    a = make_dataset("train.msgpack", n=4)
    b = make_dataset("extra.msgpack", n=3)
    out = merge([a, b], tmp_path / "out.msgpack", prefix_keys=True, progress=False)
    assert ds.read_keys(out) == [f"train/s{i:04d}" for i in range(4)] + [f"extra/s{i:04d}" for i in range(3)]
    merged = ds.read_samples(out)
    originals = ds.read_samples(a) + ds.read_samples(b)
    for new, old in zip(merged, originals):
        assert new["key"].endswith("/" + old["key"])
        assert new.keys() == old.keys()
        assert new["data"] == old["data"] and new["label"] == old["label"]
        np.testing.assert_array_equal(new["array"], old["array"])
    assert verify(out, deep=True, progress=False).ok


def test_prefix_keys_with_inputs_of_the_same_name_still_collide(make_dataset, tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    a = make_dataset("train.msgpack", n=2, folder=tmp_path / "one")
    b = make_dataset("train.msgpack", n=2, folder=tmp_path / "two")
    with pytest.raises(DuplicateKeyError, match="'train/s0000'.*rename one"):
        merge([a, b], tmp_path / "out.msgpack", prefix_keys=True, progress=False)


def test_replace_key_equals_packing_the_changed_sample(ds):
    sample = {"label": 3, "key": "old", "arr": np.arange(5, dtype=np.float64), "nested": {"key": "inner"}}
    packed = packb(sample)
    changed = replace_key(packed, "a much longer key than before" * 10)
    assert changed == packb({**sample, "key": "a much longer key than before" * 10})
    assert unpackb(changed)["nested"] == {"key": "inner"}


def test_replace_key_rejects_non_samples():
    with pytest.raises(ValueError, match='no "key"'):
        replace_key(packb({"a": 1}), "k")
    with pytest.raises(ValueError, match="not a valid packed map"):
        replace_key(packb([1, 2]), "k")


def test_merge_argument_errors(inputs, tmp_path, make_dataset):
    a, b = inputs
    with pytest.raises(ValueError, match="unknown merge strategy 'zip'"):
        merge([a, b], tmp_path / "o.msgpack", strategy="zip", progress=False)
    with pytest.raises(ValueError, match="at least one"):
        merge([], tmp_path / "o.msgpack", progress=False)
    with pytest.raises(TypeError, match="list"):
        merge(a, tmp_path / "o.msgpack", progress=False)
    with pytest.raises(ValueError, match="is also an input"):
        merge([a, b], b, overwrite=True, progress=False)
    existing = make_dataset("o.msgpack", n=1, prefix="z")
    with pytest.raises(FileExistsError):
        merge([a, b], existing, progress=False)
    assert merge([a, b], existing, overwrite=True, progress=False) == existing


def test_merge_prints_nothing_without_progress(inputs, tmp_path, capsys):
    merge(inputs, tmp_path / "out.msgpack", strategy="random", shuffle=True, prefix_keys=True, progress=False)
    assert capsys.readouterr() == ("", "")


def test_a_damaged_input_sample_is_a_clear_error_and_no_output(make_dataset, tmp_path):
    a = make_dataset("a.msgpack", n=5, prefix="a", folder=tmp_path / "x")
    b = make_dataset("b.msgpack", n=5, prefix="b", folder=tmp_path / "x")
    data = bytearray(b.read_bytes())
    data[0] = 0xC1  # sample 0 of b is no longer a map
    b.write_bytes(bytes(data))
    out = tmp_path / "out.msgpack"
    with pytest.raises(DamagedDataError, match=r"b\.msgpack: sample with key 'b0000' is damaged") as info:
        merge([a, b], out, prefix_keys=True, progress=False)
    assert info.value.key == "b0000"
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
