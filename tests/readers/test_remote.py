"""MsgpackReader over URLs: every read path against a real S3 server (moto) and a real HTTP server.

Datasets are written locally with FileWriter, uploaded, and read back through ``MsgpackReader(url)``;
the local file is the oracle. Each test has its own cache folder (``tmp_path``).
"""

from __future__ import annotations

import math
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import msgpack
import pytest

from dings.format import packb
from dings.readers import MsgpackReader, QuasiShuffler, RemoteError, RemoteMsgpackReader, Shuffler, is_url

from . import remote_servers as _servers

s3 = _servers.s3
http_server = _servers.http_server
N = 150
FAST = {"retries": 3, "backoff": 0.0}


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    return _servers.write_dataset(tmp_path_factory.mktemp("src") / "train.msgpack", N)


@pytest.fixture(scope="module")
def s3_url(s3, source) -> str:
    return s3.upload(source, "one")


@pytest.fixture
def local(source):
    with MsgpackReader(source) as reader:
        yield reader


def open_url(url: str, tmp_path: Path, options: dict | None = None, **kwargs) -> MsgpackReader:
    return MsgpackReader(url, storage_options=options, cache_dir=tmp_path / "cache", **{**FAST, **kwargs})


def packed(samples) -> list[bytes]:
    return [packb(s) for s in samples]


@pytest.fixture(params=["s3", "http"])
def remote(request, s3, s3_url, source, http_server, tmp_path):
    """A reader of ``source`` over S3 or HTTP that never caches data (every read is remote)."""
    if request.param == "s3":
        reader = open_url(s3_url, tmp_path, s3.options, cache="index", block_size=1500)
    else:
        reader = open_url(_servers.publish_http(http_server, source), tmp_path, cache="index", block_size=1500)
    with reader:
        yield reader


# --- opening ---


def test_urls_open_a_remote_reader_and_paths_a_local_one(s3_url, s3, source, tmp_path):
    assert is_url("s3://b/x.msgpack") and is_url("https://h/x.msgpack") and is_url("simplecache::s3://b/x")
    assert (
        not is_url(str(source))
        and not is_url("file:///tmp/x.msgpack")
        and not is_url(source)
        and not is_url("C:\\x.msgpack")
    )
    reader = open_url(s3_url, tmp_path, s3.options)
    assert type(reader) is RemoteMsgpackReader and isinstance(reader, MsgpackReader)
    assert s3_url in repr(reader) and reader.url == s3_url
    assert type(MsgpackReader(source)) is MsgpackReader
    assert type(MsgpackReader(source.as_uri())) is MsgpackReader  # file:// is a local path
    # an index file's URL opens the dataset
    assert open_url(s3_url + ".offsets", tmp_path, s3.options).url == s3_url


def test_bad_arguments_are_refused(s3_url, s3, tmp_path):
    with pytest.raises(ValueError, match="cache must be one of"):
        open_url(s3_url, tmp_path, s3.options, cache="everything")
    with pytest.raises(ValueError, match="block_size"):
        open_url(s3_url, tmp_path, s3.options, block_size=0)
    with pytest.raises(ValueError, match="retries"):
        open_url(s3_url, tmp_path, s3.options, retries=-1)
    with pytest.raises(ValueError, match="cache_limit"):
        open_url(s3_url, tmp_path, s3.options, cache_limit=-5)
    with pytest.raises(ValueError, match="not a URL"):
        RemoteMsgpackReader("/tmp/train.msgpack")
    with pytest.raises(TypeError):
        MsgpackReader(str(tmp_path / "x.msgpack"), cache_dir=tmp_path)  # remote options are for URLs only


# --- every read path ---


