"""A reader never mixes two generations of a dataset that is replaced while it is open."""

import pytest

from dings.format import DamagedDataError, FileWriter
from dings.readers import MsgpackReader


def write(path, tag: str) -> None:
    with FileWriter(path, overwrite=True, progress=False) as writer:
        for i in range(20):
            writer.write({"key": f"{tag}{i:03d}", "value": f"{tag}-{i:03d}"})


def test_a_reader_opened_before_an_overwrite_refuses_the_new_index_files(tmp_path):
    path = tmp_path / "d.msgpack"
    write(path, "a")
    reader = MsgpackReader(path)  # nothing loaded yet: index files are read lazily
    write(path, "b")  # same sizes: offsets alone would not tell the generations apart
    with pytest.raises(DamagedDataError, match="replaced while it was open"):
        reader.get(0)


def test_a_reader_that_loaded_its_data_keeps_reading_its_generation_or_refuses(tmp_path):
    path = tmp_path / "d.msgpack"
    write(path, "a")
    reader = MsgpackReader(path)
    assert reader.get(3)["value"] == "a-003"  # data mapped, offsets loaded
    write(path, "b")
    assert reader.get(4)["value"] == "a-004"  # still the old generation, whole
    with pytest.raises(DamagedDataError, match="replaced while it was open"):
        reader.find_key(0)  # the keys file on disk is the new generation's
    assert MsgpackReader(path).get(0)["value"] == "b-000"
