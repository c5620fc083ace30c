"""ZipFileReader: the directory reader's patterns over ZIP members, read in place and lazily."""

from __future__ import annotations

import copy
import multiprocessing
import pickle
import zipfile

import pytest

from dings.format import unpackb
from dings.readers import ListReader, ZipFileReader
from dings.readers.labels import UnknownLabelError

MEMBERS = {  # in natural order, so the archive's order is also the sorted order
    "__MACOSX/cat/._a.jpg": b"resource fork",
    ".hidden/x.jpg": b"hidden",
    "cat/a.jpg": b"A",
    "cat/b.txt": b"B",
    "cat/sub/deep.jpg": b"DEEP",
    "dog/c.jpg": b"C",
    "extra/cat/f.jpg": b"F",
    "img2/e.jpg": b"E",
    "img10/d.jpg": b"D",
    "top.txt": b"not in a label directory",
}


@pytest.fixture
def archive(tmp_path):
    path = tmp_path / "data.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("cat/"), b"")  # an explicit directory entry is not a sample
        for name, content in MEMBERS.items():
            z.writestr(name, content)
    return path


def keys(reader):
    return [s["key"] for s in reader]


def files_on_disk(directory):
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*"))


# --- patterns ---


def test_default_pattern_labels_members_by_their_top_level_directory(archive):
    reader = ZipFileReader(archive)
    assert keys(reader) == [  # names starting with "." are skipped, as by glob
        "cat/a.jpg",
        "cat/b.txt",
        "cat/sub/deep.jpg",
        "dog/c.jpg",
        "extra/cat/f.jpg",
        "img2/e.jpg",
        "img10/d.jpg",
    ]
    assert reader.labels == ["cat", "dog", "extra", "img2", "img10"]
    assert reader[0] == {
        "key": "cat/a.jpg",
        "label": 0,
        "path": "cat/a.jpg",
        "_additional_info": [],
        "_label": "cat",
        "data": b"A",
    }


def test_patterns_below_a_fixed_directory_and_with_a_file_pattern(archive):
    reader = ZipFileReader(str(archive), "extra/{LABEL}/*")
    assert [(s["key"], s["path"], s["_label"]) for s in reader] == [("cat/f.jpg", "extra/cat/f.jpg", "cat")]
    assert keys(ZipFileReader(archive, ["{LABEL}/*.jpg"])) == ["cat/a.jpg", "dog/c.jpg", "img2/e.jpg", "img10/d.jpg"]
    assert keys(ZipFileReader(archive, "*.txt")) == ["top.txt"]
    assert all("label" not in s for s in ZipFileReader(archive, "*.txt"))


def test_numeric_labels_false_and_explicit_labels(archive, tmp_path):
    reader = ZipFileReader(archive, "{LABEL}/*.jpg", numeric_labels=False)
    assert [s["label"] for s in reader] == ["cat", "dog", "img2", "img10"]
    (tmp_path / "labels.txt").write_text("img10\nimg2\ndog\ncat\n", encoding="utf-8")
    for labels in (["img10", "img2", "dog", "cat"], tmp_path / "labels.txt"):
        assert [s["label"] for s in ZipFileReader(archive, "{LABEL}/*.jpg", labels=labels)] == [3, 2, 1, 0]
    with pytest.raises(UnknownLabelError, match="has label 'img10'"):
        ZipFileReader(archive, "{LABEL}/*.jpg", labels=["cat", "dog", "img2"])


def test_include_and_exclude_filter_on_member_names(archive):
    assert keys(ZipFileReader(archive, include=["*.txt"])) == ["cat/b.txt"]
    assert keys(ZipFileReader(archive, include=["*.jpg"], exclude=["extra/*", "img*", "*/sub/*"])) == [
        "cat/a.jpg",
        "dog/c.jpg",
    ]
    assert keys(ZipFileReader(archive, "{LABEL}/**/.*")) == ["__MACOSX/cat/._a.jpg"]
    assert keys(ZipFileReader(archive, "{LABEL}/**/.*", exclude=["__MACOSX/*"])) == []


def test_a_file_list_on_disk_names_members_below_root_dir(archive, tmp_path):
    (tmp_path / "extra.tsv").write_text("cat/f.jpg\tcat\n", encoding="utf-8")
    reader = ZipFileReader(archive, [tmp_path / "extra.tsv"], root_dir="extra")
    assert [(s["key"], s["path"], s["_additional_info"], s["data"]) for s in reader] == [
        ("cat/f.jpg", "extra/cat/f.jpg", [], b"F")
    ]
    listing = tmp_path / "list.tsv"
    listing.write_text("dog/c.jpg\tdog\tleft\t3\ncat/a.jpg\tcat\n", encoding="utf-8")
    reader = ZipFileReader(archive, str(listing), exclude=["cat/*"])
    assert [(s["key"], s["_label"], s["_additional_info"], s["data"]) for s in reader] == [
        ("dog/c.jpg", "dog", ["left", "3"], b"C")
    ]


def test_a_listed_member_that_does_not_exist_is_named(archive, tmp_path):
    (tmp_path / "list.tsv").write_text("cat/a.jpg\tcat\ncat/zzz.jpg\tcat\n", encoding="utf-8")
    with pytest.raises(FileNotFoundError, match=r"list.tsv line 2: 'cat/zzz.jpg' is not a member of .*data.zip"):
        ZipFileReader(archive, str(tmp_path / "list.tsv"))


def test_missing_and_broken_archives_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.zip: ZIP file not found"):
        ZipFileReader(tmp_path / "nope.zip")
    (tmp_path / "bad.zip").write_bytes(b"not a zip at all")
    with pytest.raises(zipfile.BadZipFile, match="bad.zip: not a ZIP file"):
        ZipFileReader(tmp_path / "bad.zip")


