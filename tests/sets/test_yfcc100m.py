"""YFCC100mReader reads image packs in place, skipping rejects; the shipped metadata loads lazily."""

from __future__ import annotations

import copy
import io
import lzma
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import dings.sets.YFCC100m_counts as meta
from dings.format import packb, unpackb
from dings.readers import QuasiShuffler, Range, Reader, Shuffler
from dings.sets import get
from dings.sets.YFCC100m import RejectedImageError, YFCC100mReader
from dings.sets.YFCC100m_validate import main as validate_main
from dings.sets.YFCC100m_validate import validate_image

from .yfcc100m_fixtures import COUNTS, PACKS, REJECTED, expected_keys, make_packs


@pytest.fixture
def packs(tmp_path):
    return tmp_path / "images", make_packs(tmp_path / "images")


def reader_of(folder, **kwargs):
    kwargs.setdefault("counts", COUNTS)
    kwargs.setdefault("rejected", REJECTED)
    return YFCC100mReader(folder, **kwargs)


def test_iteration_yields_every_kept_image_in_pack_and_member_order(packs):
    folder, images = packs
    keys = expected_keys()
    assert keys == ["0000000001/aa", "0000000001/0c", "000000000a/00", "000000000a/1234abcd", "0000000b00/9"]
    with reader_of(folder) as reader:
        assert isinstance(reader, Reader) and len(reader) == 5
        samples = list(reader)
        assert samples == [{"key": k, "image": images[k]} for k in keys]
        assert [k for k, _ in reader.iter(0, yield_key=True)] == keys
        assert [unpackb(b) for b in reader.iter(0, raw=True)] == samples
        assert reader.slice(1, 4) == samples[1:4]
        assert list(reader.iter(2, 4)) == samples[2:4]


def test_random_access_and_keys_agree_with_iteration(packs):
    folder, images = packs
    keys = expected_keys()
    with reader_of(folder) as reader:
        for index, key in enumerate(keys):
            assert reader.find_key(index) == key
            assert reader.find_index(key) == index
            assert reader[index] == {"key": key, "image": images[key]}
            assert key in reader
        assert reader[-1]["key"] == keys[-1] and reader.find_key(-5) == keys[0]
        assert reader.get(3, yield_key=True) == (keys[3], reader[3])
        assert unpackb(reader.get(0, raw=True)) == reader[0]
        with pytest.raises(KeyError, match="it is a rejected image"):
            reader.find_index("0000000001/ab")
        with pytest.raises(KeyError, match="has no such image"):
            reader.find_index("0000000001/readme.txt")
        with pytest.raises(KeyError, match="pack in the counts"):
            reader.find_index("1111111111/aa")
        assert "00000000ff/01" not in reader
        with pytest.raises(IndexError):
            reader[5]
        reader.seek_key("000000000a/00")
        assert reader.next()["key"] == "000000000a/00"


def test_read_position_follows_iteration(packs):
    folder, _ = packs
    with reader_of(folder) as reader:
        iterator = reader.iter(1)
        assert next(iterator)["key"] == "0000000001/0c"
        iterator.close()
        assert reader.next()["key"] == "000000000a/00"
        assert [s["key"] for s in reader.iter()] == expected_keys()[3:]
        with pytest.raises(StopIteration):
            reader.next()
        reader.seek(2)  # a loop starts at the read position, and at the end starts over (datadings)
        assert [s["key"] for s in reader] == expected_keys()[2:]
        assert [s["key"] for s in reader] == expected_keys()


def test_augments_see_a_normal_reader(packs):
    folder, _ = packs
    with reader_of(folder) as reader:
        everything = list(reader)
        for augment in (Shuffler(reader, seed=3), QuasiShuffler(reader, buf_size=2, chunk_size=2, seed=3)):
            shuffled = list(augment)
            assert sorted(shuffled, key=lambda s: s["key"]) == sorted(everything, key=lambda s: s["key"])
            assert [augment.find_key(i) for i in range(len(augment))] == [s["key"] for s in shuffled]
        assert list(Range(reader, 1, 3)) == everything[1:3]


