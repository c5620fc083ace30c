"""Specification of the index files of a dataset in dings.format (see FORMAT.md, "Files of one dataset").

Every writer and loader accepts the data file path or any of its index file paths. Damaged index files
raise CorruptIndexError (a ValueError) naming the file, never a crash deep inside numpy or msgpack.
"""

from __future__ import annotations

import hashlib
import random
import struct

import msgpack
import numpy as np
import pytest
import simplebloom

from dings.format import (
    CorruptIndexError,
    FormatError,
    data_path,
    hash_keys,
    hash_string,
    index_path,
    keys_len,
    legacy_index_len,
    legacy_load_index,
    load_filter,
    load_key_hashes,
    load_keys,
    load_md5,
    load_offsets,
    packb,
    write_filter,
    write_key_hashes,
    write_keys,
    write_md5,
    write_offsets,
)
from dings.format import index as index_module

KEYS = ["a", "b", "ключ", "数据", "😀", "a/b/c.jpg", ""]


@pytest.fixture
def data(tmp_path):
    """Path of a dataset's data file (the file itself is created by the tests that need it)."""
    return tmp_path / "x.msgpack"


def write_samples(data, keys):
    """Write one sample per key to ``data``; return the N+1 start offsets."""
    offsets = [0]
    with open(data, "wb") as f:
        for i, key in enumerate(keys):
            offsets.append(offsets[-1] + f.write(packb({"key": key, "i": i})))
    return offsets


def expected_hash(key: str, salt: bytes) -> int:
    """The key hash as FORMAT.md defines it, computed independently of the package."""
    return int.from_bytes(hashlib.blake2s(key.encode("utf-8"), salt=salt).digest()[:8], "big")


def salt_of_try(i: int) -> bytes:
    return hashlib.blake2s(str(i).encode("utf-8")).digest()[:8]


def assert_corrupt(excinfo, path):
    """The error is a CorruptIndexError, also a ValueError and a FormatError, and names the file."""
    assert isinstance(excinfo.value, ValueError)
    assert isinstance(excinfo.value, FormatError)
    assert str(path) in str(excinfo.value)


# --- offsets ---


def test_write_offsets_writes_big_endian_uint64(data):
    offsets = [0, 10, 2**40, 2**64 - 1]
    written = write_offsets(offsets, data)
    assert written == index_path(data, ".offsets")
    assert written.read_bytes() == struct.pack(">4Q", *offsets)


def test_load_offsets_returns_the_written_values_as_uint64(data):
    offsets = [0, 7, 300, 2**33]
    write_offsets(offsets, data)
    loaded = load_offsets(data)
    assert loaded.dtype == np.uint64
    assert loaded.tolist() == offsets


def test_load_offsets_reads_big_endian_bytes_written_by_anyone(data):
    index_path(data, ".offsets").write_bytes(struct.pack(">3Q", 0, 258, 65536))
    assert load_offsets(data).tolist() == [0, 258, 65536]


def test_offsets_of_a_real_data_file_end_at_its_size(data):
    offsets = write_samples(data, KEYS)
    write_offsets(offsets, data)
    loaded = load_offsets(data)
    assert loaded[0] == 0
    assert loaded[-1] == data.stat().st_size
    assert len(loaded) == len(KEYS) + 1


@pytest.mark.parametrize("size", [7, 0, 17], ids=["7-bytes", "empty", "17-bytes"])
def test_load_offsets_of_a_truncated_file_is_corrupt(data, size):
    target = index_path(data, ".offsets")
    target.write_bytes(bytes(size))
    with pytest.raises(CorruptIndexError) as excinfo:
        load_offsets(data)
    assert_corrupt(excinfo, target)


# --- keys ---


def test_write_keys_writes_one_msgpack_array_of_str(data):
    written = write_keys(KEYS, data)
    assert written == index_path(data, ".keys")
    assert written.read_bytes() == msgpack.packb(KEYS, use_bin_type=True)
    assert msgpack.unpackb(written.read_bytes(), raw=False) == KEYS


def test_load_keys_returns_keys_in_sample_order(data):
    write_keys(KEYS, data)
    assert load_keys(data) == KEYS