# --- reading in place, lazily ---


def test_nothing_is_extracted(archive, tmp_path):
    before = files_on_disk(tmp_path)
    with ZipFileReader(archive) as reader:
        assert [s["data"] for s in reader][:2] == [b"A", b"B"]
    assert files_on_disk(tmp_path) == before == ["data.zip"]


def test_members_are_decompressed_only_when_their_sample_is_read(archive, monkeypatch):
    reads = []
    original = zipfile.ZipFile.open

    def counting_open(self, name, *args, **kwargs):
        reads.append(getattr(name, "filename", name))
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", counting_open)
    reader = ZipFileReader(archive, "{LABEL}/*.jpg")
    assert reads == []
    assert reader.get(2)["data"] == b"E"
    assert reads == ["img2/e.jpg"]


def test_convertfun_sees_the_data_and_initfun_may_replace_it(archive):
    reader = ZipFileReader(
        archive,
        "{LABEL}/*.jpg",
        initfun=lambda s: s.update(data=b"mine") if s["key"] == "cat/a.jpg" else None,
        convertfun=lambda s: s.update(data=s["data"].lower()),
    )
    assert [s["data"] for s in reader] == [b"mine", b"c", b"e", b"d"]


# --- copies, pickling, forked workers ---


def test_a_copy_has_its_own_archive_handle_and_position(archive):
    reader = ZipFileReader(archive, "{LABEL}/*.jpg")
    reader.seek(1)
    clone = copy.copy(reader)
    assert clone._zipfile() is not reader._zipfile()
    reader.close()
    assert [s["data"] for s in clone.iter()] == [b"C", b"E", b"D"]
    assert reader.next()["data"] == b"C"  # a closed reader reopens the archive when read again


def test_a_pickled_reader_reopens_the_archive(archive):
    reader = ZipFileReader(archive, "{LABEL}/*.jpg")
    reader[0]
    clone = pickle.loads(pickle.dumps(reader))
    assert [s["data"] for s in clone] == [b"A", b"C", b"E", b"D"]


def _read_all(reader, queue):
    queue.put([s["data"] for s in reader])


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_a_forked_worker_reads_through_its_own_handle(archive):
    reader = ZipFileReader(archive)
    expected = [s["data"] for s in reader]  # the parent's handle is open before the fork
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [context.Process(target=_read_all, args=(reader, queue)) for _ in range(3)]
    for worker in workers:
        worker.start()
    assert [s["data"] for s in reader] == expected  # the parent keeps reading meanwhile
    results = [queue.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert results == [expected] * 3
    assert all(worker.exitcode == 0 for worker in workers)


# --- the Reader API ---


@pytest.fixture
def reader(archive):
    return ZipFileReader(archive, "{LABEL}/*.jpg")


def test_is_a_list_reader(reader):
    assert isinstance(reader, ListReader)


def test_get_negative_index_and_errors(reader):
    assert reader.get(-1)["key"] == "img10/d.jpg"
    assert reader.get(1, yield_key=True) == ("dog/c.jpg", reader[1])
    with pytest.raises(IndexError, match="index -5 out of range"):
        reader.get(-5)
    with pytest.raises(KeyError, match="'cat/zzz.jpg' is not a key"):
        reader.find_index("cat/zzz.jpg")


def test_slices_iteration_and_raw_round_trips(reader):
    assert [s["data"] for s in reader[1:3]] == [b"C", b"E"]
    assert [k for k, _ in reader.iter(2, 4, yield_key=True)] == ["img2/e.jpg", "img10/d.jpg"]
    assert unpackb(reader.get(0, raw=True)) == reader[0]
    assert [unpackb(b)["data"] for b in reader.slice(2, raw=True)] == [b"E", b"D"]


def test_seek_next_membership_and_lookup(reader):
    reader.seek(-1)
    assert reader.next()["data"] == b"D"
    with pytest.raises(StopIteration):
        reader.next()
    reader.seek_key("dog/c.jpg")
    assert unpackb(reader.rawnext())["data"] == b"C"
    assert "img2/e.jpg" in reader and "img2" not in reader
    assert reader.find_index("img10/d.jpg") == 3 and reader.find_key(3) == "img10/d.jpg"


def test_an_empty_archive_iterates_to_nothing(tmp_path):
    zipfile.ZipFile(tmp_path / "empty.zip", "w").close()
    with pytest.warns(UserWarning, match=r"'\{LABEL\}/\*\*' matched no files in .*empty.zip"):
        reader = ZipFileReader(tmp_path / "empty.zip")
    assert len(reader) == 0 and list(reader) == [] and reader[:] == []


# --- compared with datadings 3.4 ---


def test_samples_match_datadings_apart_from_order_and_hidden_names(archive, tmp_path):
    # datadings' ZipFileReader (unlike its DirectoryReader) also matches names starting with "."
    datadings_zip = pytest.importorskip("datadings.reader.zipfile")
    (tmp_path / "list.tsv").write_text("cat/a.jpg\tcat\tx\ty\ndog/c.jpg\tdog\n", encoding="utf-8")
    for args, kwargs in [
        ("{LABEL}/**", {"exclude": [".*", "*/.*"]}),
        (["extra/{LABEL}/*"], {"numeric_labels": False}),
        ([str(tmp_path / "list.tsv")], {}),
    ]:
        theirs = sorted(datadings_zip.ZipFileReader(archive, args, **kwargs), key=lambda s: s["key"])
        ours = sorted(ZipFileReader(archive, args, **kwargs), key=lambda s: s["key"])
        assert ours == theirs