def test_every_read_path_matches_the_local_file(remote, local):
    assert len(remote) == N
    assert packb(remote.get(7)) == packb(local.get(7))
    assert packb(remote[-1]) == packb(local[-1])
    key, sample = remote.get(3, yield_key=True)
    assert key == "s0003" and sample["key"] == "s0003"
    assert remote.get(4, raw=True) == local.get(4, raw=True)
    assert packed(remote) == packed(local)
    assert list(remote.iter(raw=True, start=0)) == list(local.iter(raw=True, start=0))
    assert [bytes(m) for m in remote.iter(0, raw=True, copy=False)] == list(local.iter(0, raw=True))
    assert [k for k, _ in remote.iter(10, 20, yield_key=True)] == [f"s{i:04d}" for i in range(10, 20)]
    assert packed(remote.slice(10, 60)) == packed(local.slice(10, 60))
    assert packed(remote[5:9]) == packed(local[5:9])
    assert remote.find_index("s0042") == 42 and remote.find_key(42) == "s0042"
    assert "s0042" in remote and "missing" not in remote
    with pytest.raises(KeyError, match=remote.url.replace("?", r"\?")):
        remote.find_index("missing")
    remote.seek(5)
    assert remote.next()["key"] == "s0005"
    assert remote.rawnext() == local.get(6, raw=True)
    with pytest.raises(IndexError):
        remote.get(N)
    assert packed(Shuffler(remote, seed=3)) == packed(Shuffler(local, seed=3))
    assert packed(QuasiShuffler(remote, buf_size=32, chunk_size=8, seed=3)) == packed(
        QuasiShuffler(local, buf_size=32, chunk_size=8, seed=3)
    )
    assert remote.verify_index() and remote.verify_data()
    assert not remote.cached  # cache="index": nothing but index files was stored


def test_large_samples_are_decoded_one_by_one(s3, tmp_path):
    data = tmp_path / "big.msgpack"
    from dings.format import FileWriter

    with FileWriter(data, progress=False) as writer:
        for i in range(6):
            writer.write({"key": f"b{i}", "blob": bytes([i]) * 40_000})
    url = s3.upload(data, "big")
    reader = open_url(url, tmp_path, s3.options, cache="index", block_size=100_000)
    assert [s["blob"][:1] for s in reader] == [bytes([i]) for i in range(6)]
    assert reader.requests == 3  # two 40 kB samples per 100 kB block


# --- requests ---


def _blocks(offsets, block_size: int) -> int:
    """How many requests a pass needs when each holds as many whole samples as fit in block_size."""
    count, position = 0, 0
    while position < len(offsets) - 1:
        end = position + 1
        while end < len(offsets) - 1 and offsets[end + 1] - offsets[position] <= block_size:
            end += 1
        count, position = count + 1, end
    return count


def test_a_chunked_pass_makes_one_request_per_chunk(s3, s3_url, local, tmp_path, http_server, source):
    reader = open_url(s3_url, tmp_path, s3.options, cache="index")
    list(QuasiShuffler(reader, buf_size=64, chunk_size=16, seed=1))
    assert reader.requests == math.ceil(N / 16)
    reader.requests = 0
    assert len(list(reader)) == N
    assert reader.requests == 1  # the whole file is smaller than one block
    small = open_url(s3_url, tmp_path, s3.options, cache="index", block_size=1000)
    list(small.iter(0, raw=True))
    assert small.requests == _blocks(local.offsets, 1000) > 3
    # the server saw exactly the requests the reader counts
    url = _servers.publish_http(http_server, source, "/h")
    over_http = open_url(url, tmp_path, cache="index", block_size=1000)
    list(over_http)
    gets = [r for r in http_server.requests_for(f"/h/{source.name}") if r.method == "GET"]
    assert len(gets) == over_http.requests == _blocks(local.offsets, 1000)
    assert all(r.range and r.status == 206 for r in gets)


def test_random_access_fetches_one_sample_per_request(s3, s3_url, local, tmp_path):
    reader = open_url(s3_url, tmp_path, s3.options, cache="index")
    for i in (100, 3, 77):
        assert packb(reader[i]) == packb(local[i])
    assert reader.requests == 3
    list(reader.iter(20, 30))  # one block …
    assert reader.requests == 4
    assert reader.get(25, raw=True) == local.get(25, raw=True)  # … that later gets reuse
    assert reader.requests == 4


