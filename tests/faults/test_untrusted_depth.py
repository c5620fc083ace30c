"""Deeply nested samples: writer, reader, ``verify --deep`` and ``dings cat`` agree at every depth.

msgpack decodes at most 1,024 nested maps and arrays (the sample's map included), so a sample
whose field nests 1,023 lists is the deepest there is. Writers refuse deeper samples; a file that
holds one anyway (crafted, or damaged) is a one-line error naming the file, index and key
wherever it is read, and ``verify --deep`` reports that sample.
"""

from __future__ import annotations

import json

import pytest

from dings.cli.main import main
from dings.format import DamagedDataError, FileWriter, InvalidSampleError, packb
from dings.readers import MsgpackReader
from dings.tools import verify

from .faults_harness import write_raw_dataset

#: the deepest field a sample can hold: the sample's map plus 1,023 lists is msgpack's 1,024 levels
DEEPEST = 1023


def nested(depth: int) -> object:
    value: object = 0
    for _ in range(depth):
        value = [value]
    return value


def packed_deep(depth: int) -> bytes:
    """A packed sample ``{"key": "deep", "x": [[…[0]…]]}`` with ``depth`` lists, built byte by byte."""
    head = packb({"key": "deep", "x": 0})[:-1]  # the map without its last value, the 0
    return head + b"\x91" * depth + b"\x00"


def dataset(folder, depth: int):
    path = folder / f"deep{depth}.msgpack"
    items = [("flat", packb({"key": "flat", "x": 1})), ("deep", packed_deep(depth))]
    write_raw_dataset(path, items)
    return path


def test_the_crafted_sample_is_what_the_writer_writes(tmp_path):
    assert packed_deep(3) == packb({"key": "deep", "x": nested(3)})


@pytest.mark.parametrize("depth", [1000, DEEPEST - 1, DEEPEST])
def test_a_deep_sample_the_writer_accepts_is_read_verified_and_shown(tmp_path, depth, capsys):
    path = tmp_path / "deep.msgpack"
    with FileWriter(path, progress=False) as writer:
        writer.write({"key": "flat", "x": 1})
        writer.write({"key": "deep", "x": nested(depth)})
    assert path.read_bytes().endswith(packed_deep(depth))
    with MsgpackReader(path) as reader:
        assert [sample["key"] for sample in reader] == ["flat", "deep"]
        assert reader.get(1)["key"] == "deep"
        assert [sample["key"] for sample in reader.iter(raw=False)] == ["flat", "deep"]
    assert verify(path, deep=True, progress=False).ok
    assert main(["cat", str(path)]) == 0
    assert "deep" in capsys.readouterr().out
    assert main(["cat", "--json", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["flat", "deep"]


def test_the_writer_refuses_a_sample_deeper_than_msgpack_reads(tmp_path):
    with pytest.raises(InvalidSampleError, match=r"sample 'deep'.*nested"):
        with FileWriter(tmp_path / "x.msgpack", progress=False) as writer:
            writer.write({"key": "deep", "x": nested(DEEPEST + 1)})


@pytest.mark.parametrize("depth", [DEEPEST + 1, 5000])
def test_a_sample_too_deep_to_decode_is_one_error_naming_it_everywhere(tmp_path, depth, capsys):
    path = dataset(tmp_path, depth)
    name = r"deep\d+\.msgpack.*sample 1.*'deep'"
    with MsgpackReader(path) as reader:
        assert reader.get(0)["key"] == "flat"
        with pytest.raises(DamagedDataError, match=name) as caught:
            list(reader)
        assert len(str(caught.value).splitlines()) == 1
        assert "nested deeper than the 1,024 levels" in str(caught.value)
        with pytest.raises(DamagedDataError, match=name):
            reader.get(1)
    report = verify(path, deep=True, progress=False)
    assert not report.ok
    assert (report.bad_index, report.bad_key) == (1, "deep")
    assert "nested deeper than" in report.problems[0]
    for args in (["cat", str(path)], ["cat", "--json", str(path)]):
        assert main(args) != 0
        error = capsys.readouterr().err.strip()
        assert len(error.splitlines()) == 1
        assert "recursion" not in error
        assert "deep" in error and "sample 1" in error
