"""The import pipeline: threads, shuffling, shards, atomic commit, checks, and the label-names sidecar."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest

from dings.format import CorruptIndexError, FileWriter, copy_label_names, load_label_names, write_label_names
from dings.readers import MsgpackReader, ShardedReader
from dings.tools import ImportDataError, import_folder, import_samples, info, shuffle, split


def png(value: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.full((4, 4), value % 256, dtype=np.uint8)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    for i in range(150):
        folder = root / f"class{i % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i:03d}.png").write_bytes(png(i))
    return root


def dataset_bytes(path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.parent.glob(path.name + "*"))}


def keys(path) -> list[str]:
    with MsgpackReader(path) as reader:
        return list(reader.keys)


def test_output_is_byte_identical_for_any_thread_count(tree, tmp_path):
    outputs = {threads: tmp_path / str(threads) / "data.msgpack" for threads in (1, 2, 5)}
    for threads, path in outputs.items():
        import_folder(tree, path, threads=threads, progress=False)
    one = dataset_bytes(outputs[1])
    assert len(one) == 8  # data, 5 index files, per-sample checksums, label names
    assert dataset_bytes(outputs[2]) == one == dataset_bytes(outputs[5])


def test_shuffle_is_a_seeded_permutation(tree, tmp_path):
    import_folder(tree, tmp_path / "plain.msgpack", progress=False)
    import_folder(tree, tmp_path / "a.msgpack", shuffle=True, seed=3, threads=3, progress=False)
    import_folder(tree, tmp_path / "b.msgpack", shuffle=True, seed=3, progress=False)
    import_folder(tree, tmp_path / "c.msgpack", shuffle=True, seed=4, progress=False)
    plain, a = keys(tmp_path / "plain.msgpack"), keys(tmp_path / "a.msgpack")
    assert sorted(a) == plain and a != plain
    assert a == keys(tmp_path / "b.msgpack") != keys(tmp_path / "c.msgpack")


def test_shuffling_a_stream_goes_through_a_temporary_file(tmp_path):
    samples = ({"key": f"k{i}", "value": i} for i in range(50))
    result = import_samples(samples, tmp_path / "s.msgpack", shuffle=True, seed=1, progress=False)
    assert result.samples == 50
    order = keys(tmp_path / "s.msgpack")
    assert sorted(order) == sorted(f"k{i}" for i in range(50)) and order != [f"k{i}" for i in range(50)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"s.msgpack{s}" for s in ("", ".offsets", ".keys", ".key_hashes", ".filter", ".crc32", ".md5")
    )


def test_shards_are_read_by_sharded_reader_and_carry_label_names(tree, tmp_path):
    result = import_folder(tree, tmp_path / "out" / "train.msgpack", shard_size=40, threads=2, progress=False)
    assert [p.name for p in result.paths] == [f"train-{i:05d}.msgpack" for i in range(4)]
    with ShardedReader(str(tmp_path / "out" / "train-*.msgpack")) as reader:
        assert len(reader) == 150
        assert [s["key"] for s in reader] == keys_of_tree(tree)
    assert all(load_label_names(p) == ["class0", "class1", "class2", "class3"] for p in result.paths)


def keys_of_tree(tree) -> list[str]:
    return sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*.png"))


def test_a_failed_import_keeps_the_old_dataset_and_leaves_nothing(tree, tmp_path):
    target = tmp_path / "data.msgpack"
    import_folder(tree, target, progress=False)
    before = dataset_bytes(target)
    broken = tree / "class3" / "zzz.png"
    broken.write_bytes(b"garbage")
    with pytest.raises(ImportDataError, match=r"class3/zzz\.png: unreadable image"):
        import_folder(tree, target, overwrite=True, threads=2, progress=False)
    assert dataset_bytes(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*before, "tree"])
    with pytest.raises(FileExistsError, match="overwrite=True"):
        import_folder(tree, target, exclude=["*zzz*"], progress=False)


def test_import_samples_checks_labels_and_keys(tmp_path):
    with pytest.raises(ImportDataError, match=r"sample 'b': label 2 is outside the class list \(0 … 1"):
        import_samples(
            [{"key": "a", "label": 0}, {"key": "b", "label": 2}],
            tmp_path / "x.msgpack",
            label_names=["n", "m"],
            progress=False,
        )
    with pytest.raises(ImportDataError, match=r"sample 'a': duplicate key 'a'"):
        import_samples([{"key": "a"}, {"key": "a"}], tmp_path / "x.msgpack", progress=False)
    with pytest.raises(ImportDataError, match=r"sample 'a': unreadable image"):
        import_samples([{"key": "a", "image": b"text"}], tmp_path / "x.msgpack", progress=False)
    with pytest.raises(ImportDataError, match=r"sample 'a'.*"):
        import_samples([{"key": "a", "v": object()}], tmp_path / "x.msgpack", progress=False)
    assert not (tmp_path / "x.msgpack").exists()
    import_samples([{"key": "a", "image": b"text"}], tmp_path / "x.msgpack", check_images=False, progress=False)
    assert keys(tmp_path / "x.msgpack") == ["a"]


def test_label_names_sidecar_is_bound_to_the_data(tmp_path):
    import_samples([{"key": "a", "label": 1}], tmp_path / "x.msgpack", label_names=["zero", "one"], progress=False)
    sidecar = tmp_path / "x.msgpack.labels.json"
    assert load_label_names(tmp_path / "x.msgpack") == ["zero", "one"] == load_label_names(tmp_path / "x.msgpack.keys")
    text = sidecar.read_text()
    # the dataset is replaced by another tool, which leaves the names: they are stale
    with FileWriter(tmp_path / "x.msgpack", overwrite=True, progress=False) as writer:
        writer.write({"key": "b", "label": 1})
    assert sidecar.read_text() == text
    with pytest.warns(UserWarning, match="another version"):
        assert load_label_names(tmp_path / "x.msgpack") is None
    # an import without names removes them
    write_label_names(tmp_path / "x.msgpack", ["a", "b"])
    import_samples([{"key": "c", "label": 5}], tmp_path / "x.msgpack", overwrite=True, progress=False)
    assert not sidecar.exists()
    write_label_names(tmp_path / "x.msgpack", ["a", "b"])
    assert load_label_names(tmp_path / "x.msgpack") == ["a", "b"]
    for content in ("[1, 2]", "{not json", '{"label_names": [1]}'):
        sidecar.write_text(content)
        with pytest.raises(CorruptIndexError, match=r"x\.msgpack\.labels\.json: not a label-names file"):
            load_label_names(tmp_path / "x.msgpack")
    with pytest.raises(TypeError):
        write_label_names(tmp_path / "x.msgpack", [1])
    assert load_label_names(tmp_path / "none.msgpack") is None
    assert copy_label_names(tmp_path / "none.msgpack", tmp_path / "x.msgpack") is None


def test_info_shuffle_and_split_keep_the_label_names(tree, tmp_path):
    import_folder(tree, tmp_path / "d.msgpack", progress=False)
    report = info(tmp_path / "d.msgpack", "all", progress=False)
    assert report.label_names == ["class0", "class1", "class2", "class3"]
    assert "0 (class0): 38" in str(report) and report.to_dict()["label_names"] == report.label_names
    shuffle(tmp_path / "d.msgpack", tmp_path / "s.msgpack", seed=random.Random(0).randrange(100), progress=False)
    split(tmp_path / "s.msgpack", [100], [tmp_path / "a.msgpack", tmp_path / "b.msgpack"], progress=False)
    for name in ("s", "a", "b"):
        assert load_label_names(tmp_path / f"{name}.msgpack") == report.label_names