def test_counting_the_packs_present_and_reading_without_rejects(packs):
    folder, images = packs
    with reader_of(folder, counts=None) as counted, reader_of(folder) as listed:
        assert list(counted) == list(listed)
    with reader_of(folder, rejected=None) as everything:
        assert [s["key"] for s in everything] == [f"{s}/{n}" for s in sorted(PACKS) for n in PACKS[s]]
        assert [s["image"] for s in everything] == [images[s["key"]] for s in everything]
    (folder / "0000000b00.zip").unlink()
    with reader_of(folder, counts=None) as fewer:
        assert [s["key"] for s in fewer] == expected_keys()[:-1]


def test_reject_files_msgpack_and_text_are_merged(packs, tmp_path):
    folder, _ = packs
    binary = tmp_path / "rejects.msgpack.xz"
    binary.write_bytes(lzma.compress(packb({"0000000001": [1], "00000000ff": [0, 1]})))
    text = tmp_path / "more.txt"
    text.write_text("000000000a 3\n\n000000000a 0\n")
    with reader_of(folder, rejected=[binary, text]) as reader:
        assert [s["key"] for s in reader] == expected_keys()
    with reader_of(folder, rejected=text) as reader:
        assert len(reader) == 10 - 2


def test_validator_rejects_are_skipped_logged_and_refused_by_index(packs, tmp_path):
    folder, images = packs
    bad = {"0000000001/0c", "0000000b00/9"}
    log = tmp_path / "errors.txt"

    def validator(data: bytes) -> bytes | None:
        return None if any(images[k] == data for k in bad) else data[::-1]

    with reader_of(folder, validator=validator, error_file=log) as reader:
        kept = list(reader)
        assert [s["key"] for s in kept] == ["0000000001/aa", "000000000a/00", "000000000a/1234abcd"]
        assert kept[0]["image"] == images["0000000001/aa"][::-1]
        assert log.read_text() == "0000000001 2\n0000000b00 0\n"
        assert [k for k, _ in reader.iter(0, yield_key=True)] == [s["key"] for s in kept]
        assert reader.slice(0, 3) == kept[:2]
        with pytest.raises(RejectedImageError, match=r"0000000001/0c \(index 1\): rejected by the validator"):
            reader[1]
        reader.seek(0)
        assert [reader.next()["key"] for _ in range(3)] == [s["key"] for s in kept]
        with pytest.raises(StopIteration):
            reader.next()
    # the log is a reject list: reading with it leaves the same images out
    with reader_of(folder, rejected=log) as again:
        assert "0000000001/0c" not in again and "0000000b00/9" not in again
    with pytest.raises(TypeError, match="validator must be callable"):
        reader_of(folder, validator="yes")


def test_copies_and_pickles_read_independently(packs):
    folder, _ = packs
    with reader_of(folder) as reader:
        assert reader[4]["key"] == "0000000b00/9"  # leaves a pack open
        clone = copy.copy(reader)
        restored = pickle.loads(pickle.dumps(reader))
        reader.next()
        assert clone.next()["key"] == restored.next()["key"] == "0000000001/aa"
        assert list(clone) == list(restored) == list(reader)
        clone.close()
        restored.close()
        assert "5 samples" in repr(reader)


def test_missing_and_damaged_packs_are_named(packs, tmp_path):
    folder, _ = packs
    (folder / "000000000a.zip").unlink()
    with pytest.raises(
        FileNotFoundError, match=r"1 of the 4 image packs in the counts are missing \(e.g. 000000000a.zip\)"
    ):
        reader_of(folder)
    with pytest.raises(FileNotFoundError, match="no such folder"):
        reader_of(tmp_path / "nowhere")
    (folder / "000000000a.zip").write_bytes(b"PK\x03\x04 broken")
    reader = reader_of(folder)
    with pytest.raises(ValueError, match=r"000000000a.zip: not a ZIP file"):
        list(reader)
    with zipfile.ZipFile(folder / "000000000a.zip", "w") as pack:
        pack.writestr("000000000a/00", b"only one image")
    with pytest.raises(ValueError, match=r"000000000a.zip: holds 1 images but the counts say 4"):
        reader[2]
    reader.close()