def test_load_keys_of_an_empty_dataset_is_an_empty_list(data):
    write_keys([], data)
    assert load_keys(data) == []


@pytest.mark.parametrize(
    "count, header",
    [(0, b"\x90"), (15, b"\x9f"), (16, b"\xdc\x00\x10"), (65535, b"\xdc\xff\xff"), (65536, b"\xdd\x00\x01\x00\x00")],
    ids=["fixarray-0", "fixarray-15", "array16-16", "array16-65535", "array32-65536"],
)
def test_keys_len_reads_the_array_header(data, count, header):
    keys = [str(i) for i in range(count)]
    written = write_keys(keys, data)
    assert written.read_bytes().startswith(header)
    assert keys_len(data) == count


@pytest.mark.parametrize(
    "header, count",
    [(b"\x93", 3), (b"\xdc\x01\x00", 256), (b"\xdd\x00\x01\x00\x00", 65536)],
    ids=["fixarray", "array16", "array32"],
)
def test_keys_len_reads_only_the_header_not_the_entries(data, header, count):
    # the entries are not valid keys; only loading the keys would notice
    index_path(data, ".keys").write_bytes(header + b"\xff" * count)
    assert keys_len(data) == count


@pytest.mark.parametrize(
    "header", [b"\x93", b"\xdc\x01\x00", b"\xdd\xff\xff\xff\xff"], ids=["fixarray", "array16", "array32"]
)
def test_keys_len_refuses_a_count_the_file_cannot_hold(data, header):
    # a lying 5-byte header must not make len() huge (readers would allocate for it)
    target = index_path(data, ".keys")
    target.write_bytes(header + b"\xa0")
    with pytest.raises(CorruptIndexError, match="declares") as excinfo:
        keys_len(data)
    assert_corrupt(excinfo, target)


def test_keys_len_refuses_more_samples_than_data_bytes(tmp_path):
    data = tmp_path / "d.msgpack"
    data.write_bytes(b"\x80" * 2)
    index_path(data, ".keys").write_bytes(b"\x93" + b"\xa1a" * 3)
    with pytest.raises(CorruptIndexError, match="data file has only 2 bytes"):
        keys_len(data)


def test_keys_len_of_an_empty_file_is_corrupt(data):
    target = index_path(data, ".keys")
    target.write_bytes(b"")
    with pytest.raises(CorruptIndexError) as excinfo:
        keys_len(data)
    assert_corrupt(excinfo, target)


@pytest.mark.parametrize(
    "content",
    [b"\x82\xa1a\x00\xa1b\x01", b"\xa3abc", b"\xdc\x00", b"\xdd\x00\x00\x01"],
    ids=["map", "str", "cut-array16-header", "cut-array32-header"],
)
def test_keys_len_of_a_file_without_an_array_header_is_corrupt(data, content):
    target = index_path(data, ".keys")
    target.write_bytes(content)
    with pytest.raises(CorruptIndexError) as excinfo:
        keys_len(data)
    assert_corrupt(excinfo, target)


def test_load_keys_of_garbage_bytes_is_corrupt(data):
    target = index_path(data, ".keys")
    target.write_bytes(b"\xc1" + random.Random(0).randbytes(63))  # 0xc1 is never used by msgpack
    with pytest.raises(CorruptIndexError) as excinfo:
        load_keys(data)
    assert_corrupt(excinfo, target)


def test_load_keys_of_a_map_instead_of_an_array_is_corrupt(data):
    target = index_path(data, ".keys")
    target.write_bytes(msgpack.packb({"a": 0, "b": 1}))
    with pytest.raises(CorruptIndexError) as excinfo:
        load_keys(data)
    assert_corrupt(excinfo, target)


def test_load_keys_of_an_array_of_non_str_is_corrupt(data):
    target = index_path(data, ".keys")
    target.write_bytes(msgpack.packb(["a", 2, b"c"], use_bin_type=True))
    with pytest.raises(CorruptIndexError) as excinfo:
        load_keys(data)
    assert_corrupt(excinfo, target)


