"""One reader suite over every storage: a local file, remote without cache, remote with cache, sharded,
and a storage registered by a user (in memory, fetched and zero-copy; see ``memory_storage``).

The remote storages use moto's S3 server on 127.0.0.1 (one per module). Every storage must show the
same samples on every read path, be usable again after ``close``, and check per-sample checksums.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dings.format import (
    CorruptIndexError,
    DamagedDataError,
    FileWriter,
    load_offsets,
    pack_checksums,
    packb,
    sample_checksum,
    unpackb,
)
from dings.readers import (
    ANY_SCHEME,
    MsgpackReader,
    QuasiShuffler,
    Range,
    RemoteMsgpackReader,
    RemoteSource,
    ShardedReader,
    Shuffler,
    open_dataset,
    register_storage,
    storage_for,
    unregister_storage,
)

from . import memory_storage
from . import remote_servers as _servers

s3 = _servers.s3
N = 90
STORAGES = ["local", "remote", "remote-cached", "sharded", "memory", "memory-view"]
MEMORY = {"memory": "mem", "memory-view": "memview"}


def add_checksums(data: Path) -> None:
    """Write the ``.crc32`` sidecar of ``data`` from its offsets."""
    content = data.read_bytes()
    bounds = load_offsets(data).astype(np.int64).tolist()
    sums = [sample_checksum(content[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    data.with_name(data.name + ".crc32").write_bytes(pack_checksums(sums))


def write(path: Path, indices: range) -> Path:
    with FileWriter(path, overwrite=True, progress=False) as writer:
        for i in indices:
            writer.write(_servers.make_sample(i))
    add_checksums(path)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("storages")
    whole = write(folder / "all.msgpack", range(N))
    shards = [write(folder / f"part-{n:05d}.msgpack", range(n * 30, n * 30 + 30)) for n in range(3)]
    return whole, shards


@pytest.fixture(scope="module")
def url(s3, files):
    return s3.upload(files[0], "storages")


@pytest.fixture(scope="module")
def memory(files):
    """The in-memory storages, registered, holding the dataset; their URLs by scheme."""
    memory_storage.register()
    yield {scheme: memory_storage.upload(files[0], "storages", scheme) for scheme in memory_storage.SCHEMES}
    memory_storage.unregister()


def open_storage(kind: str, files, url: str | None, s3, cache_dir: Path, **options):
    whole, shards = files
    if kind == "local":
        return MsgpackReader(whole, **options)
    if kind in MEMORY:
        return MsgpackReader(url, block_size=700, **options)
    if kind == "sharded":
        return ShardedReader([str(s) for s in shards], **options)
    cache = "index" if kind == "remote" else "full"
    return MsgpackReader(
        url,
        storage_options=s3.options,
        cache_dir=cache_dir,
        cache=cache,
        retries=1,
        backoff=0.0,
        block_size=700,
        **options,
    )


@pytest.fixture(params=STORAGES)
def storage(request, files, tmp_path):
    kind = request.param
    url = request.getfixturevalue("url") if kind.startswith("remote") else None
    if kind in MEMORY:
        url = request.getfixturevalue("memory")[MEMORY[kind]]
    server = request.getfixturevalue("s3") if kind.startswith("remote") else None
    return lambda **options: open_storage(kind, files, url, server, tmp_path / "cache", **options)


@pytest.fixture
def expected(files):
    with MsgpackReader(files[0]) as reader:
        return [reader.get(i, raw=True) for i in range(N)]


def raw(samples) -> list[bytes]:
    return [packb(s) for s in samples]


def test_every_read_path_gives_the_same_samples(storage, expected):
    with storage() as reader:
        assert len(reader) == N
        assert packb(reader.get(7)) == expected[7] and packb(reader[-1]) == expected[-1]
        assert reader.get(5, raw=True) == expected[5]
        assert bytes(reader.read_sample(6, raw=True, copy=False)) == expected[6]
        assert raw(reader) == expected
        assert [bytes(m) for m in reader.iter(0, raw=True, copy=False)] == expected
        assert raw(reader.read_range(10, 40)) == expected[10:40]
        assert raw(reader.slice(20, 75)) == expected[20:75]
        runs = reader.read_runs([(0, 3), (50, 52), (88, 90)])
        assert [raw(run) for run in runs] == [expected[0:3], expected[50:52], expected[88:90]]
        wanted = [88, 3, 4, 5, 40, 3]
        found = {}
        for span in reader.read_spans(wanted):
            for a, b, w in zip(span.starts.tolist(), span.stops.tolist(), span.where.tolist()):
                found[w] = bytes(memoryview(span.buffer)[a:b])
        assert [found[i] for i in range(len(wanted))] == [expected[i] for i in wanted]
        assert reader.find_index("s0042") == 42 and reader.find_key(42) == "s0042"
        assert "s0042" in reader and "nope" not in reader
        assert raw(Shuffler(reader, seed=3)) == [
            expected[i] for i in np.random.default_rng([3, 0]).permutation(N).tolist()
        ]
        assert sorted(raw(QuasiShuffler(reader, buf_size=16, chunk_size=8, seed=1))) == sorted(expected)
        assert raw(Range(reader, 80)) == expected[80:]


def test_a_reader_is_usable_again_after_close(storage, expected):
    reader = storage()
    with reader:
        assert raw(reader) == expected
    with reader:
        assert raw(reader) == expected
    assert packb(reader.get(0)) == expected[0]
    assert reader.get(N - 1, raw=True) == expected[-1]
    reader.close()
    assert reader.get(3, raw=True) == expected[3] and raw(Shuffler(reader, seed=0))[0] in expected
    reader.close()
    part = Range(Shuffler(reader, seed=2), 10, 20)
    with part:
        first = raw(part)
    with part:
        assert raw(part) == first and len(first) == 10
    assert packb(part.get(0)) == first[0]
    reader.close()


def test_range_over_a_reader_reads_runs_through_it(storage, expected):
    with storage() as reader:
        part = Range(reader, 30, 60)
        assert part.fetches_concurrently == reader.fetches_concurrently
        assert [raw(run) for run in part.read_runs([(0, 2), (-3, None)])] == [expected[30:32], expected[57:60]]


def test_verify_checks_every_sample_read_against_its_checksum(storage, files, expected, tmp_path):
    with storage(verify=True) as reader:
        assert raw(reader) == expected and reader.get(4, raw=True) == expected[4]


def _flip_in_place(path: Path, position: int) -> None:
    """Change one byte of ``path`` keeping its size and modification time (rot the md5 check cannot see)."""
    import os

    info = path.stat()
    content = bytearray(path.read_bytes())
    content[position] ^= 0x01
    path.write_bytes(bytes(content))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def test_a_cached_copy_that_rots_on_disk_is_not_served(s3, url, files, tmp_path, expected):
    first = open_storage("remote-cached", files, url, s3, tmp_path / "cache")
    assert first.cached
    cached = first.path
    first.close()
    offsets = load_offsets(files[0]).astype(np.int64)
    # a byte inside sample 17's data bytes: the sample still decodes, to the wrong value
    _flip_in_place(cached, int(offsets[18]) - 3)
    again = open_storage("remote-cached", files, url, s3, tmp_path / "cache")
    assert again.cached  # size and mtime unchanged: the md5 is not computed again
    assert again.get(16, raw=True) == expected[16]
    with pytest.raises(DamagedDataError, match=r"sample 17 \(key 's0017'\).*checksum") as caught:
        again.get(17)
    assert caught.value.index == 17 and caught.value.key == "s0017"
    with pytest.raises(DamagedDataError, match="sample 17"):
        list(again)
    again.close()


def test_a_cached_copy_gets_checksums_even_when_the_dataset_has_none(s3, tmp_path):
    data = tmp_path / "src" / "plain.msgpack"
    _servers.write_dataset(data, 40)  # no .crc32
    address = s3.upload(data, "plain")
    reader = MsgpackReader(
        address, storage_options=s3.options, cache_dir=tmp_path / "cache", cache="full", retries=1, backoff=0.0
    )
    assert reader.cached and reader.path.with_name("plain.msgpack.crc32").is_file()
    reader.close()
    _flip_in_place(reader.path, int(load_offsets(data)[6]) - 2)
    with pytest.raises(DamagedDataError, match="sample 5"):
        reader.get(5)
    unpackb(reader.get(4, raw=True))


def test_a_registered_storage_reads_every_file_through_its_byte_source(memory, expected):
    reader = MsgpackReader(memory["mem"])
    assert type(reader) is MsgpackReader and isinstance(reader.source, memory_storage.MemorySource)
    assert reader.get(42, raw=True) == expected[42]  # before the index is loaded: 16 bytes of the offsets
    assert reader.find_index("s0042") == 42 and reader.keys[:2] == ["s0000", "s0001"]
    assert reader.verify_data() and reader.verify_index() and reader.verify().ok
    assert reader.source.fetched  # no view: every sample came through fetch
    again = MsgpackReader(memory["mem"] + ".offsets")  # any of its files names the dataset
    assert again.source.name == memory["mem"] and len(again) == N


def test_sets_and_specs_read_a_registered_storage_like_any_url(memory, expected):
    both = ShardedReader([memory["mem"], memory["memview"]])
    assert len(both) == 2 * N and both.get(N + 5, raw=True) == expected[5]
    assert raw(open_dataset(memory["mem"])) == expected


def test_damage_in_a_registered_storage_is_named_by_its_url(memory):
    memory_storage.FILES["mem://damaged/d.msgpack"] = packb({"key": "a"})
    memory_storage.FILES["mem://damaged/d.msgpack.offsets"] = (0).to_bytes(8, "big") + (99).to_bytes(8, "big")
    with pytest.raises(CorruptIndexError, match=r"mem://damaged/d\.msgpack\.offsets: offsets do not match"):
        len(MsgpackReader("mem://damaged/d.msgpack"))


def test_storages_are_chosen_by_url_scheme():
    assert storage_for("train.msgpack").scheme == storage_for(Path("a/train.msgpack")).scheme == ""
    assert storage_for("file:///data/train.msgpack").scheme == "file"
    for url in ("s3://b/t.msgpack", "HTTPS://h/t.msgpack", "gs://b/t.msgpack", "az://c/t.msgpack"):
        assert storage_for(url).factory is RemoteSource and storage_for(url).reader is RemoteMsgpackReader
    assert storage_for("weird+proto://b/t.msgpack").scheme == ANY_SCHEME  # handed to fsspec


def test_registering_a_storage_twice_or_a_bad_scheme_is_refused():
    register_storage("spec-test", memory_storage.MemorySource)
    try:
        assert storage_for("SPEC-TEST://b/d.msgpack").factory is memory_storage.MemorySource
        with pytest.raises(ValueError, match="already registered.*replace=True"):
            register_storage("spec-test", memory_storage.ViewedMemorySource)
        register_storage("spec-test", memory_storage.ViewedMemorySource, replace=True)
        assert storage_for("spec-test://b/d.msgpack").factory is memory_storage.ViewedMemorySource
    finally:
        unregister_storage("spec-test")
    assert storage_for("spec-test://b/d.msgpack").scheme == ANY_SCHEME
    with pytest.raises(ValueError, match="not a URL scheme"):
        register_storage("no/slashes", memory_storage.MemorySource)
    with pytest.raises(TypeError, match="must be callable"):
        register_storage("spec-test", "not a factory")  # type: ignore[arg-type]


def test_without_a_storage_for_a_scheme_the_error_says_how_to_add_one():
    any_scheme = storage_for("weird://x")
    unregister_storage(ANY_SCHEME)
    try:
        with pytest.raises(ValueError, match=r"no storage reads weird:// URLs; register one"):
            MsgpackReader("weird://b/d.msgpack")
    finally:
        register_storage(ANY_SCHEME, any_scheme.factory, reader=any_scheme.reader)


def test_local_files_take_no_storage_options(files):
    with pytest.raises(TypeError, match="a local dataset takes no storage options, got cache_dir"):
        MsgpackReader(files[0], cache_dir="/tmp")
