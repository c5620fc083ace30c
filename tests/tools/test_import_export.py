"""dings.tools.export_*: other tools read the output, and import → export → import gives the same samples."""

from __future__ import annotations

import io

import numpy as np
import pytest

from dings.format import FileWriter, load_label_names, write_label_names
from dings.readers import MsgpackReader
from dings.tools import ExportError, export, export_folder, export_webdataset, import_folder, import_source


def jpeg(value: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.full((5, 5, 3), value % 256, dtype=np.uint8)).save(out, format="JPEG")
    return out.getvalue()


def read(path) -> list[dict]:
    with MsgpackReader(path) as reader:
        return list(reader)


def same(a: list[dict], b: list[dict]) -> bool:
    """Samples equal, arrays compared by dtype, shape and values."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if sorted(x) != sorted(y):
            return False
        for name, value in x.items():
            other = y[name]
            if isinstance(value, np.ndarray):
                if not (isinstance(other, np.ndarray) and value.dtype == other.dtype and np.array_equal(value, other)):
                    return False
            elif type(value) is not type(other) or value != other:
                return False
    return True


@pytest.fixture
def rich(tmp_path):
    """A dataset with images, labels and names, and extra fields of several types (keys with dots)."""
    path = tmp_path / "rich.msgpack"
    with FileWriter(path, progress=False) as writer:
        for i in range(23):
            writer.write(
                {
                    "key": f"group{i % 2}/item.{i:03d}.jpg" if i % 3 else f"plain{i}",
                    "image": jpeg(i),
                    "label": i % 4,
                    "caption": f"caption {i}",
                    "embedding": np.arange(3, dtype=np.float32) * i,
                    "grid": np.full((2, 2), i, dtype=np.int16),
                    "score": i / 7,
                    "blob": bytes([i, i]),
                }
            )
    write_label_names(path, ["w", "x", "y", "z"])
    return path


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    for i in range(12):
        folder = root / ["cat", "dog", "eel"][i % 3]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i:02d}.jpg").write_bytes(jpeg(i))
    (root / "zebra").mkdir()  # an empty class
    return root


def test_webdataset_round_trip_and_the_webdataset_package_reads_it(rich, tmp_path):
    wds = pytest.importorskip("webdataset")
    shards = export_webdataset(rich, tmp_path / "wds" / "rich.tar", shard_size=10, progress=False)
    assert [p.name for p in shards] == ["rich-000000.tar", "rich-000001.tar", "rich-000002.tar"]
    import_source(
        str(tmp_path / "wds" / "rich-{000000..000002}.tar"),
        tmp_path / "back.msgpack",
        labels=["w", "x", "y", "z"],
        progress=False,
    )
    assert same(read(rich), read(tmp_path / "back.msgpack"))
    assert load_label_names(tmp_path / "back.msgpack") == ["w", "x", "y", "z"]
    loaded = list(wds.WebDataset([str(p) for p in shards], shardshuffle=False).decode("rgb8"))
    assert len(loaded) == 23
    assert loaded[0]["jpg"].shape == (5, 5, 3) and loaded[0]["cls"] == 0 and loaded[0]["caption.txt"] == "caption 0"
    assert np.array_equal(loaded[5]["embedding.npy"], np.arange(3, dtype=np.float32) * 5)
    # exporting again to fewer shards removes the stale ones, and the bytes repeat
    first = shards[0].read_bytes()
    assert (
        export_webdataset(rich, tmp_path / "wds" / "rich.tar", shard_size=20, overwrite=True, progress=False)
        == shards[:2]
    )
    assert not shards[2].exists() and shards[0].read_bytes()[:10240] == first[:10240]


def test_parquet_round_trip_readable_by_pyarrow_and_datasets(rich, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    [path] = export(rich, tmp_path / "rich.parquet", "parquet", progress=False)
    table = pq.read_table(path)
    assert table.num_rows == 23 and table.column_names == [
        "key",
        "image",
        "label",
        "caption",
        "embedding",
        "grid",
        "score",
        "blob",
    ]
    assert table.column("image")[4].as_py() == {"bytes": jpeg(4), "path": None}  # a Hugging Face Image
    import_source(path, tmp_path / "back.msgpack", progress=False)
    assert same(read(rich), read(tmp_path / "back.msgpack"))
    assert load_label_names(tmp_path / "back.msgpack") == ["w", "x", "y", "z"]
    datasets = pytest.importorskip("datasets")
    loaded = datasets.Dataset.from_parquet(str(path), cache_dir=str(tmp_path / "cache"))
    assert len(loaded) == 23 and loaded[3]["key"] == "plain3" and loaded[3]["label"] == 3


def test_folder_round_trip(tree, tmp_path):
    import_folder(tree, tmp_path / "a.msgpack", progress=False)
    out = export_folder(tmp_path / "a.msgpack", tmp_path / "exported", progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["cat", "dog", "eel", "labels.json", "zebra"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.jpg")) == sorted(
        p.relative_to(tree).as_posix() for p in tree.rglob("*.jpg")
    )
    import_folder(out, tmp_path / "b.msgpack", progress=False)
    assert same(read(tmp_path / "a.msgpack"), read(tmp_path / "b.msgpack"))
    assert load_label_names(tmp_path / "b.msgpack") == ["cat", "dog", "eel", "zebra"]


def test_folder_export_of_other_keys_and_the_round_trips_of_its_import(rich, tmp_path):
    out = export_folder(rich, tmp_path / "exported", progress=False)
    assert (out / "x" / "group1" / "item.001.jpg").read_bytes() == jpeg(1)
    assert (out / "w" / "plain0.jpg").read_bytes() == jpeg(0)
    import_folder(out, tmp_path / "a.msgpack", progress=False)
    for to, target in (("webdataset", "a.tar"), ("parquet", "a.parquet"), ("folder", "a_folder")):
        export(tmp_path / "a.msgpack", tmp_path / target, to, progress=False)
        import_source(str(tmp_path / target), tmp_path / f"{to}.msgpack", labels=["w", "x", "y", "z"], progress=False)
        assert same(read(tmp_path / "a.msgpack"), read(tmp_path / f"{to}.msgpack")), to


def test_export_errors_leave_nothing(tmp_path):
    path = tmp_path / "d.msgpack"
    with FileWriter(path, progress=False) as writer:
        writer.write({"key": "ok", "image": jpeg(1), "label": 0})
        writer.write({"key": "../escape", "image": jpeg(2), "label": 0})
        writer.write({"key": "noimage", "label": 0})
    with pytest.raises(ExportError, match=r"sample '\.\./escape': .* not a safe relative path"):
        export_folder(path, tmp_path / "out", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("d.msgpack")) == []
    with FileWriter(path, progress=False, overwrite=True) as writer:
        writer.write({"key": "a", "image": jpeg(1), "odd.name": 1})
    with pytest.raises(ExportError, match=r"sample 'a': field 'odd\.name'"):
        export_webdataset(path, tmp_path / "x.tar", progress=False)
    assert not (tmp_path / "x.tar").exists()
    (tmp_path / "exists.tar").write_bytes(b"old")
    with pytest.raises(FileExistsError):
        export(path, tmp_path / "exists.tar", "webdataset", progress=False)
    assert (tmp_path / "exists.tar").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("d.msgpack")) == ["exists.tar"]
