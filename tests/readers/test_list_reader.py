"""ListReader: in-memory samples with derived keys, natural-sorted numeric labels, initfun/convertfun."""

from __future__ import annotations

import copy

import pytest

from dings.format import DuplicateKeyError, unpackb
from dings.readers import ListReader, noop
from dings.readers.labels import UnknownLabelError, natural_sort_key


def animals():
    return [
        {"key": "a", "label": "img10", "x": 1},
        {"key": "b", "label": "img2", "x": 2},
        {"key": "c", "label": "cat", "x": 3},
        {"key": "d", "label": "img2", "x": 4},
    ]


# --- keys ---


def test_missing_keys_are_the_sample_index_as_an_int():  # as datadings
    reader = ListReader([{"x": 0}, {"x": 1, "key": "own"}, {"x": 2}])
    assert [s["key"] for s in reader] == [0, "own", 2]
    assert reader.find_index(2) == 2 and reader.find_key(1) == "own"
    assert 2 in reader and "2" not in reader and [1] not in reader


def test_the_callers_dicts_are_not_changed():
    samples = [{"x": 0, "label": "b"}, {"x": 1, "label": "a"}]
    ListReader(samples, initfun=lambda s: s.update(y=1))
    assert samples == [{"x": 0, "label": "b"}, {"x": 1, "label": "a"}]


def test_duplicate_keys_are_refused_naming_the_key_and_both_indices():
    with pytest.raises(DuplicateKeyError, match=r"1 is used by samples 1 and 2"):
        ListReader([{"x": 0}, {"x": 1}, {"key": 1}])  # the derived key 1 collides
    with pytest.raises(ValueError, match="unique"):
        ListReader([{"key": "k"}, {"key": "k"}])


def test_int_keys_are_accepted_and_unhashable_keys_refused_with_advice():
    reader = ListReader([{"key": "a"}, {"key": 7}])
    assert reader.find_index(7) == 1 and reader.get(1)["key"] == 7
    with pytest.raises(TypeError, match=r"sample 1 has key \[7\] of type list, which cannot be a key"):
        ListReader([{"key": "a"}, {"key": [7]}])


def test_samples_must_be_dicts():
    with pytest.raises(TypeError, match="sample 1 is a list"):
        ListReader([{}, [1, 2]])


def test_any_iterable_of_samples_is_accepted():
    reader = ListReader({"i": i} for i in range(3))
    assert [s["i"] for s in reader] == [0, 1, 2]


# --- labels ---


def test_labels_are_natural_sorted_and_replaced_by_their_index():
    reader = ListReader(animals())
    assert reader.labels == ["cat", "img2", "img10"]
    assert [(s["label"], s["_label"]) for s in reader] == [(2, "img10"), (1, "img2"), (0, "cat"), (1, "img2")]


def test_numeric_labels_false_keeps_labels_as_they_are():
    reader = ListReader(animals(), numeric_labels=False)
    assert [s["label"] for s in reader] == ["img10", "img2", "cat", "img2"]
    assert all("_label" not in s for s in reader)
    assert reader.labels == ["cat", "img2", "img10"]


def test_explicit_labels_define_the_numbers():
    reader = ListReader(animals(), labels=["img10", "img2", "cat"])
    assert [s["label"] for s in reader] == [0, 1, 2, 1]
    assert reader.labels == ["img10", "img2", "cat"]


