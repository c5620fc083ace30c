"""check_output_not_input: one rule for outputs that would destroy an input."""

from __future__ import annotations

import os

import pytest

from dings.format import OutputIsInputError, check_output_not_input, dataset_paths, find_overlap


@pytest.fixture
def files(tmp_path):
    (tmp_path / "in").mkdir()
    for name in ("a.msgpack", "a.msgpack.offsets", "x-00003.msgpack"):
        (tmp_path / "in" / name).write_bytes(b"data")
    return tmp_path


def test_the_same_path_a_symlink_or_a_hard_link_is_the_input(files):
    source = files / "in" / "a.msgpack"
    (files / "link").symlink_to(source)
    os.link(source, files / "hard")
    for output in (source, files / "in" / ".." / "in" / "a.msgpack", files / "link", files / "hard"):
        with pytest.raises(OutputIsInputError, match="is also an input"):
            check_output_not_input([output], [source])


def test_folders_overlap_by_containment_in_both_directions(files):
    with pytest.raises(OutputIsInputError, match="contains an input"):
        check_output_not_input([files], [files / "in" / "a.msgpack"])
    with pytest.raises(OutputIsInputError, match="is inside an input"):
        check_output_not_input([files / "in" / "new.msgpack"], [files / "in"])


def test_roots_may_hold_outputs_but_not_be_them(files):
    assert find_overlap([files / "in" / "new.msgpack"], [], roots=[files / "in"]) is None
    assert find_overlap([files], [], roots=[files / "in"]) == (files, files / "in")


def test_an_input_dataset_means_all_its_files(files):
    output = files / "in" / "a.msgpack.offsets"
    with pytest.raises(OutputIsInputError, match=r"a\.msgpack\.offsets: is also an input"):
        check_output_not_input([output], dataset_paths(files / "in" / "a.msgpack"))
    assert find_overlap([files / "in" / "b.msgpack"], dataset_paths(files / "in" / "a.msgpack")) is None


def test_shard_patterns_overlap_files_whose_names_fit(files):
    pattern = str(files / "in" / "x-{index:05d}.msgpack")
    assert find_overlap([pattern], [files / "in" / "x-00003.msgpack"]) is not None
    assert find_overlap([pattern], [files / "in" / "a.msgpack"]) is None
    assert find_overlap([str(files / "in" / "y-{:05d}.msgpack")], [files / "in" / "x-00003.msgpack"]) is None
