"""Damaged data: one clear DamagedDataError naming file, sample and key; never a wrong count."""

from __future__ import annotations

import socket
import threading

import msgpack
import numpy as np
import pytest

from dings.format import DamagedDataError, FileWriter, UnsafeDataError, packb
from dings.readers import MsgpackReader, QuasiShuffler, RemoteError, Shuffler


def write_raw(path, pieces: list[tuple[str, bytes]]):
    """A dataset whose sample bytes are exactly ``pieces`` (crafted, bypassing the sample checks)."""
    with FileWriter(path, progress=False) as writer:
        for key, _ in pieces:
            writer.write({"key": key})
    content = b"".join(piece for _, piece in pieces)
    offsets = np.cumsum([0] + [len(piece) for _, piece in pieces]).astype(">u8")
    path.write_bytes(content)
    path.with_name(path.name + ".offsets").write_bytes(offsets.tobytes())
    return path


def good(i: int) -> bytes:
    return packb({"key": f"k{i}", "i": i})


def nested(depth: int) -> bytes:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return packb({"key": "k1", "deep": value})


CRAFTED = {
    "bad numpy scalar": msgpack.packb(
        {"key": "k1", b"x": {b"nd": False, b"type": "<i4", b"data": b""}}, use_bin_type=True
    ),
    "bad numpy array": msgpack.packb(
        {"key": "k1", "x": {b"nd": True, b"type": "<i4", b"kind": b"", b"shape": [5], b"data": b"ab"}},
        use_bin_type=True,
    ),
    "invalid utf-8": b"\x81\xa3key\xa2\xff\xfe",
    "unhashable map key": b"\x82\xa3key\xa2k1\x80\x01",
    "bad timestamp": b"\x81\xa3key\xd5\xff\x00\x00",
    "nested 5000 deep": b"\x82\xa3key\xa2k1\xa1d" + b"\x91" * 5000 + b"\x01",
    "not a map": packb([1, 2, 3]),
    "truncated": good(1)[:-2] + b"\xc0\xc0",
    "declares 4 GiB": b"\x81\xa3key\xc6\xff\xff\xff\xff",
}


@pytest.fixture(params=sorted(CRAFTED))
def crafted(request, tmp_path):
    return write_raw(tmp_path / "bad.msgpack", [("k0", good(0)), ("k1", CRAFTED[request.param]), ("k2", good(2))])


def test_a_crafted_sample_raises_one_clear_error_on_every_path(crafted):
    with MsgpackReader(crafted) as reader:
        assert reader.get(0)["i"] == 0 and reader.get(2)["i"] == 2 and len(reader) == 3
        for read in (
            lambda: reader.get(1),
            lambda: list(reader),
            lambda: reader.slice(0, 3),
            lambda: reader.read_runs([(0, 2)]),
            lambda: list(Shuffler(reader, seed=1)),
            lambda: list(QuasiShuffler(reader, buf_size=2, chunk_size=2, seed=0)),
        ):
            with pytest.raises(DamagedDataError, match=r"bad\.msgpack: sample 1 \(key 'k1'\) is damaged") as caught:
                read()
            assert (caught.value.index, caught.value.key, str(caught.value.path)) == (1, "k1", str(crafted))


def test_deeply_nested_samples_decode_or_raise_damaged_data(tmp_path):
    path = write_raw(tmp_path / "deep.msgpack", [("k0", good(0)), ("k1", nested(1000))])
    with MsgpackReader(path) as reader:
        sample = reader.get(1)
        depth = 0
        value = sample["deep"]
        while isinstance(value, list):
            value, depth = value[0], depth + 1
        assert depth == 1000 and len(list(reader)) == 2


def test_iteration_yields_exactly_len_samples_or_raises(tmp_path):
    # one damaged length byte: sample 1's 9-byte bin header says 1 byte, so its bytes read as several objects
    piece = bytearray(packb({"key": "k1", "b": b"\x01\x02\x03\x04\x05\x06\x07"}))
    piece[piece.index(b"\xc4\x07") + 1] = 1
    path = write_raw(tmp_path / "d.msgpack", [("k0", good(0)), ("k1", bytes(piece)), ("k2", good(2))])
    with MsgpackReader(path) as reader:
        with pytest.raises(DamagedDataError, match="sample 1"):
            list(reader)
        with pytest.raises(DamagedDataError, match="sample 1"):
            list(reader.iter(0, raw=False))