@pytest.mark.parametrize(
    ("counts", "rejected", "message"),
    [
        ([["0000000001", -1]], {}, "image count -1 of 0000000001"),
        ([["not-a-stem", 1]], {}, "'not-a-stem' is not a zip stem"),
        ([["0000000001", 1], ["0000000001", 2]], {}, "0000000001 is listed twice"),
        ([["0000000001"]], {}, r"expected \[zip stem, image count\] pairs"),
        (COUNTS, {"0000000001": ["x"]}, "rejected images of 0000000001 must be a list of integers"),
        (COUNTS, {"0000000001": [-1]}, "rejected images of 0000000001 must be a list of integers"),
        (COUNTS, {1: [0]}, "zip stem 1 is not a string"),
    ],
)
def test_bad_counts_and_reject_maps_are_refused(packs, counts, rejected, message):
    with pytest.raises(ValueError, match=message):
        YFCC100mReader(packs[0], counts=counts, rejected=rejected)


def test_bad_reject_files_are_refused(packs, tmp_path):
    folder, _ = packs
    (tmp_path / "bad.msgpack").write_bytes(packb([1, 2, 3]))
    (tmp_path / "bad.txt").write_text("0000000001 1\n0000000001 one\n")
    (tmp_path / "junk.msgpack").write_bytes(b"\xc1")
    with pytest.raises(ValueError, match=r"bad.msgpack: expected a msgpack map"):
        reader_of(folder, rejected=tmp_path / "bad.msgpack")
    with pytest.raises(ValueError, match=r"bad.txt line 2: expected '<zip stem> <index>'"):
        reader_of(folder, rejected=tmp_path / "bad.txt")
    with pytest.raises(ValueError, match=r"junk.msgpack: not a msgpack reject map"):
        reader_of(folder, rejected=tmp_path / "junk.msgpack")


PUBLISHED_LIST = Path(__file__).resolve().parents[2] / "packages" / "dings-sets" / "data" / meta.REJECTED_NAME


@pytest.fixture
def published(tmp_path, monkeypatch):
    """$DINGS_DATA in tmp_path, with the published reject list in YFCC100m/ as if downloaded."""
    monkeypatch.setenv("DINGS_DATA", str(tmp_path / "data"))
    (tmp_path / "data" / "YFCC100m").mkdir(parents=True)
    shutil.copyfile(PUBLISHED_LIST, tmp_path / "data" / "YFCC100m" / meta.REJECTED_NAME)
    return tmp_path / "data" / "YFCC100m" / meta.REJECTED_NAME


def test_shipped_counts_and_reject_list(published):
    counts = meta.COUNTS
    assert len(counts) == 9456 and counts == tuple(sorted(counts))
    assert counts[0] == ("00024a73d1", 10000) and counts[-1] == ("fffc4d7220", 6296)
    assert sum(n for _, n in counts) == meta.TOTAL_IMAGES == 94_502_424
    rejected = meta.load_rejected()
    assert rejected is meta.load_rejected(meta.PUBLISHED)  # cached
    assert meta.rejected_file() == published
    assert len(rejected) == 9453 and sum(len(r) for r in rejected.values()) == meta.TOTAL_REJECTED == 2_412_945
    first, last = rejected["00024a73d1"], rejected["fffc4d7220"]
    assert first[:5].tolist() == [54, 63, 73, 120, 129] and int(first[-1]) == 9990 and len(first) == 269
    assert last[:5].tolist() == [10, 28, 56, 94, 144] and int(last[-1]) == 6292 and len(last) == 180
    sizes = dict(counts)
    assert all(int(r.max()) < sizes[stem] for stem, r in rejected.items() if len(r))
    assert meta.TOTAL_IMAGES - meta.TOTAL_REJECTED == get("YFCC100m").splits[0].samples == 92_089_479