def test_labels_from_a_file_with_one_label_per_line(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("img2\ncat\nimg10\n\n\n", encoding="utf-8")  # trailing empty lines are ignored
    for labels in (path, str(path)):
        reader = ListReader(animals(), labels=labels)
        assert reader.labels == ["img2", "cat", "img10"]
        assert [s["label"] for s in reader] == [2, 0, 1, 0]


def test_a_missing_label_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt: label file not found"):
        ListReader(animals(), labels=tmp_path / "nope.txt")


def test_a_label_missing_from_explicit_labels_names_label_and_sample():
    with pytest.raises(UnknownLabelError, match=r"sample 2 \(key 'c'\) has label 'cat'.*add it to the labels") as info:
        ListReader(animals(), labels=["img2", "img10"])
    assert isinstance(info.value, ValueError) and isinstance(info.value, KeyError)  # datadings raised KeyError


def test_explicit_labels_may_not_repeat():
    with pytest.raises(ValueError, match="label 'cat' appears twice"):
        ListReader(animals(), labels=["cat", "img2", "cat", "img10"])


def test_none_as_a_label_needs_an_explicit_labels_list():
    samples = [{"label": "b"}, {"label": None}]
    with pytest.raises(ValueError, match=r"sample 1 \(key 1\) has label None.*pass labels="):
        ListReader(samples)
    reader = ListReader(samples, labels=[None, "b"])
    assert [(s["label"], s["_label"]) for s in reader] == [(1, "b"), (0, None)]


def test_samples_without_a_label_are_left_alone():
    reader = ListReader([{"label": "x"}, {"y": 1}])
    assert reader[1] == {"y": 1, "key": 1}
    assert reader.labels == ["x"]


def test_numeric_labels_sort_by_value():
    reader = ListReader([{"label": 10}, {"label": 2}, {"label": 1}])
    assert reader.labels == [1, 2, 10]
    assert [s["label"] for s in reader] == [2, 1, 0]


def test_unhashable_labels_are_named():
    with pytest.raises(TypeError, match=r"sample 0 \(key 0\) has unhashable label \[1\]"):
        ListReader([{"label": [1]}])


def test_natural_sort_key_orders_numbers_by_value_and_is_total():
    words = ["img10", "img2", "img1", "Img3", "img02", "a", "10", 3, 2.5]
    assert sorted(words, key=natural_sort_key) == [2.5, 3, "10", "Img3", "a", "img1", "img02", "img2", "img10"]
    assert sorted(reversed(words), key=natural_sort_key) == sorted(words, key=natural_sort_key)


# --- initfun / convertfun ---


def test_initfun_runs_once_per_sample_before_keys_and_labels_are_set():
    seen = []

    def initfun(sample):
        seen.append(dict(sample))
        sample["label"] = "odd" if sample["i"] % 2 else "even"

    reader = ListReader([{"i": i} for i in range(3)], initfun=initfun)
    list(reader), list(reader)
    assert seen == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert [(s["key"], s["label"], s["_label"]) for s in reader] == [
        (0, 0, "even"),
        (1, 1, "odd"),
        (2, 0, "even"),
    ]


def test_convertfun_changes_a_shallow_copy_on_every_read_and_its_return_value_is_ignored():
    calls = []

    def convertfun(sample):
        calls.append(sample["key"])
        sample["x"] = sample["x"] * 10
        return "ignored"

    reader = ListReader(animals(), convertfun=convertfun)
    assert reader[0]["x"] == 10 and reader[0]["x"] == 10  # the stored sample is unchanged
    assert unpackb(reader.get(1, raw=True))["x"] == 20
    assert calls == ["a", "a", "b"]


def test_noop_is_the_default():
    assert noop({"a": 1}) is None


# --- the Reader API ---


@pytest.fixture
def reader():
    return ListReader([{"key": f"k{i}", "i": i} for i in range(10)])


def test_len_get_and_negative_indices(reader):
    assert len(reader) == 10
    assert reader.get(3) == {"key": "k3", "i": 3}
    assert reader.get(-1)["i"] == 9 and reader[-10]["i"] == 0
    assert reader.get(4, yield_key=True) == ("k4", {"key": "k4", "i": 4})


def test_out_of_range_indices_and_unknown_keys_are_named(reader):
    with pytest.raises(IndexError, match="index 10 out of range"):
        reader.get(10)
    with pytest.raises(IndexError, match="index -11 out of range"):
        reader[-11]
    with pytest.raises(IndexError, match="index 12"):
        reader.find_key(12)
    with pytest.raises(KeyError, match="'nope' is not a key"):
        reader.find_index("nope")


def test_slices(reader):
    assert [s["i"] for s in reader[2:5]] == [2, 3, 4]
    assert [s["i"] for s in reader[-2:]] == [8, 9]
    assert reader.slice(7, yield_key=True)[0] == ("k7", {"key": "k7", "i": 7})
    assert reader[5:2] == []


def test_iter_with_start_stop_and_keys(reader):
    assert [s["i"] for s in reader.iter(3, 6)] == [3, 4, 5]
    assert [k for k, _ in reader.iter(-2, yield_key=True)] == ["k8", "k9"]
    assert [s["i"] for s in reader] == list(range(10))


def test_raw_samples_round_trip_through_unpackb(reader):
    assert unpackb(reader.get(2, raw=True)) == reader[2]
    assert [unpackb(b) for b in reader.iter(0, 3, raw=True)] == reader[0:3]
    key, packed = reader.get(5, yield_key=True, raw=True)
    assert key == "k5" and unpackb(packed)["i"] == 5


def test_seek_and_next(reader):
    reader.seek(8)
    assert reader.next()["i"] == 8
    assert unpackb(reader.rawnext())["i"] == 9
    with pytest.raises(StopIteration):
        reader.next()
    reader.seek_key("k2")
    assert reader.next()["i"] == 2
    assert [s["i"] for s in reader.iter(stop=5)] == [3, 4]  # iteration continues at the read position


def test_membership_and_key_lookup(reader):
    assert "k3" in reader and "k10" not in reader and 3 not in reader
    assert reader.find_index("k7") == 7 and reader.find_key(-3) == "k7"


def test_copies_have_their_own_read_position(reader):
    reader.seek(4)
    clone = copy.copy(reader)
    assert clone.next()["i"] == 4
    assert clone.next()["i"] == 5
    assert reader.next()["i"] == 4


def test_empty_input_iterates_to_nothing():
    reader = ListReader([])
    assert len(reader) == 0 and list(reader) == [] and reader[:] == [] and reader.labels == []
    with pytest.raises(IndexError, match="index 0"):
        reader.get(0)


# --- compared with datadings 3.4 ---


def test_labels_and_numbers_match_datadings():
    datadings_list = pytest.importorskip("datadings.reader.list")
    theirs = list(datadings_list.ListReader(animals()))
    ours = list(ListReader(animals()))
    assert ours == theirs