@pytest.mark.parametrize("raw,copy", [(False, True), (True, True), (True, False)])
def test_read_runs_fetches_every_run_and_matches_the_local_file(remote, local, raw, copy):
    runs = [(140, 150), (3, 4), (60, 61), (10, 40), (99, 100)]
    assert remote.fetches_concurrently and not local.fetches_concurrently
    got = remote.read_runs(runs, raw=raw, copy=copy)
    expected = local.read_runs(runs, raw=raw)
    if raw:
        assert [[bytes(x) for x in run] for run in got] == expected
    else:
        assert [packed(run) for run in got] == [packed(run) for run in expected]
    # one request per run, runs longer than block_size (1500 bytes) in several
    assert remote.requests == sum(_blocks(local.offsets[a : b + 1], 1500) for a, b in runs)


class _Barrier:
    """A stand-in filesystem whose ranged reads all wait until ``parties`` of them are in flight."""

    def __init__(self, parties: int, content: bytes) -> None:
        import threading

        self.barrier = threading.Barrier(parties, timeout=20)
        self.content = content

    def cat_file(self, path, start=None, end=None):
        self.barrier.wait()  # raises BrokenBarrierError if the reads came one at a time
        return self.content[start:end]

    def _strip_protocol(self, url):
        return url


def test_cat_ranges_keeps_several_requests_in_flight():
    from dings.readers.remote_fs import RemoteFiles

    files = RemoteFiles("memory://x/data.msgpack")
    files._fs, files._pid = _Barrier(4, bytes(range(100))), __import__("os").getpid()
    ranges = [(0, 10), (50, 55), (90, 100), (20, 21)]
    assert files.cat_ranges("memory://x/data.msgpack", ranges, "data", concurrency=4) == [
        bytes(range(a, b)) for a, b in ranges
    ]
    assert files.requests == 4


def test_iter_blocks_fetches_blocks_ahead_and_yields_them_in_order():
    from dings.readers.remote_fs import RemoteFiles

    content = bytes(range(90)) * 10  # 900 bytes: 9 blocks of 100, fetched 3 at a time
    files = RemoteFiles("memory://x/data.msgpack")
    files._fs, files._pid = _Barrier(3, content), __import__("os").getpid()  # the three reads must overlap
    blocks = list(files.iter_blocks("memory://x/data.msgpack", len(content), 100, "data", ahead=3))
    assert [len(b) for b in blocks] == [100] * 9 and b"".join(blocks) == content
    assert files.requests == 9


def test_a_shuffled_torch_epoch_over_a_url_fetches_each_batchs_runs_together(s3, s3_url, local, tmp_path):
    import numpy as np

    from dings.torch import IterableDataset

    reader = open_url(s3_url, tmp_path, s3.options, cache="index")
    dataset = IterableDataset(reader, batch_size=32, shuffle=True, seed=4)
    calls, read_runs = [], reader.read_runs
    reader.read_runs = lambda runs, **options: calls.append(len(runs)) or read_runs(runs, **options)
    remote_epoch = list(dataset)
    assert calls and sum(calls) > len(calls) * 16  # one call per batch, for all of its runs
    local_epoch = list(IterableDataset(local, batch_size=32, shuffle=True, seed=4))
    assert packed(remote_epoch) == packed(local_epoch)
    order = dataset._order.indices(0, 0, N)
    runs = sum(1 + int(np.count_nonzero(np.diff(order[i : i + 32]) != 1)) for i in range(0, N, 32))
    assert reader.requests == runs  # one request per run of consecutive samples, all of a batch at once


def test_a_quasi_shuffled_pass_over_a_url_matches_the_local_one(s3, s3_url, local, tmp_path):
    reader = open_url(s3_url, tmp_path, s3.options, cache="index")
    assert packed(QuasiShuffler(reader, buf_size=40, chunk_size=8, seed=5)) == packed(
        QuasiShuffler(local, buf_size=40, chunk_size=8, seed=5)
    )
    assert reader.requests == math.ceil(N / 8)


