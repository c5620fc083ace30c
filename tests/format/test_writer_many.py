"""RawWriter.write_many: a batch of packed samples is written exactly as single writes of each would be.

Same files byte for byte (data, index, checksums, md5), same progress updates, and for a bad
sample the same error (class and message) after the same samples.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dings.format import DuplicateKeyError, InvalidSampleError, RawWriter, packb
from dings.format.writer import CHUNK_SIZE

SUFFIXES = ["", ".offsets", ".keys", ".key_hashes", ".filter", ".crc32", ".md5"]
#: the md5 file names the data file: both ways write files of the same name, in two folders
ONE = "one/d.msgpack"
MANY = "many/d.msgpack"


def files(path: Path) -> dict[str, bytes]:
    return {s: Path(str(path) + s).read_bytes() for s in SUFFIXES}


def batch(samples: list[tuple[str, bytes]]) -> tuple[list[str], bytes, np.ndarray]:
    """Keys, the packed samples back to back, and their offsets."""
    sizes = [len(data) for _, data in samples]
    return [key for key, _ in samples], b"".join(data for _, data in samples), np.cumsum([0, *sizes])


class Recorder:
    """Records a writer's progress updates."""

    def __init__(self, writer: RawWriter) -> None:
        self.updates: list[tuple[int, int]] = []
        update = writer._progress.update
        writer._progress.update = lambda count, size=0: (self.updates.append((count, size)), update(count, size))  # type: ignore[method-assign]


def write_one_by_one(path: Path, samples: list[tuple[str, bytes]]) -> list[tuple[int, int]]:
    with RawWriter(path, progress=False) as writer:
        recorder = Recorder(writer)
        for key, data in samples:
            writer.write(key, data)
    return recorder.updates


def write_in_batches(path: Path, samples: list[tuple[str, bytes]], cuts: list[int], copy: bool = True):
    with RawWriter(path, progress=False) as writer:
        recorder = Recorder(writer)
        bounds = [0, *sorted(cuts), len(samples)]
        for a, b in zip(bounds, bounds[1:]):
            keys, data, offsets = batch(samples[a:b])
            assert writer.write_many(keys, bytearray(data) if copy else data, offsets, copy=copy) == b
    return recorder.updates


def random_samples(rng: np.random.Generator, count: int) -> list[tuple[str, bytes]]:
    """Samples of every size class: tiny, around the inline-CRC limit, and larger than a chunk."""
    out = []
    for i in range(count):
        size = int(rng.choice([0, 10, 4090, 4096, 5000, 70_000, CHUNK_SIZE + 7]))
        key = rng.choice(["k", "ключ", "鍵", "a" * 40, "x" * 300]) + str(i)
        sample = {"key": key, "blob": rng.bytes(size), "n": int(rng.integers(-(2**40), 2**40))}
        if i % 7 == 3:
            sample = {"first": 1, **sample}  # the key not first: found by a full parse
        out.append((key, packb(sample)))
    return out


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(0, 40), copy=st.booleans(), data=st.data())
def test_batches_give_the_same_files_and_progress_as_single_writes(tmp_path_factory, seed, count, copy, data):
    rng = np.random.default_rng(seed)
    samples = random_samples(rng, count)
    cuts = data.draw(st.lists(st.integers(0, count), max_size=6))
    folder = tmp_path_factory.mktemp("many")
    one = write_one_by_one(folder / ONE, samples)
    many = write_in_batches(folder / MANY, samples, cuts, copy)
    assert files(folder / MANY) == files(folder / ONE)
    assert many == one


def test_batches_and_single_writes_mix(tmp_path):
    samples = random_samples(np.random.default_rng(1), 30)
    write_one_by_one(tmp_path / ONE, samples)
    with RawWriter(tmp_path / MANY, progress=False) as writer:
        writer.write(*samples[0])
        writer.write_many(*batch(samples[1:20]))
        writer.write(*samples[20])
        writer.write_many(*batch(samples[21:]))
    assert files(tmp_path / MANY) == files(tmp_path / ONE)


