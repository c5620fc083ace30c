"""DirectoryReader: {LABEL} globs and file lists over a directory tree, with data read lazily."""

from __future__ import annotations

import copy
import os
import sys

import pytest

from dings.format import DuplicateKeyError, unpackb
from dings.readers import DirectoryReader, ListReader
from dings.readers.labels import UnknownLabelError

FILES = {
    "cat/a.jpg": b"A",
    "cat/b.txt": b"B",
    "cat/sub/deep.jpg": b"DEEP",
    "cat/.DS_Store": b"hidden",
    "dog/c.jpg": b"C",
    "img10/d.jpg": b"D",
    "img2/e.jpg": b"E",
    ".git/x.jpg": b"hidden",
}


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A tree of labelled files; the working directory is its parent so paths stay short."""
    for name, content in FILES.items():
        path = tmp_path / "root" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "root"


def keys(reader):
    return [s["key"] for s in reader]


# --- glob patterns ---


def test_label_pattern_finds_every_file_below_each_label_directory(root):
    reader = DirectoryReader("root/{LABEL}/**")
    assert keys(reader) == ["cat/a.jpg", "cat/b.txt", "cat/sub/deep.jpg", "dog/c.jpg", "img2/e.jpg", "img10/d.jpg"]
    assert reader.labels == ["cat", "dog", "img2", "img10"]
    assert reader[0] == {
        "key": "cat/a.jpg",
        "label": 0,
        "path": os.path.join("root", "cat", "a.jpg"),
        "_additional_info": [],
        "_label": "cat",
        "data": b"A",
    }
    assert [(s["label"], s["_label"]) for s in reader][-2:] == [(2, "img2"), (3, "img10")]


def test_file_pattern_after_label_restricts_depth_and_names(root):
    reader = DirectoryReader(["root/{LABEL}/*.jpg"])
    assert keys(reader) == ["cat/a.jpg", "dog/c.jpg", "img2/e.jpg", "img10/d.jpg"]


def test_names_starting_with_a_dot_match_only_dotted_pattern_components(root):
    assert not any("." in k.split("/")[0] or "DS_Store" in k for k in keys(DirectoryReader("root/{LABEL}/**")))
    assert keys(DirectoryReader("root/{LABEL}/.*")) == ["cat/.DS_Store"]


def test_double_star_before_label_matches_any_depth(root):
    reader = DirectoryReader("root/**/{LABEL}/*.jpg")
    assert [(s["key"], s["_label"]) for s in reader] == [
        ("cat/a.jpg", "cat"),
        ("cat/sub/deep.jpg", "sub"),
        ("dog/c.jpg", "dog"),
        ("img2/e.jpg", "img2"),
        ("img10/d.jpg", "img10"),
    ]


def test_patterns_without_label_give_samples_without_label(root):
    reader = DirectoryReader("root/*/*.jpg")
    assert keys(reader) == ["cat/a.jpg", "dog/c.jpg", "img2/e.jpg", "img10/d.jpg"]
    assert all("label" not in s and "_label" not in s for s in reader)
    assert reader.labels == []


def test_path_objects_and_absolute_patterns(root):
    reader = DirectoryReader([root / "{LABEL}" / "*.jpg"])
    assert reader[0]["path"] == str(root / "cat" / "a.jpg") and reader[0]["key"] == "cat/a.jpg"


def test_several_patterns_are_read_in_the_given_order(root):
    reader = DirectoryReader(["root/img2/*", "root/dog/*"])
    assert keys(reader) == ["e.jpg", "c.jpg"]


def test_the_same_relative_path_from_two_patterns_is_a_duplicate_key(root):
    (root / "more" / "cat").mkdir(parents=True)
    (root / "more" / "cat" / "a.jpg").write_bytes(b"other")
    with pytest.raises(DuplicateKeyError, match=r"'cat/a.jpg' is used by samples 0 and \d+ .*initfun"):
        DirectoryReader(["root/{LABEL}/*.jpg", "root/more/{LABEL}/*.jpg"])
    reader = DirectoryReader(
        ["root/{LABEL}/*.jpg", "root/more/{LABEL}/*.jpg"], initfun=lambda s: s.update(key=s["path"])
    )
    assert len(reader) == 5


@pytest.mark.parametrize(
    "pattern, message",
    [
        ("root/{LABEL}", "must be a directory level"),
        ("root/x{LABEL}/*", "whole directory name"),
        ("root/{LABEL}/{LABEL}/*", "at most one"),
        ("", "empty"),
    ],
)
def test_malformed_label_patterns_are_explained(root, pattern, message):
    with pytest.raises(ValueError, match=message):
        DirectoryReader(pattern)


def test_a_missing_base_directory_is_named(root):
    with pytest.raises(FileNotFoundError, match=r"root/nope: directory not found .*'root/nope/\{LABEL\}/\*'"):
        DirectoryReader("root/nope/{LABEL}/*")


@pytest.mark.skipif(not hasattr(os, "symlink") or sys.platform == "win32", reason="needs symbolic links")
def test_linked_directories_are_followed_but_cycles_are_not(root):
    os.symlink(root / "cat", root / "cat" / "sub" / "loop")
    os.symlink(root / "dog", root / "hund")
    found = keys(DirectoryReader("root/{LABEL}/**"))
    assert "hund/c.jpg" in found and "dog/c.jpg" in found
    assert "cat/sub/loop/a.jpg" not in found


# --- labels and filters ---


def test_numeric_labels_false_keeps_directory_names(root):
    reader = DirectoryReader("root/{LABEL}/*.jpg", numeric_labels=False)
    assert [s["label"] for s in reader] == ["cat", "dog", "img2", "img10"]


def test_explicit_labels_and_label_files(root, tmp_path):
    (tmp_path / "labels.txt").write_text("img10\nimg2\ndog\ncat\n", encoding="utf-8")
    for labels in (["img10", "img2", "dog", "cat"], tmp_path / "labels.txt"):
        reader = DirectoryReader("root/{LABEL}/*.jpg", labels=labels)
        assert [s["label"] for s in reader] == [3, 2, 1, 0]


def test_a_directory_not_among_the_labels_is_named(root):
    with pytest.raises(UnknownLabelError, match=r"key 'img10/d.jpg'\) has label 'img10'"):
        DirectoryReader("root/{LABEL}/*.jpg", labels=["cat", "dog", "img2"])


def test_include_and_exclude_filter_on_the_path(root):
    assert keys(DirectoryReader("root/{LABEL}/**", include=["*.txt"])) == ["cat/b.txt"]
    assert keys(DirectoryReader("root/{LABEL}/**", include=["*.txt", "*/dog/*"])) == ["cat/b.txt", "dog/c.jpg"]
    assert keys(DirectoryReader("root/{LABEL}/**", exclude=["*.jpg"])) == ["cat/b.txt"]
    assert keys(DirectoryReader("root/{LABEL}/**", include=["*.jpg"], exclude=["*/img*", "*/sub/*"])) == [
        "cat/a.jpg",
        "dog/c.jpg",
    ]


# --- file lists ---


def test_a_file_list_gives_paths_labels_and_extra_columns(root, tmp_path):
    listing = tmp_path / "list.tsv"
    listing.write_text("dog/c.jpg\tdog\tbox 1\tleft\n\ncat/a.jpg\tcat\nimg2/e.jpg\n", encoding="utf-8")
    reader = DirectoryReader([listing], root_dir="root")
    assert [(s["key"], s.get("_label"), s["_additional_info"]) for s in reader] == [
        ("dog/c.jpg", "dog", ["box 1", "left"]),
        ("cat/a.jpg", "cat", []),
        ("img2/e.jpg", None, []),
    ]
    assert reader[0]["path"] == os.path.join("root", "dog/c.jpg") and reader[0]["data"] == b"C"
    assert reader.labels == ["cat", "dog"] and [s.get("label") for s in reader] == [1, 0, None]


def test_file_list_separator_absolute_paths_and_filters(root, tmp_path):
    listing = tmp_path / "list.csv"
    listing.write_text(f"{root / 'cat' / 'b.txt'},x\ncat/a.jpg,y\n", encoding="utf-8")
    reader = DirectoryReader(str(listing), separator=",", root_dir=root)
    assert [s["data"] for s in reader] == [b"B", b"A"]  # an absolute path ignores root_dir
    assert keys(DirectoryReader(str(listing), separator=",", root_dir=root, exclude=["*.txt"])) == ["cat/a.jpg"]


def test_file_lists_and_globs_mix(root, tmp_path):
    (tmp_path / "list.tsv").write_text("root/dog/c.jpg\tdog\n", encoding="utf-8")
    reader = DirectoryReader(["list.tsv", "root/{LABEL}/a.jpg"])
    assert keys(reader) == ["root/dog/c.jpg", "cat/a.jpg"]
    assert reader.labels == ["cat", "dog"]


def test_a_file_list_line_without_a_path_is_named(root, tmp_path):
    (tmp_path / "list.tsv").write_text("cat/a.jpg\tcat\n\tdog\n", encoding="utf-8")
    with pytest.raises(ValueError, match="list.tsv line 2: the path column is empty"):
        DirectoryReader("list.tsv")


def test_a_binary_file_given_as_pattern_is_explained(root):
    (root / "blob.bin").write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(ValueError, match="blob.bin: is a file, so it was read as a file list, but it is not UTF-8"):
        DirectoryReader("root/blob.bin")


# --- data is read lazily ---


def test_data_is_read_when_the_sample_is_read_not_before(root):
    reader = DirectoryReader("root/{LABEL}/*.jpg")
    (root / "cat" / "a.jpg").write_bytes(b"changed after the reader was made")
    assert reader[0]["data"] == b"changed after the reader was made"
    (root / "dog" / "c.jpg").unlink()
    with pytest.raises(FileNotFoundError, match=r"sample 1 \(key 'dog/c.jpg'\).*create the reader again") as info:
        reader.get(1)
    assert info.value.filename == os.path.join("root", "dog", "c.jpg")
    assert reader[2]["data"] == b"E"  # other samples are unaffected


def test_initfun_may_provide_data_and_convertfun_sees_it(root):
    reader = DirectoryReader(
        "root/{LABEL}/*.jpg",
        initfun=lambda s: s.update(data=b"from initfun") if s["key"] == "dog/c.jpg" else None,
        convertfun=lambda s: s.update(size=len(s["data"])),
    )
    assert [(s["data"], s["size"]) for s in reader][:2] == [(b"A", 1), (b"from initfun", 12)]


# --- the Reader API ---


@pytest.fixture
def reader(root):
    return DirectoryReader("root/{LABEL}/*.jpg")


def test_is_a_list_reader(reader):
    assert isinstance(reader, ListReader)


def test_get_negative_index_and_errors(reader):
    assert reader.get(-1)["key"] == "img10/d.jpg"
    assert reader.get(0, yield_key=True)[0] == "cat/a.jpg"
    with pytest.raises(IndexError, match="index 4 out of range"):
        reader.get(4)
    with pytest.raises(KeyError, match="'cat/zzz.jpg' is not a key"):
        reader.find_index("cat/zzz.jpg")


def test_slices_iteration_and_keys(reader):
    assert [s["data"] for s in reader[1:3]] == [b"C", b"E"]
    assert [k for k, _ in reader.iter(2, yield_key=True)] == ["img2/e.jpg", "img10/d.jpg"]
    assert [s["data"] for s in reader.iter(-3, -1)] == [b"C", b"E"]
    assert reader.slice(3, yield_key=True)[0][0] == "img10/d.jpg"


def test_raw_round_trip_includes_the_data(reader):
    assert unpackb(reader.get(1, raw=True)) == reader[1]
    assert [unpackb(b)["data"] for b in reader.iter(raw=True)] == [b"A", b"C", b"E", b"D"]


def test_seek_next_membership_and_lookup(reader):
    reader.seek_key("img2/e.jpg")
    assert reader.next()["data"] == b"E"
    assert reader.next()["data"] == b"D"
    with pytest.raises(StopIteration):
        reader.next()
    reader.seek(0)
    assert reader.next()["key"] == "cat/a.jpg"
    assert "dog/c.jpg" in reader and "dog" not in reader
    assert reader.find_index("dog/c.jpg") == 1 and reader.find_key(1) == "dog/c.jpg"


def test_copies_are_independent(reader):
    reader.seek(2)
    clone = copy.copy(reader)
    assert [s["key"] for s in clone.iter()] == ["img2/e.jpg", "img10/d.jpg"]
    assert reader.next()["key"] == "img2/e.jpg"


def test_an_empty_directory_iterates_to_nothing_with_a_warning(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.warns(UserWarning, match="matched no files"):
        reader = DirectoryReader(str(tmp_path / "empty" / "{LABEL}" / "**"))
    assert len(reader) == 0 and list(reader) == [] and reader.labels == []
    assert len(DirectoryReader([])) == 0


def test_an_empty_file_list_iterates_to_nothing(tmp_path):
    (tmp_path / "list.tsv").write_text("", encoding="utf-8")
    assert list(DirectoryReader(str(tmp_path / "list.tsv"))) == []


# --- compared with datadings 3.4 ---


def test_samples_match_datadings_apart_from_order(root, tmp_path):
    directory = pytest.importorskip("datadings.reader.directory")
    (tmp_path / "list.tsv").write_text("cat/a.jpg\tcat\tx\ty\ndog/c.jpg\tdog\n", encoding="utf-8")
    for args, kwargs in [
        (["root/{LABEL}/**"], {}),
        (["root/{LABEL}/*.jpg"], {"numeric_labels": False, "exclude": ["*/dog/*"]}),
        (["list.tsv"], {"root_dir": "root"}),
    ]:
        theirs = sorted(directory.DirectoryReader(args, **kwargs), key=lambda s: s["key"])
        ours = sorted(DirectoryReader(args, **kwargs), key=lambda s: s["key"])
        assert ours == theirs
