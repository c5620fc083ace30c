"""split: N positions give N+1 files with exactly the input's samples; positions validated."""

from __future__ import annotations

import numpy as np
import pytest

from dings.tools import split, verify
from dings.tools.split import default_split_names


def test_split_at_positions_with_default_names(make_dataset, ds, tmp_path):
    source = make_dataset("train.msgpack", n=100)
    outputs = split(source, [10, 55], progress=False)
    assert outputs == [tmp_path / "train_0.msgpack", tmp_path / "train_1.msgpack", tmp_path / "train_2.msgpack"]
    keys = ds.read_keys(source)
    assert [ds.read_keys(p) for p in outputs] == [keys[:10], keys[10:55], keys[55:]]
    raw = ds.read_raw(source)
    for path in outputs:
        assert ds.read_raw(path) == {k: raw[k] for k in ds.read_keys(path)}
        assert verify(path, deep=True, progress=False).ok


def test_split_with_given_outfiles_and_numpy_positions(make_dataset, ds, tmp_path):
    source = make_dataset("data.msgpack", n=20)
    targets = [tmp_path / "x" / "first.msgpack", tmp_path / "y" / "second.msgpack"]
    assert split(source, [1], targets, progress=False) == targets
    assert ds.read_keys(targets[0]) == ["s0000"]
    assert len(ds.read_keys(targets[1])) == 19
    split(source, np.array([19]), [tmp_path / "a.msgpack", tmp_path / "b.msgpack"], progress=False)
    assert len(ds.read_keys(tmp_path / "b.msgpack")) == 1


def test_default_names():
    assert [p.name for p in default_split_names("d/val.msgpack", 2)] == ["val_0.msgpack", "val_1.msgpack"]
    assert [p.name for p in default_split_names("d/val.msgpack.keys", 1)] == ["val_0.msgpack"]
    assert [p.name for p in default_split_names("d/raw", 1)] == ["raw_0.msgpack"]


@pytest.mark.parametrize(
    ("positions", "error", "match"),
    [
        ([], ValueError, "at least one"),
        ([5, 5], ValueError, "increase strictly"),
        ([7, 3], ValueError, "increase strictly"),
        ([0], ValueError, "out of range"),
        ([20], ValueError, "between 1 and 19"),
        ([-3], ValueError, "out of range"),
        ([2.5], TypeError, "integer"),
        ([True], TypeError, "integer"),
        ("5", TypeError, "list of integers"),
        (5, TypeError, "list of integers"),
        ([np.float64(3.0)], TypeError, "integer"),
    ],
)
def test_bad_positions_are_clear_errors_and_write_nothing(make_dataset, tmp_path, positions, error, match):
    source = make_dataset("data.msgpack", n=20)
    before = set(tmp_path.iterdir())
    with pytest.raises(error, match=match):
        split(source, positions, progress=False)
    assert set(tmp_path.iterdir()) == before


def test_wrong_number_of_outfiles(make_dataset, tmp_path):
    source = make_dataset(n=20)
    with pytest.raises(ValueError, match="2 split positions give 3 parts, but 2 outfiles"):
        split(source, [5, 10], [tmp_path / "a.msgpack", tmp_path / "b.msgpack"], progress=False)
    with pytest.raises(ValueError, match="given twice"):
        split(source, [5], [tmp_path / "a.msgpack", tmp_path / "a.msgpack"], progress=False)


def test_existing_output_is_refused_before_anything_is_written(make_dataset, ds, tmp_path):
    source = make_dataset("train.msgpack", n=30)
    make_dataset("train_1.msgpack", n=2, prefix="old")
    with pytest.raises(FileExistsError, match="train_1.msgpack"):
        split(source, [10], progress=False)
    assert not (tmp_path / "train_0.msgpack").exists()
    assert ds.read_keys(tmp_path / "train_1.msgpack") == ["old0000", "old0001"]
    split(source, [10], overwrite=True, progress=False)
    assert len(ds.read_keys(tmp_path / "train_1.msgpack")) == 20


def test_a_failure_discards_every_part(make_dataset, tmp_path, monkeypatch):
    source = make_dataset("train.msgpack", n=30)
    from dings.format import RawWriter

    original = RawWriter.write
    calls = []

    def failing(self, key, data):
        calls.append(key)
        if len(calls) == 25:
            raise RuntimeError("disk full")
        return original(self, key, data)

    monkeypatch.setattr(RawWriter, "write", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        split(source, [10, 20], progress=False)
    leftovers = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("train.msgpack"))
    assert leftovers == []


def test_split_prints_nothing_without_progress(make_dataset, capsys):
    split(make_dataset(n=10), [3], progress=False)
    assert capsys.readouterr() == ("", "")
