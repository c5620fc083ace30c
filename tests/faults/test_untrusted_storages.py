"""Untrusted storages: index files read through any byte source are checked before a byte is read.

A registered storage hands out whatever its backend holds. The reader asks each index file's size
first and refuses one larger than the data allows without reading it, and refuses content that
does not match the size it was told, so every storage gets the same checks as a local folder.
"""

from __future__ import annotations

import pytest

from dings.format import CorruptIndexError, FileWriter, packb
from dings.readers import MsgpackReader

from ..readers import memory_storage

HUGE = 1 << 50


class LyingSource(memory_storage.MemorySource):
    """Reports the sizes in ``LIES`` for index files, and records which index files were read."""

    lies: dict[str, int] = {}
    read: list[str] = []

    def index_size(self, suffix: str) -> int | None:
        return self.lies.get(suffix, super().index_size(suffix))

    def read_index(self, suffix: str, begin: int = 0, end: int | None = None) -> bytes:
        self.read.append(suffix)
        return super().read_index(suffix, begin, end)


@pytest.fixture
def lying(tmp_path):
    """A dataset of 20 samples in a registered storage whose sizes lie; its URL."""
    memory_storage.register()
    data = tmp_path / "d.msgpack"
    with FileWriter(data, progress=False) as writer:
        for i in range(20):
            writer.write({"key": f"k{i}", "i": i})
    url = memory_storage.upload(data, "hostile")
    LyingSource.lies, LyingSource.read = {}, []
    yield url
    memory_storage.unregister()


@pytest.mark.parametrize("suffix", [".keys", ".key_hashes", ".filter", ".index"])
def test_an_index_file_claiming_to_be_huge_is_refused_unread(lying, suffix):
    LyingSource.lies = {suffix: HUGE}
    if suffix == ".index":  # a legacy dataset: only the .index file
        LyingSource.lies[".offsets"] = None  # type: ignore[assignment]
    reader = MsgpackReader(LyingSource(lying))
    with pytest.raises(CorruptIndexError, match=rf"{suffix}: {HUGE} bytes, more than the \d+ an index file can have"):
        reader.find_key(3)
        reader.find_index("k3")
    assert suffix not in LyingSource.read


def test_offsets_claiming_more_samples_than_the_data_has_bytes_are_refused_unread(lying):
    LyingSource.lies = {".offsets": 8 * HUGE}
    reader = MsgpackReader(LyingSource(lying))
    with pytest.raises(CorruptIndexError, match=r"\.offsets: \d+ bytes declare \d+ samples but the data file has only"):
        len(reader)
    with pytest.raises(CorruptIndexError, match="declare"):
        reader.get(0)
    assert LyingSource.read == []


def test_an_index_file_shorter_than_its_size_is_refused(lying):
    LyingSource.lies = {".keys": len(memory_storage.FILES[lying + ".keys"]) + 1}
    reader = MsgpackReader(LyingSource(lying))
    with pytest.raises(CorruptIndexError, match=r"\.keys: the file changed while it was read"):
        reader.find_key(0)


def test_a_file_without_index_that_is_no_dataset_is_named_as_such(lying):
    memory_storage.FILES["mem://hostile/x.msgpack"] = b"GIF89a"
    with pytest.raises(FileNotFoundError, match=r"mem://hostile/x\.msgpack: is not a dings dataset"):
        MsgpackReader("mem://hostile/x.msgpack")
    memory_storage.FILES["mem://hostile/y.msgpack"] = packb({"key": "a"})
    with pytest.raises(FileNotFoundError, match=r"mem://hostile/y\.msgpack: no index found"):
        MsgpackReader("mem://hostile/y.msgpack")