def test_load_keys_with_trailing_bytes_after_the_array_is_corrupt(data):
    target = index_path(data, ".keys")
    target.write_bytes(msgpack.packb(["a", "b"]) + b"\xa1c")
    with pytest.raises(CorruptIndexError) as excinfo:
        load_keys(data)
    assert_corrupt(excinfo, target)


def test_load_keys_whose_header_claims_more_entries_than_the_file_holds_is_corrupt(data):
    # header says 2**32-1 entries, the body holds one 3-byte str: must fail without allocating for the claim
    target = index_path(data, ".keys")
    target.write_bytes(b"\xdd\xff\xff\xff\xff" + msgpack.packb("ab"))
    with pytest.raises(CorruptIndexError) as excinfo:
        load_keys(data)
    assert_corrupt(excinfo, target)


# --- key hashes ---


def test_hash_string_is_the_first_8_bytes_of_salted_blake2s_big_endian():
    salt = salt_of_try(0)
    for key in KEYS:
        assert hash_string(key, salt) == expected_hash(key, salt)


@pytest.mark.parametrize("attempt", [0, 1, 2, 999])
def test_make_salt_is_the_first_8_bytes_of_unsalted_blake2s_of_the_try_number(attempt):
    assert index_module.make_salt(attempt) == hashlib.blake2s(str(attempt).encode("utf-8")).digest()[:8]


def test_hash_many_hashes_every_key_like_hash_string():
    salt = salt_of_try(3)
    hashes = index_module.hash_many(KEYS, salt)
    assert hashes.dtype == np.dtype(">u8")
    assert hashes.tolist() == [expected_hash(key, salt) for key in KEYS]


def test_hash_keys_uses_the_first_salt_when_hashes_are_distinct():
    salt, hashes = hash_keys(KEYS)
    assert salt == hashlib.blake2s(b"0").digest()[:8]
    assert hashes.dtype == np.dtype(">u8")
    assert hashes.tolist() == [expected_hash(key, salt) for key in KEYS]


def test_write_key_hashes_writes_salt_then_big_endian_hashes(data):
    written = write_key_hashes(KEYS, data)
    assert written == index_path(data, ".key_hashes")
    salt = hashlib.blake2s(b"0").digest()[:8]
    expected = salt + struct.pack(f">{len(KEYS)}Q", *(expected_hash(key, salt) for key in KEYS))
    assert written.read_bytes() == expected


def test_load_key_hashes_returns_salt_and_hashes_in_sample_order(data):
    write_key_hashes(KEYS, data)
    salt, hashes = load_key_hashes(data)
    assert salt == salt_of_try(0)
    assert hashes.tolist() == [expected_hash(key, salt) for key in KEYS]


def test_key_hashes_of_an_empty_dataset_hold_only_the_salt(data):
    written = write_key_hashes([], data)
    assert written.read_bytes() == salt_of_try(0)
    salt, hashes = load_key_hashes(data)
    assert salt == salt_of_try(0)
    assert len(hashes) == 0


def test_hash_keys_with_duplicate_keys_raises_value_error_after_max_tries(monkeypatch):
    tried = []
    real_make_salt = index_module.make_salt

    def counting_make_salt(attempt):
        tried.append(attempt)
        return real_make_salt(attempt)

    monkeypatch.setattr(index_module, "make_salt", counting_make_salt)
    with pytest.raises(ValueError, match="unique"):
        hash_keys(["a", "b", "a"], max_tries=5)
    assert tried == [0, 1, 2, 3, 4]


class _FirstSaltCollides:
    """Stands in for the ``hashlib`` module of dings.format.index: every key hashed with the first
    salt gets the same digest, every other use is the real hashlib."""

    def __getattr__(self, name):
        return getattr(hashlib, name)

    @staticmethod
    def blake2s(data=b"", **kwargs):
        if kwargs.get("salt") == salt_of_try(0):
            return hashlib.blake2s(b"same digest for every key")
        return hashlib.blake2s(data, **kwargs)


def test_hash_keys_tries_the_next_salt_when_hashes_collide(monkeypatch):
    monkeypatch.setattr(index_module, "hashlib", _FirstSaltCollides())
    salt, hashes = hash_keys(KEYS)
    assert salt == hashlib.blake2s(b"1").digest()[:8]
    assert hashes.tolist() == [expected_hash(key, salt) for key in KEYS]