def test_a_lying_count_in_the_keys_header_changes_nothing_before_it_is_checked(tmp_path):
    path = tmp_path / "d.msgpack"
    with FileWriter(path, progress=False) as writer:
        for i in range(20):
            writer.write({"key": f"k{i}", "i": i})
    keys = path.with_name(path.name + ".keys")
    content = keys.read_bytes()
    keys.write_bytes(b"\xdd\x7f\xff\xff\xff" + content[1:])  # says 2**31 - 1 keys
    with MsgpackReader(path) as reader:
        assert len(reader) == 20
        assert sorted(s["i"] for s in Shuffler(reader, seed=0)) == list(range(20))
        assert sorted(s["i"] for s in QuasiShuffler(reader, buf_size=4, chunk_size=4, seed=0)) == list(range(20))
        with pytest.raises(DamagedDataError, match=r"d\.msgpack\.keys"):
            reader.find_key(3)


def test_object_arrays_are_refused_naming_file_and_sample(tmp_path):
    path = tmp_path / "unsafe.msgpack"
    with FileWriter(path, progress=False, allow_unsafe=True) as writer:
        writer.write({"key": "a", "x": 1})
        writer.write({"key": "b", "x": np.array([{"a": 1}], dtype=object)})
    with MsgpackReader(path) as reader:
        for read in (lambda: reader.get(1), lambda: list(reader)):
            with pytest.raises(UnsafeDataError, match=r"unsafe\.msgpack: sample 1 \(key 'b'\)"):
                read()


def test_verify_names_the_sample_whose_bytes_changed(tmp_path):
    from dings.format import load_offsets, pack_checksums, sample_checksum

    path = tmp_path / "d.msgpack"
    with FileWriter(path, progress=False) as writer:
        for i in range(30):
            writer.write({"key": f"k{i}", "v": b"abcdefgh"})
    content = bytearray(path.read_bytes())
    bounds = load_offsets(path).astype(np.int64).tolist()
    sums = [sample_checksum(bytes(content[a:b])) for a, b in zip(bounds[:-1], bounds[1:])]
    path.with_name(path.name + ".crc32").write_bytes(pack_checksums(sums))
    content[bounds[13] - 2] ^= 0x20  # inside sample 12's value: it still decodes
    path.write_bytes(bytes(content))
    with MsgpackReader(path) as plain:
        assert plain.get(12)["v"] != b"abcdefgh"  # unchecked, the change goes unnoticed
    with MsgpackReader(path, verify=True) as reader:
        assert reader.get(11)["v"] == b"abcdefgh"
        for read in (
            lambda: reader.get(12),
            lambda: list(reader),
            lambda: list(reader.iter(0, raw=True)),
            lambda: reader.read_spans([12]),
        ):
            with pytest.raises(DamagedDataError, match=r"sample 12 \(key 'k12'\).*checksum"):
                read()


class StalledServer:
    """Accepts connections on 127.0.0.1 and never answers (a hung server)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.accepted: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                self.accepted.append(self.sock.accept()[0])
            except OSError:
                continue

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/d/train.msgpack"

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        for conn in self.accepted:
            conn.close()
        self.sock.close()


def test_a_stalled_server_gives_a_clear_error_naming_the_url(tmp_path):
    pytest.importorskip("aiohttp")
    server = StalledServer()
    try:
        with pytest.raises(RemoteError, match=r"127\.0\.0\.1.*train\.msgpack") as caught:
            MsgpackReader(server.url, cache_dir=tmp_path, retries=1, backoff=0.0, connect_timeout=0.5, read_timeout=0.5)
        assert "attempts" in str(caught.value)
    finally:
        server.close()


def test_timeouts_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="timeout"):
        MsgpackReader("http://127.0.0.1:9/x.msgpack", cache_dir=tmp_path, read_timeout=0)