def test_a_quasi_shuffled_loader_epoch_over_a_url_makes_one_request_per_run(http_server, source, local, tmp_path):
    """The Loader shuffles within each batch, yet reads the batch's runs of consecutive samples
    with one ranged request each; the batches are those of the local reader."""
    from dings.torch import Loader

    options = dict(quasi=True, chunk_size=8, seed=5, threads=1, numpy=True, keys=("key", "label", "data"))
    url = _servers.publish_http(http_server, source, "/q")
    with open_url(url, tmp_path, cache="index") as reader:
        remote_epoch = list(Loader(reader, 32, **options))
    local_epoch = list(Loader(local, 32, **options))

    def rows(epoch: list) -> list:
        return [(list(b["key"]), b["label"].tolist(), list(b["data"])) for b in epoch]

    assert rows(remote_epoch) == rows(local_epoch)
    assert [k for b in rows(remote_epoch) for k in b[0]] != sorted(local.keys)  # shuffled
    gets = [r for r in http_server.requests_for(f"/q/{source.name}") if r.method == "GET"]
    chunks, batches = math.ceil(N / 8), math.ceil(N / 32)
    assert len(gets) <= chunks + batches  # a batch boundary splits at most one chunk in two


def test_spans_of_scattered_samples_over_a_url_are_fetched_in_storage_order(remote, local):
    order = [9, 2, 8, 3, 2, 10, 0]
    (span,) = remote.read_spans(order)
    assert [bytes(span.buffer[a:b]) for a, b in zip(span.starts, span.stops)] == [packb(local[i]) for i in order]
    assert remote.requests == 3  # samples 0, 2-3 and 8-10: one request per stretch of adjacent samples


# --- the cache ---


def test_a_complete_pass_caches_the_data_and_the_next_open_reads_locally(s3, s3_url, local, tmp_path, source):
    first = open_url(s3_url, tmp_path, s3.options, block_size=1500)
    assert not first.cached
    assert packed(first) == packed(local)
    assert first.cached and first.path.read_bytes() == source.read_bytes()
    assert first.path.is_relative_to(tmp_path / "cache")
    before = first.requests
    assert packb(first[9]) == packb(local[9]) and first.requests == before  # served locally now
    second = open_url(s3_url, tmp_path, s3.options)
    assert second.cached
    assert second.remote.requests == 2  # only the data file's generation and the md5 file are asked for
    assert packed(second) == packed(local) and second.requests == 0


def test_a_quasi_shuffled_epoch_caches_the_data_too(s3, s3_url, local, tmp_path):
    reader = open_url(s3_url, tmp_path, s3.options)
    assert len(list(QuasiShuffler(reader, buf_size=32, chunk_size=8, seed=2))) == N
    assert reader.cached
    assert list(reader.iter(0, raw=True)) == list(local.iter(0, raw=True))
    assert not list(reader.path.parent.glob(".*.part"))  # the temporary copy became the cached file


def test_cache_full_and_cache_index(s3, s3_url, tmp_path):
    full = open_url(s3_url, tmp_path, s3.options, cache="full")
    assert full.cached and full.requests == 1
    never = open_url(s3_url, tmp_path / "other", s3.options, cache="index")
    list(never)
    assert not never.cached and not never.path.exists()