def test_write_key_hashes_stores_the_salt_that_was_used_after_a_collision(monkeypatch, data):
    monkeypatch.setattr(index_module, "hashlib", _FirstSaltCollides())
    write_key_hashes(KEYS, data)
    monkeypatch.undo()
    salt, hashes = load_key_hashes(data)
    assert salt == salt_of_try(1)
    assert hashes.tolist() == [expected_hash(key, salt) for key in KEYS]


@pytest.mark.parametrize("size", [12, 5, 0], ids=["12-bytes", "shorter-than-salt", "empty"])
def test_load_key_hashes_of_a_truncated_file_is_corrupt(data, size):
    target = index_path(data, ".key_hashes")
    target.write_bytes(bytes(size))
    with pytest.raises(CorruptIndexError) as excinfo:
        load_key_hashes(data)
    assert_corrupt(excinfo, target)


# --- Bloom filter ---


@pytest.mark.parametrize("count", [1, 2, 100, 5000])
def test_every_key_is_in_the_loaded_filter(data, count):
    keys = [f"sample-{i}" for i in range(count)]
    write_filter(keys, data)
    bloom = load_filter(data)
    assert all(key in bloom for key in keys)


@pytest.mark.parametrize("count", [0, 1, 100])
def test_filter_file_is_a_simplebloom_dump_sized_for_max_2_n(data, count):
    keys = [f"sample-{i}" for i in range(count)]
    expected = simplebloom.BloomFilter(max(2, count))
    for key in keys:
        expected += key
    written = write_filter(keys, data)
    assert written == index_path(data, ".filter")
    assert written.read_bytes() == expected.dumps()


def test_load_filter_of_garbage_is_corrupt(data):
    target = index_path(data, ".filter")
    target.write_bytes(random.Random(0).randbytes(100))
    with pytest.raises(CorruptIndexError) as excinfo:
        load_filter(data)
    assert_corrupt(excinfo, target)


def test_load_filter_of_a_file_shorter_than_the_header_is_corrupt(data):
    target = index_path(data, ".filter")
    target.write_bytes(b"SIMPBLOO")
    with pytest.raises(CorruptIndexError) as excinfo:
        load_filter(data)
    assert_corrupt(excinfo, target)