def test_offsets_may_start_anywhere_in_data(tmp_path):
    samples = [(f"k{i}", packb({"key": f"k{i}", "v": i})) for i in range(5)]
    write_one_by_one(tmp_path / ONE, samples)
    keys, data, offsets = batch(samples)
    with RawWriter(tmp_path / MANY, progress=False) as writer:
        writer.write_many(keys, b"junk" + data + b"tail", offsets + 4)
    assert files(tmp_path / MANY) == files(tmp_path / ONE)


GOOD = [(f"good{i}", packb({"key": f"good{i}", "v": i})) for i in range(4)]
BAD = {
    "non-str key": (3, packb({"key": 3})),
    "key written before": ("good0", packb({"key": "good0"})),
    "empty data": ("e", b""),
    "not a map": ("arr", packb([1, 2])),
    "empty map": ("m", packb({})),
    "other key": ("mine", packb({"key": "theirs"})),
    "no key": ("none", packb({"v": 1})),
    "bytes key inside": ("b", packb({"key": b"b"})),
    "key longer than its data": ("abc", b"\x81\xa3key\xa3ab"),
    "lone surrogate": ("\ud800", b"\x81\xa3key\xa3\xed\xa0\x80"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_sample_raises_what_write_raises_after_the_samples_before_it(tmp_path, case):
    bad = BAD[case]
    after = [("after", packb({"key": "after"}))]
    with RawWriter(tmp_path / ONE, progress=False) as single:
        for sample in GOOD:
            single.write(*sample)
        with pytest.raises(Exception) as expected:
            single.write(*bad)
    with RawWriter(tmp_path / MANY, progress=False) as many:
        many.write(*GOOD[0])
        with pytest.raises(type(expected.value)) as raised:
            many.write_many(*batch(GOOD[1:] + [bad] + after))
        assert many.written == len(GOOD)
    assert isinstance(raised.value, (InvalidSampleError, DuplicateKeyError))
    assert str(raised.value).replace(MANY, ONE) == str(expected.value)
    assert repr(bad[0]) in str(raised.value)
    assert files(tmp_path / MANY) == files(tmp_path / ONE)


def test_a_key_twice_in_one_batch_is_a_duplicate(tmp_path):
    with RawWriter(tmp_path / "d.msgpack", progress=False) as writer:
        with pytest.raises(DuplicateKeyError, match="'good1'"):
            writer.write_many(*batch(GOOD + [GOOD[1]]))
        assert writer.written == len(GOOD)


def test_samples_that_look_unusual_but_are_valid_are_written(tmp_path):
    """A key of 300 bytes (str16), a key that is not the first entry, a map16 header: no false errors."""
    samples = [
        ("x" * 300, packb({"key": "x" * 300})),
        ("later", packb({"a": 1, "key": "later"})),
        ("wide", packb({"key": "wide", **{f"f{i}": i for i in range(20)}})),
        ("", packb({"key": ""})),
    ]
    write_one_by_one(tmp_path / ONE, samples)
    with RawWriter(tmp_path / MANY, progress=False) as writer:
        writer.write_many(*batch(samples))
    assert files(tmp_path / MANY) == files(tmp_path / ONE)


@pytest.mark.parametrize("offsets", [[0, 5], [0, 3, 2], [-1, 10, 20], [0, 10, 10_000]])
def test_offsets_that_do_not_fit_are_refused(tmp_path, offsets):
    with RawWriter(tmp_path / "d.msgpack", progress=False) as writer:
        with pytest.raises(ValueError, match="offsets"):
            writer.write_many(["a", "b"], bytes(100), offsets)


def test_a_closed_writer_refuses_a_batch_but_accepts_an_empty_one(tmp_path):
    writer = RawWriter(tmp_path / "d.msgpack", progress=False)
    writer.close()
    assert writer.write_many([], b"", [0]) == 0
    with pytest.raises(ValueError, match="closed"):
        writer.write_many(*batch(GOOD))