def test_a_corrupted_cached_data_file_is_detected_and_fetched_again(s3, s3_url, local, tmp_path):
    open_url(s3_url, tmp_path, s3.options, cache="full")
    reader = open_url(s3_url, tmp_path, s3.options)
    cached = reader.path
    reader.close()
    content = bytearray(cached.read_bytes())
    content[len(content) // 2] ^= 0xFF  # same size, wrong md5
    cached.write_bytes(bytes(content))
    again = open_url(s3_url, tmp_path, s3.options)
    assert not again.cached and not cached.exists()
    assert packed(again) == packed(local)  # from the server, and cached again on the way
    assert again.cached and again.verify_data()


def test_a_corrupted_cached_index_file_is_fetched_again(s3, s3_url, local, tmp_path, source):
    reader = open_url(s3_url, tmp_path, s3.options, cache="index")
    keys_file = reader.path.with_name(reader.path.name + ".keys")
    keys_file.write_bytes(keys_file.read_bytes()[:-3] + b"xyz")
    offsets_file = reader.path.with_name(reader.path.name + ".offsets")
    offsets_file.unlink()
    again = open_url(s3_url, tmp_path, s3.options, cache="index")
    assert keys_file.read_bytes() == source.with_name(source.name + ".keys").read_bytes()
    assert offsets_file.read_bytes() == source.with_name(source.name + ".offsets").read_bytes()
    assert again.keys == local.keys and again.verify_index()


def test_a_changed_remote_dataset_replaces_the_cached_one(s3, tmp_path):
    data = _servers.write_dataset(tmp_path / "v1" / "data.msgpack", 30, prefix="old")
    url = s3.upload(data, "changing")
    assert open_url(url, tmp_path, s3.options, cache="full")[0]["key"] == "old0000"
    s3.upload(_servers.write_dataset(tmp_path / "v2" / "data.msgpack", 40, prefix="new"), "changing")
    reader = open_url(url, tmp_path, s3.options)
    assert not reader.cached and len(reader) == 40
    assert [s["key"] for s in reader][:2] == ["new0000", "new0001"]


def test_the_cache_limit_evicts_the_least_recently_used_data(s3, tmp_path):
    a = _servers.write_dataset(tmp_path / "a" / "a.msgpack", 100, prefix="a")
    b = _servers.write_dataset(tmp_path / "b" / "b.msgpack", 100, prefix="b")
    url_a, url_b = s3.upload(a, "lru"), s3.upload(b, "lru")
    index = sum(f.stat().st_size for f in _servers.dataset_files(a)[1:] if f.exists())
    limit = a.stat().st_size + b.stat().st_size + 2 * index - 1  # both data files do not fit
    first = open_url(url_a, tmp_path, s3.options, cache="full", cache_limit=limit)
    assert first.cached
    second = open_url(url_b, tmp_path, s3.options, cache="full", cache_limit=limit)
    assert second.cached and second.path.exists()
    assert not first.path.exists()  # the older dataset's data went …
    assert first.path.with_name("a.msgpack.keys").exists()  # … its index stayed
    assert not open_url(url_a, tmp_path, s3.options, cache_limit=limit).cached
    with pytest.raises(ValueError, match="cache_limit"):
        open_url(url_a, tmp_path / "tiny", s3.options, cache="full", cache_limit=1000)
    tiny = open_url(url_a, tmp_path / "tiny", s3.options, cache_limit=1000)
    assert len(list(tiny)) == 100 and not tiny.cached
    assert not list(tiny.path.parent.glob(".*.part"))


# --- retries and errors ---


@pytest.mark.parametrize("status", [503, 500, 429])
def test_transient_http_errors_are_retried(http_server, source, local, tmp_path, status):
    url = _servers.publish_http(http_server, source, fail_times=2, fail_status=status)
    reader = open_url(url, tmp_path, cache="index")
    assert packed(reader) == packed(local)
    statuses = [r.status for r in http_server.requests_for(f"/d/{source.name}") if r.method == "GET"]
    assert statuses.count(status) == 2 and statuses[-1] == 206


def test_a_dropped_connection_is_retried(http_server, source, local, tmp_path):
    url = _servers.publish_http(http_server, source, drop_after=500, drop_times=2)
    reader = open_url(url, tmp_path, cache="index", block_size=4000)
    assert list(reader.iter(0, raw=True)) == list(local.iter(0, raw=True))
    gets = [r for r in http_server.requests_for(f"/d/{source.name}") if r.method == "GET"]
    assert len(gets) == reader.requests + 2


def test_a_server_ignoring_range_still_reads_right(http_server, source, local, tmp_path):
    url = _servers.publish_http(http_server, source, ranges=False)
    reader = open_url(url, tmp_path, block_size=1000)
    assert list(reader.iter(0, raw=True)) == list(local.iter(0, raw=True))
    assert packb(reader[77]) == packb(local[77])
    assert reader.cached  # downloaded once (tests/faults/test_untrusted_remote.py counts the bytes)
    never = open_url(url, tmp_path / "index", cache="index")
    with pytest.raises(RemoteError, match="ignores HTTP Range requests"):
        never.get(77)


def test_transient_errors_past_the_retries_name_the_url(http_server, source, tmp_path):
    url = _servers.publish_http(http_server, source, fail_times=100, fail_status=503)
    reader = open_url(url, tmp_path, cache="index", retries=2)
    with pytest.raises(RemoteError, match=r"train\.msgpack.*data file.*3 attempts.*503") as info:
        reader.get(0)
    assert url in str(info.value) and "\n" not in str(info.value)
    assert len([r for r in http_server.requests_for(f"/d/{source.name}") if r.method == "GET"]) == 3


def test_permanent_errors_raise_at_once_naming_the_url(http_server, s3, source, tmp_path):
    url = _servers.publish_http(http_server, source, fail_times=100, fail_status=403)
    reader = open_url(url, tmp_path, cache="index")
    with pytest.raises(PermissionError, match="access denied") as info:
        reader.get(0)
    assert url in str(info.value)
    assert len([r for r in http_server.requests_for(f"/d/{source.name}") if r.method == "GET"]) == 1  # not retried
    missing = http_server.url("/nowhere/train.msgpack")
    with pytest.raises(FileNotFoundError, match="not found") as info:
        open_url(missing, tmp_path)
    assert missing in str(info.value)
    with pytest.raises(FileNotFoundError, match=f"s3://{s3.bucket}/nothing/here.msgpack"):
        open_url(f"s3://{s3.bucket}/nothing/here.msgpack", tmp_path, s3.options)


def test_a_damaged_remote_index_is_refused(http_server, source, tmp_path):
    url = _servers.publish_http(http_server, source, "/bad")
    keys = source.name + ".keys"
    http_server.add(f"/bad/{keys}", source.with_name(keys).read_bytes()[:-1] + b"\x00")
    from dings.format import CorruptIndexError

    with pytest.raises(CorruptIndexError, match=r"train\.msgpack\.keys: md5 mismatch"):
        open_url(url, tmp_path)


def test_a_legacy_dataset_without_md5_is_read(http_server, local, source, tmp_path):
    mapping = dict(zip(local.keys, local.offsets[:-1]))
    http_server.add("/legacy/train.msgpack", source.read_bytes())
    http_server.add("/legacy/train.msgpack.index", msgpack.packb(mapping, use_bin_type=True))
    with pytest.warns(UserWarning, match="no md5 file"):
        reader = open_url(http_server.url("/legacy/train.msgpack"), tmp_path)
    assert len(reader) == N and reader.find_index("s0010") == 10
    assert packed(reader) == packed(local) and not reader.cached  # nothing unverified is cached
    assert not reader.verify_data()


# --- processes ---


def test_a_pickled_reader_reads_the_same(s3, s3_url, local, tmp_path):
    for mode in ("index", "full"):
        reader = open_url(s3_url, tmp_path / mode, s3.options, cache=mode)
        reader.get(1)
        clone = pickle.loads(pickle.dumps(reader))
        assert clone.cached == (mode == "full")
        assert packed(clone.slice(0, 20)) == packed(local.slice(0, 20))


def test_a_reader_works_in_a_forked_child_and_only_the_parent_caches(s3, s3_url, local, tmp_path):
    import multiprocessing

    reader = open_url(s3_url, tmp_path, s3.options)
    reader.get(0)  # the parent's filesystem and its partial copy of the data exist before the fork
    parts = list(reader.path.parent.glob(".*.part"))
    assert len(parts) == 1
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        keys, cached, child_parts = pool.apply(_child_pass, (reader,))
    assert keys == list(local.keys)
    assert not cached and child_parts == parts  # the child read everything but stored nothing
    assert list(reader.path.parent.glob(".*.part")) == parts  # and left the parent's copy alone
    assert packed(reader) == packed(local) and reader.cached


def _child_pass(reader) -> tuple[list[str], bool, list[Path]]:
    keys = [s["key"] for s in reader]
    return keys, reader.cached, list(reader.path.parent.glob(".*.part"))


def test_an_unfinished_copy_is_removed_when_the_reader_closes(s3, s3_url, tmp_path):
    reader = open_url(s3_url, tmp_path, s3.options)
    list(reader.iter(0, 10))
    folder = reader.path.parent
    assert len(list(folder.glob(".*.part"))) == 1
    reader.close()
    assert not list(folder.glob(".*.part")) and not reader.path.exists()
    dropped = open_url(s3_url, tmp_path, s3.options)
    dropped.get(3)
    del dropped
    assert not list(folder.glob(".*.part"))


def test_without_fsspec_a_url_names_the_extra(tmp_path):
    code = textwrap.dedent(
        """
        import importlib.abc, sys

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "fsspec":
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
                return None

        sys.meta_path.insert(0, Block())
        from dings.readers import MsgpackReader
        assert "fsspec" not in sys.modules
        try:
            MsgpackReader("s3://bucket/train.msgpack", cache_dir=sys.argv[1])
        except ImportError as exc:
            print(exc)
        """
    )
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
    assert 'pip install "dings-readers[remote]"' in result.stdout, result.stderr


# --- several shards ---


def test_sharded_reader_over_a_url_glob_and_a_url_list(s3, http_server, tmp_path):
    from dings.readers import ShardedReader

    shards = [
        _servers.write_dataset(tmp_path / "src" / f"part-{i}.msgpack", 20 + i, prefix=f"p{i}-") for i in (1, 2, 10)
    ]
    for shard in shards:
        s3.upload(shard, "shards")
    s3.fs.pipe_file(f"{s3.bucket}/shards/notes.txt", b"not a shard")
    local = ShardedReader(str(tmp_path / "src" / "part-*.msgpack"))
    remote = ShardedReader(
        f"s3://{s3.bucket}/shards/part-*.msgpack",
        storage_options=s3.options,
        cache_dir=tmp_path / "c",
        cache="index",
        **FAST,
    )
    assert [s.url.rsplit("/", 1)[1] for s in remote.shards] == [
        "part-1.msgpack",
        "part-2.msgpack",
        "part-10.msgpack",
    ]  # natural order
    assert len(remote) == len(local) == 21 + 22 + 30
    assert packed(remote) == packed(local)
    assert remote.find_index("p10-0003") == local.find_index("p10-0003")
    runs = [(70, 73), (10, 30), (0, 1), (40, 46)]  # (10, 30) spans part-1 and part-2
    assert remote.fetches_concurrently and not local.fetches_concurrently
    assert [packed(run) for run in remote.read_runs(runs)] == [packed(run) for run in local.read_runs(runs)]
    assert [packed(run) for run in local.read_runs(runs)] == [packed(local.slice(a, b)) for a, b in runs]
    urls = [_servers.publish_http(http_server, shard, "/s") for shard in shards]
    over_http = ShardedReader(urls, cache_dir=tmp_path / "c", **FAST)
    assert packed(over_http.slice(15, 50)) == packed(local.slice(15, 50))
    with pytest.raises(FileNotFoundError, match="no .msgpack file matches"):
        ShardedReader(f"s3://{s3.bucket}/shards/none-*.msgpack", storage_options=s3.options, cache_dir=tmp_path / "c")