def test_load_filter_of_a_truncated_filter_is_corrupt(data):
    target = write_filter([f"sample-{i}" for i in range(100)], data)
    content = target.read_bytes()
    target.write_bytes(content[: len(content) // 2])
    with pytest.raises(CorruptIndexError) as excinfo:
        load_filter(data)
    assert_corrupt(excinfo, target)


# --- md5 ---


def write_complete_dataset(data, keys):
    write_offsets(write_samples(data, keys), data)
    write_keys(keys, data)
    write_key_hashes(keys, data)
    write_filter(keys, data)


def md5_line(path):
    return f"{hashlib.md5(path.read_bytes()).hexdigest()}  {path.name}\n"


def test_write_md5_lists_data_offsets_keys_key_hashes_filter_in_order(data):
    write_complete_dataset(data, KEYS)
    written = write_md5(data)
    assert written == index_path(data, ".md5")
    files = [data] + [index_path(data, suffix) for suffix in (".offsets", ".keys", ".key_hashes", ".filter")]
    assert written.read_text(encoding="utf-8") == "".join(md5_line(f) for f in files)


def test_write_md5_uses_bare_file_names_and_two_spaces(data):
    write_complete_dataset(data, KEYS)
    for line in write_md5(data).read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ")
        assert len(digest) == 32 and int(digest, 16) >= 0
        assert "/" not in name and name.startswith("x.msgpack")


def test_write_md5_skips_index_files_that_do_not_exist(data):
    write_offsets(write_samples(data, KEYS), data)
    written = write_md5(data)
    assert written.read_text(encoding="utf-8") == md5_line(data) + md5_line(index_path(data, ".offsets"))


def test_write_md5_uses_given_digests_instead_of_reading_files(data):
    write_complete_dataset(data, KEYS)
    given = {data.name: "0" * 32}
    lines = write_md5(data, given).read_text(encoding="utf-8").splitlines()
    assert lines[0] == f"{'0' * 32}  {data.name}"
    assert len(lines) == 5


def test_md5_file_is_the_md5_of_the_whole_file(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(random.Random(2).randbytes(100_003))
    assert index_module.md5_file(path, chunk_size=4096) == hashlib.md5(path.read_bytes()).hexdigest()


def test_load_md5_returns_name_to_digest(data):
    write_complete_dataset(data, KEYS)
    write_md5(data)
    loaded = load_md5(data)
    names = [data.name] + [data.name + s for s in (".offsets", ".keys", ".key_hashes", ".filter")]
    assert list(loaded) == names
    for name in names:
        assert loaded[name] == hashlib.md5((data.parent / name).read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "line",
    [
        "d41d8cd98f00b204e9800998ecf8427e x.msgpack",
        "d41d8cd98f00b204e9800998ecf8427  x.msgpack",
        "z41d8cd98f00b204e9800998ecf8427e  x.msgpack",
        "d41d8cd98f00b204e9800998ecf8427e  ",
        "no separator at all",
    ],
    ids=["one-space", "31-digits", "not-hex", "no-name", "garbage"],
)
def test_load_md5_of_a_malformed_line_is_corrupt(data, line):
    target = index_path(data, ".md5")
    target.write_text(f"d41d8cd98f00b204e9800998ecf8427e  x.msgpack.keys\n{line}\n", encoding="utf-8")
    with pytest.raises(CorruptIndexError) as excinfo:
        load_md5(data)
    assert_corrupt(excinfo, target)


# --- legacy index ---


def write_legacy_index(data, mapping):
    target = index_path(data, ".index")
    target.write_bytes(msgpack.packb(mapping, use_bin_type=True))
    return target


def test_legacy_load_index_returns_keys_and_n_plus_1_offsets(data):
    offsets = write_samples(data, KEYS)
    write_legacy_index(data, dict(zip(KEYS, offsets[:-1])))
    keys, loaded = legacy_load_index(data)
    assert keys == KEYS
    assert loaded.dtype == np.uint64
    assert loaded.tolist() == offsets
    assert loaded[-1] == data.stat().st_size


def test_legacy_load_index_of_an_empty_dataset(data):
    data.write_bytes(b"")
    write_legacy_index(data, {})
    keys, offsets = legacy_load_index(data)
    assert keys == []
    assert offsets.tolist() == [0]


@pytest.mark.parametrize(
    "count, header",
    [(0, b"\x80"), (15, b"\x8f"), (16, b"\xde\x00\x10"), (65535, b"\xde\xff\xff"), (65536, b"\xdf\x00\x01\x00\x00")],
    ids=["fixmap-0", "fixmap-15", "map16-16", "map16-65535", "map32-65536"],
)
def test_legacy_index_len_reads_the_map_header(data, count, header):
    target = write_legacy_index(data, {str(i): i for i in range(count)})
    assert target.read_bytes().startswith(header)
    assert legacy_index_len(data) == count


def test_legacy_index_len_of_an_empty_file_is_corrupt(data):
    target = index_path(data, ".index")
    target.write_bytes(b"")
    with pytest.raises(CorruptIndexError) as excinfo:
        legacy_index_len(data)
    assert_corrupt(excinfo, target)


def test_legacy_index_len_of_an_array_is_corrupt(data):
    target = index_path(data, ".index")
    target.write_bytes(msgpack.packb(["a", "b"]))
    with pytest.raises(CorruptIndexError) as excinfo:
        legacy_index_len(data)
    assert_corrupt(excinfo, target)


@pytest.mark.parametrize(
    "mapping",
    [
        {"a": 0, "b": 20, "c": 10},
        {"a": 0, "b": 10, "c": 10},
        {"a": 5, "b": 10},
        {"a": 0, "b": 10_000},
        {"a": 0, "b": -1},
        {"a": 0, 2: 10},
        {"a": 0, "b": "10"},
    ],
    ids=["decreasing", "repeated", "not-starting-at-0", "beyond-data-size", "negative", "non-str-key", "str-offset"],
)
def test_legacy_load_index_with_bad_offsets_or_keys_is_corrupt(data, mapping):
    data.write_bytes(bytes(100))
    target = write_legacy_index(data, mapping)
    with pytest.raises(CorruptIndexError) as excinfo:
        legacy_load_index(data)
    assert_corrupt(excinfo, target)


def test_legacy_load_index_of_an_array_instead_of_a_map_is_corrupt(data):
    data.write_bytes(bytes(100))
    target = index_path(data, ".index")
    target.write_bytes(msgpack.packb(["a", "b"]))
    with pytest.raises(CorruptIndexError) as excinfo:
        legacy_load_index(data)
    assert_corrupt(excinfo, target)


def test_legacy_load_index_of_garbage_is_corrupt(data):
    data.write_bytes(bytes(100))
    target = index_path(data, ".index")
    target.write_bytes(b"\xc1" + random.Random(1).randbytes(31))
    with pytest.raises(CorruptIndexError) as excinfo:
        legacy_load_index(data)
    assert_corrupt(excinfo, target)


# --- paths: the data file or any index file names the dataset ---

SUFFIXES = [".offsets", ".keys", ".key_hashes", ".filter", ".md5", ".index"]


@pytest.mark.parametrize("suffix", ["", *SUFFIXES], ids=["data", *SUFFIXES])
def test_data_path_of_the_data_file_or_any_index_file_is_the_data_file(tmp_path, suffix):
    assert data_path(tmp_path / f"my.set-00001.msgpack{suffix}") == tmp_path / "my.set-00001.msgpack"


def test_data_path_accepts_str(tmp_path):
    assert data_path(str(tmp_path / "x.msgpack.keys")) == tmp_path / "x.msgpack"


@pytest.mark.parametrize("name", ["notes.keys", "x.msgpack.unknown", "x.offsets"])
def test_data_path_leaves_other_names_alone(tmp_path, name):
    assert data_path(tmp_path / name) == tmp_path / name


@pytest.mark.parametrize("given", ["x.msgpack", *(f"x.msgpack{s}" for s in SUFFIXES)])
def test_index_path_from_any_dataset_path(tmp_path, given):
    assert index_path(tmp_path / given, ".keys") == tmp_path / "x.msgpack.keys"


@pytest.mark.parametrize("given_suffix", ["", ".offsets", ".filter", ".md5"])
def test_loaders_accept_any_path_of_the_dataset(data, given_suffix):
    write_complete_dataset(data, KEYS)
    write_md5(data)
    given = data.with_name(data.name + given_suffix)
    assert load_keys(given) == KEYS
    assert keys_len(given) == len(KEYS)
    assert load_offsets(given).tolist() == load_offsets(data).tolist()
    assert load_key_hashes(given)[0] == salt_of_try(0)
    assert all(key in load_filter(given) for key in KEYS)
    assert load_md5(given) == load_md5(data)


def test_load_keys_of_an_offsets_path_loads_the_keys_file(data):
    write_keys(KEYS, data)
    assert load_keys(index_path(data, ".offsets")) == KEYS


@pytest.mark.parametrize("given_suffix", [".keys", ".filter"])
def test_writers_accept_any_path_of_the_dataset_and_write_their_own_file(data, given_suffix):
    given = data.with_name(data.name + given_suffix)
    assert write_offsets([0, 1], given) == index_path(data, ".offsets")
    assert write_keys(["a"], given) == index_path(data, ".keys")
    assert write_key_hashes(["a"], given) == index_path(data, ".key_hashes")
    assert write_filter(["a"], given) == index_path(data, ".filter")
    assert sorted(p.name for p in data.parent.iterdir()) == sorted(
        data.name + s for s in (".offsets", ".keys", ".key_hashes", ".filter")
    )


def test_legacy_loaders_accept_the_index_path(data):
    offsets = write_samples(data, KEYS)
    target = write_legacy_index(data, dict(zip(KEYS, offsets[:-1])))
    assert legacy_index_len(target) == len(KEYS)
    keys, loaded = legacy_load_index(target)
    assert keys == KEYS
    assert loaded.tolist() == offsets
