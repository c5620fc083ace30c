"""verify: md5 + structural checks as a report, and the deep check naming the first bad sample."""

from __future__ import annotations

import json

import numpy as np

from dings.format import index_path
from dings.tools import VerificationReport, verify


def offsets_of(path) -> np.ndarray:
    return np.frombuffer(index_path(path, ".offsets").read_bytes(), ">u8")


def test_a_sound_dataset_passes_every_check(make_dataset):
    path = make_dataset(n=25)
    report = verify(path, deep=True, progress=False)
    assert isinstance(report, VerificationReport)
    assert report.ok and report.problems == []
    assert report.length == 25
    assert report.checked == ["md5", "offsets", "keys", "key_hashes", "filter", "checksums", "deep"]
    assert "OK" in str(report)
    assert verify(path, progress=False).checked[-1] == "checksums"  # deep only on request


def test_a_flipped_byte_in_the_data_file_is_an_md5_problem(make_dataset):
    path = make_dataset(n=25)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    report = verify(path, progress=False)
    assert not report.ok
    assert len(report.problems) == 2
    assert path.name in report.problems[0] and "md5 mismatch" in report.problems[0]
    # the per-sample checksums name the damaged sample
    assert report.damaged == [12] and report.damaged_keys == ["s0012"]
    assert "1 damaged sample(s) (checksum mismatch): 12 (key 's0012')" in report.problems[1]
    assert "2 problem(s)" in str(report)


def test_a_dataset_without_checksums_says_so(make_dataset):
    path = make_dataset(n=5)
    index_path(path, ".crc32").unlink()
    report = verify(path, progress=False)
    assert report.ok and "checksums" not in report.checked
    assert any("no per-sample checksums" in note for note in report.notes)


def test_a_truncated_index_is_reported_not_raised(make_dataset):
    path = make_dataset(n=25)
    offsets = index_path(path, ".offsets")
    offsets.write_bytes(offsets.read_bytes()[:-3])
    report = verify(path, deep=True, progress=False)
    assert not report.ok
    text = "\n".join(report.problems)
    assert "md5 mismatch" in text and offsets.name in text
    assert "truncated" in text
    assert any(p.startswith("deep check skipped") for p in report.problems)
    assert report.bad_index is None


def test_a_missing_md5_file_is_a_problem(make_dataset):
    path = make_dataset(n=5)
    index_path(path, ".md5").unlink()
    report = verify(path, progress=False)
    assert not report.ok
    assert any("md5 file is missing" in p for p in report.problems)


def test_a_missing_dataset_is_a_problem(tmp_path):
    report = verify(tmp_path / "absent.msgpack", deep=True, progress=False)
    assert not report.ok
    assert report.problems == [f"{tmp_path / 'absent.msgpack'}: data file is missing"]


def test_deep_names_the_first_undecodable_sample(make_dataset):
    path = make_dataset(n=30)
    offsets = offsets_of(path)
    data = bytearray(path.read_bytes())
    for bad in (17, 23):
        data[int(offsets[bad])] = 0xC1  # a byte msgpack never uses: the sample cannot be decoded
    path.write_bytes(bytes(data))
    report = verify(path, deep=True, progress=False)
    assert not report.ok
    assert (report.bad_index, report.bad_key) == (17, "s0017")
    assert report.damaged == [17, 23] and report.damaged_keys == ["s0017", "s0023"]  # the checksums name both
    deep_problems = [p for p in report.problems if "cannot be decoded" in p]
    assert len(deep_problems) == 1
    assert "sample 17 (key 's0017'): damaged, cannot be decoded" in deep_problems[0]
    assert "deep" not in report.checked


def test_deep_finds_a_key_that_differs_from_the_index(make_dataset):
    path = make_dataset(n=10)
    data = path.read_bytes()
    start = data.index(b"s0004")
    path.write_bytes(data[:start] + b"s9994" + data[start + 5 :])
    report = verify(path, deep=True, progress=False)
    assert (report.bad_index, report.bad_key) == (4, "s0004")
    assert any("sample 4 (key 's0004'): damaged, holds the key 's9994'" in p for p in report.problems)


def test_deep_finds_a_sample_that_is_not_a_map(make_dataset):
    path = make_dataset(n=3)
    offsets = offsets_of(path)
    data = bytearray(path.read_bytes())
    assert data[int(offsets[1])] == 0x85  # fixmap with 5 entries
    data[int(offsets[1])] = 0x9A  # fixarray with the same 10 items: decodes, but not to a map
    path.write_bytes(bytes(data))
    report = verify(path, deep=True, progress=False)
    assert report.bad_index == 1
    assert any("not a map" in p for p in report.problems)


def test_report_to_dict_is_json(make_dataset):
    path = make_dataset(n=4)
    index_path(path, ".filter").unlink()
    data = json.loads(json.dumps(verify(path, deep=True, progress=False).to_dict()))
    assert data["ok"] is False
    assert data["deep"] is True
    assert data["length"] == 4
    assert any("filter" in p for p in data["problems"])


def test_verify_prints_nothing_without_progress(make_dataset, capsys):
    verify(make_dataset(n=5), deep=True, progress=False)
    assert capsys.readouterr() == ("", "")


def test_verify_dataset_checks_every_shard_of_a_set_then_the_set(make_dataset, tmp_path):
    from dings.tools import verify_dataset

    for number in range(3):
        make_dataset(f"train-{number:05d}.msgpack", n=10, prefix=f"p{number}")
    shard = tmp_path / "train-00001.msgpack"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x01
    shard.write_bytes(bytes(data))
    reports = verify_dataset(str(tmp_path / "train-*.msgpack"), progress=False)
    assert [r.ok for r in reports] == [True, False, True, True]  # three shards, then the set
    assert reports[1].path == shard and reports[1].damaged == [5]
    assert reports[3].length == 30 and reports[3].checked == ["label names"]
    # one file is one report, as verify gives it
    assert [r.ok for r in verify_dataset(tmp_path / "train-00000.msgpack", progress=False)] == [True]