def test_default_metadata_needs_every_pack(packs):
    with pytest.raises(
        FileNotFoundError, match=r"9456 of the 9456 image packs in the counts are missing \(e.g. 00024a73d1.zip\)"
    ):
        YFCC100mReader(packs[0])


def test_catalog_entry_has_no_converter():
    info = get("yfcc100m")
    assert info.name == "YFCC100m" and info.converter is None and info.domain == "classification"
    assert set(info.sample_keys) == {"key", "image"}
    assert all(s.manual for s in info.sources)
    assert any("RejectedImageError" in d for d in info.differences)
    with pytest.raises(AttributeError):
        meta.NOT_THERE  # noqa: B018


def jpeg_bytes(pixels: np.ndarray, quality: int = 95) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def padded(data: bytes, size: int) -> bytes:
    """A decodable JPEG of exactly ``size`` bytes (decoders ignore data after the end marker)."""
    assert len(data) <= size
    return data + b"\0" * (size - len(data))


def content(seed: int) -> bytes:
    """A JPEG with 8x8-pixel blocks of random colour: detail that survives decoding at 1/8 scale."""
    blocks = np.random.default_rng(seed).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    return padded(jpeg_bytes(np.kron(blocks, np.ones((8, 8, 1), np.uint8))), 8_000)


def test_validation_rules(tmp_path):
    good = content(0)
    assert len(good) == 8_000 and validate_image(good) == good
    gray = np.full((64, 512), 128, np.uint8)
    assert validate_image(padded(jpeg_bytes(gray), 5_000)) is None  # blank
    gray[:, :8] = np.arange(64)[:, None] * 4  # 1 of 64 scaled columns varies: still blank
    assert validate_image(padded(jpeg_bytes(gray), 5_000)) is None
    gray[:, :32] = np.arange(64)[:, None] * 4  # 4 of 64 (6 %) vary: kept
    assert validate_image(padded(jpeg_bytes(gray), 5_000)) is not None
    gradient = np.tile(np.arange(64, dtype=np.uint8)[:, None] * 4, (1, 64))  # every column varies
    assert validate_image(padded(jpeg_bytes(gradient), 5_000)) is not None
    assert validate_image(padded(jpeg_bytes(np.full((64, 64), 128, np.uint8)), 20_000)) is not None  # big: kept
    assert validate_image(padded(good, 9_218)) is None  # the placeholder size
    assert validate_image(padded(good, 9_219)) is not None
    assert validate_image(jpeg_bytes(gradient)[:2_599]) is None  # too small
    assert validate_image(padded(good[: len(good) // 4], 3_000)) is None  # damaged


def test_validate_packs_writes_a_reject_list_the_reader_accepts(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    good = content(1)
    with zipfile.ZipFile(folder / "00000000aa.zip", "w") as pack:
        pack.writestr("00000000aa/01", good)
        pack.writestr("00000000aa/02", b"tiny")
        pack.writestr("00000000aa/notes.txt", b"ignored")
        pack.writestr("00000000aa/03", padded(jpeg_bytes(np.zeros((32, 32, 3), np.uint8)), 4_000))
        pack.writestr("00000000aa/04", good[::-1])
    assert validate_main([str(folder), "-r", str(tmp_path / "rejects.txt"), "-q"]) == (4, 3)
    assert (tmp_path / "rejects.txt").read_text() == "00000000aa 1\n00000000aa 2\n00000000aa 3\n"
    with YFCC100mReader(folder, counts=None, rejected=tmp_path / "rejects.txt") as reader:
        assert list(reader) == [{"key": "00000000aa/01", "image": good}]
