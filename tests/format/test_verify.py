"""verify(): a report of every problem, never an exception, for damaged datasets."""

from __future__ import annotations

import msgpack
import pytest

from dings.format import FileWriter, verify

SUFFIXES = ["", ".offsets", ".keys", ".key_hashes", ".filter", ".md5"]


@pytest.fixture
def dataset(tmp_path):
    path = tmp_path / "d.msgpack"
    with FileWriter(path, progress=False) as writer:
        for i in range(50):
            writer.write({"key": f"k{i}", "v": bytes(i)})
    return path


def sidecar(path, suffix):
    return path.with_name(path.name + suffix)


def test_intact_dataset_is_ok_and_every_check_ran(dataset):
    report = verify(dataset)
    assert report.ok and report.problems == []
    assert report.checked == ["md5", "offsets", "keys", "key_hashes", "filter", "checksums"]
    assert report.length == 50
    assert "OK" in str(report)


def test_index_path_is_accepted_as_well(dataset):
    assert verify(sidecar(dataset, ".keys")).ok


def test_changed_data_byte_is_an_md5_mismatch(dataset):
    data = bytearray(dataset.read_bytes())
    data[10] ^= 0xFF
    dataset.write_bytes(bytes(data))
    report = verify(dataset)
    assert not report.ok
    assert any("d.msgpack: md5 mismatch" in p for p in report.problems)


def test_truncated_data_is_reported_by_md5_and_offsets(dataset):
    dataset.write_bytes(dataset.read_bytes()[:-3])
    problems = verify(dataset).problems
    assert any("md5 mismatch" in p for p in problems)
    assert any("last offset" in p and "data file size" in p for p in problems)


@pytest.mark.parametrize("suffix", [".offsets", ".keys", ".key_hashes", ".filter"])
def test_truncated_index_file_is_reported_not_raised(dataset, suffix):
    file = sidecar(dataset, suffix)
    file.write_bytes(file.read_bytes()[:-5])
    report = verify(dataset)
    assert not report.ok
    assert any(file.name in p for p in report.problems)


def test_missing_md5_file_is_a_problem(dataset):
    sidecar(dataset, ".md5").unlink()
    assert any("md5 file is missing" in p for p in verify(dataset).problems)


def test_missing_listed_index_file_is_a_problem(dataset):
    sidecar(dataset, ".filter").unlink()
    assert any("d.msgpack.filter: listed in the md5 file but missing" in p for p in verify(dataset).problems)


def test_keys_that_disagree_with_offsets_are_reported_even_with_matching_md5(dataset):
    keys = sidecar(dataset, ".keys")
    keys.write_bytes(msgpack.packb([f"k{i}" for i in range(49)]))
    report = verify(dataset)
    assert any("49 keys but 50 offsets" in p for p in report.problems)


def test_missing_data_file_is_a_problem(tmp_path):
    report = verify(tmp_path / "nothing.msgpack")
    assert not report.ok and "data file is missing" in report.problems[0]


def test_md5_entry_outside_the_folder_is_refused(dataset):
    md5 = sidecar(dataset, ".md5")
    md5.write_text(md5.read_text() + "d41d8cd98f00b204e9800998ecf8427e  ../elsewhere\n")
    assert any("not a file next to the dataset" in p for p in verify(dataset).problems)
