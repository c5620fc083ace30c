"""Seeded fault injection on the reading side: damaged files give right answers or DamagedDataError, nothing else.

Each case damages one file of a small dataset (bit flips, truncation, appended bytes, overwritten
runs) and reads it every way a user would. Allowed outcomes: the right number of samples, or
:class:`~dings.format.DamagedDataError` (``KeyError`` for look-ups of keys the damaged index lost,
``FileNotFoundError`` never happens here). Any other exception type is a leak.
"""

from __future__ import annotations

import random
import shutil

import numpy as np
import pytest

from dings.format import DamagedDataError, FileWriter, UnsafeDataError
from dings.readers import MsgpackReader, QuasiShuffler, Shuffler

N = 24
FILES = ("", ".offsets", ".keys", ".key_hashes", ".filter", ".crc32")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "d.msgpack"
    rng = np.random.default_rng(0)
    with FileWriter(path, progress=False) as writer:
        for i in range(N):
            writer.write(
                {
                    "key": f"k{i:03d}",
                    "label": i % 3,
                    "text": "é" * (i % 5),
                    "blob": rng.bytes(i * 7 % 40),
                    "arr": np.arange(i % 6, dtype=np.float32),
                    "nested": {"a": [i, {"b": i}]},
                }
            )
    return path


def damage(data: bytes, rng: random.Random) -> bytes:
    kind = rng.choice(["flip", "flips", "truncate", "append", "overwrite"])
    content = bytearray(data)
    if not content or kind == "append":
        return bytes(content) + bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 20)))
    if kind == "flip":
        content[rng.randrange(len(content))] ^= 1 << rng.randrange(8)
    elif kind == "flips":
        for _ in range(rng.randint(2, 8)):
            content[rng.randrange(len(content))] ^= rng.randint(1, 255)
    elif kind == "truncate":
        del content[rng.randrange(len(content)) :]
    else:
        start = rng.randrange(len(content))
        for i in range(start, min(len(content), start + rng.randint(1, 6))):
            content[i] = rng.choice([0x00, 0xFF, 0xC1, 0xDD, 0xDF, 0xC6, 0xD6, 0xC7, 0xA3])
    return bytes(content)


def read_everything(path, verify: bool) -> None:
    with MsgpackReader(path, verify=verify) as reader:
        length = len(reader)
        assert sum(1 for _ in reader) == length
        assert len(reader.slice(0, length)) == length
        assert len(list(reader.iter(0, raw=True))) == length
        for i in range(length):
            reader.get(i)
        assert len(list(Shuffler(reader, seed=1))) == length
        assert len(list(QuasiShuffler(reader, buf_size=5, chunk_size=3, seed=1))) == length
        for i in range(length):  # a damaged keys file can name another key: only md5 (dings verify) sees that
            try:
                assert 0 <= reader.find_index(reader.find_key(i)) < length
            except KeyError:
                pass
        assert "absent-key" not in reader


@pytest.mark.parametrize("seed", range(60))
def test_damaged_files_give_right_answers_or_damaged_data_error(pristine, tmp_path, seed):
    from dings.format import load_offsets, pack_checksums, sample_checksum

    rng = random.Random(seed)
    for file in pristine.parent.glob(pristine.name + "*"):
        shutil.copy(file, tmp_path / file.name)
    path = tmp_path / pristine.name
    content = path.read_bytes()
    bounds = load_offsets(path).astype(np.int64).tolist()
    path.with_name(path.name + ".crc32").write_bytes(
        pack_checksums([sample_checksum(content[a:b]) for a, b in zip(bounds[:-1], bounds[1:])])
    )
    for case in range(6):
        suffix = FILES[(seed + case) % len(FILES)]
        target = path.with_name(path.name + suffix)
        original = target.read_bytes()
        target.write_bytes(damage(original, rng))
        for verify in (False, True):
            try:
                read_everything(path, verify)
            except (DamagedDataError, UnsafeDataError):
                pass
        target.write_bytes(original)
