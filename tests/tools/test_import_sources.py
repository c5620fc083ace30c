"""dings.tools.import_folder / import_list / import_table: what each source becomes, and its errors."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from dings.format import load_label_names
from dings.readers import MsgpackReader
from dings.tools import ImportDataError, detect_source, import_folder, import_list, import_source, import_table


def image_bytes(value: int, fmt: str = "JPEG") -> bytes:
    """A small image whose pixels depend on ``value``."""
    from PIL import Image

    pixels = np.full((6, 6, 3), value % 256, dtype=np.uint8)
    pixels[:3, :, 1] = 255 - value % 256
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format=fmt)
    return out.getvalue()


def make_tree(root, classes=("dog", "cat", "bird"), per_class=3) -> dict[str, bytes]:
    """An ImageFolder tree ``root/class/NN.jpg``; returns relative path → file bytes."""
    files = {}
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            data = image_bytes(10 * c + i)
            (root / name / f"{i:02d}.jpg").write_bytes(data)
            files[f"{name}/{i:02d}.jpg"] = data
    return files


def read(path) -> list[dict]:
    with MsgpackReader(path) as reader:
        return list(reader)


# --- folder ---


def test_imagefolder_labels_from_sorted_class_folders(tmp_path):
    files = make_tree(tmp_path / "tree")
    (tmp_path / "tree" / "empty").mkdir()  # an empty class still counts, as in torchvision
    (tmp_path / "tree" / "cat" / "notes.txt").write_text("not an image")
    (tmp_path / "tree" / ".hidden").mkdir()
    result = import_folder(tmp_path / "tree", tmp_path / "out.msgpack", progress=False)
    assert result.samples == 9 and result.paths == [tmp_path / "out.msgpack"]
    assert result.label_names == ["bird", "cat", "dog", "empty"] == load_label_names(tmp_path / "out.msgpack")
    samples = read(tmp_path / "out.msgpack")
    assert [s["key"] for s in samples] == sorted(files)
    for sample in samples:
        assert sorted(sample) == ["image", "key", "label"]
        assert sample["image"] == files[sample["key"]]  # the file's bytes, not re-encoded
        assert result.label_names[sample["label"]] == sample["key"].split("/")[0]


def test_flat_folder_has_no_labels_and_include_exclude_choose_files(tmp_path):
    root = tmp_path / "flat"
    root.mkdir()
    for i in range(4):
        (root / f"img{i}.png").write_bytes(image_bytes(i, "PNG"))
    (root / "sub").mkdir()
    (root / "sub" / "deep.png").write_bytes(image_bytes(9, "PNG"))
    result = import_folder(root, tmp_path / "a.msgpack", progress=False)
    assert result.label_names is None and load_label_names(tmp_path / "a.msgpack") is None
    assert [s["key"] for s in read(tmp_path / "a.msgpack")] == [
        "img0.png",
        "img1.png",
        "img2.png",
        "img3.png",
        "sub/deep.png",
    ]
    assert all("label" not in s for s in read(tmp_path / "a.msgpack"))
    import_folder(root, tmp_path / "b.msgpack", include=["*.png"], exclude=["sub/*", "*3.png"], progress=False)
    assert [s["key"] for s in read(tmp_path / "b.msgpack")] == ["img0.png", "img1.png", "img2.png"]


def test_folder_with_a_class_list_orders_labels_and_refuses_unknown_classes(tmp_path):
    make_tree(tmp_path / "tree", classes=("dog", "cat"))
    (tmp_path / "classes.txt").write_text("dog\ncat\n")
    result = import_folder(tmp_path / "tree", tmp_path / "out.msgpack", labels=tmp_path / "classes.txt", progress=False)
    assert result.label_names == ["dog", "cat"]
    assert {s["key"].split("/")[0]: s["label"] for s in read(tmp_path / "out.msgpack")} == {"dog": 0, "cat": 1}
    with pytest.raises(ImportDataError, match=r"tree/cat/00\.jpg: label 'cat' is not in the class list"):
        import_folder(tmp_path / "tree", tmp_path / "bad.msgpack", labels=["dog"], progress=False)
    assert not (tmp_path / "bad.msgpack").exists()


def test_folder_errors_name_the_file(tmp_path):
    make_tree(tmp_path / "tree")
    (tmp_path / "tree" / "cat" / "broken.jpg").write_bytes(b"this is no JPEG")
    with pytest.raises(ImportDataError, match=r"cat/broken\.jpg: unreadable image"):
        import_folder(tmp_path / "tree", tmp_path / "out.msgpack", progress=False)
    (tmp_path / "tree" / "cat" / "broken.jpg").unlink()
    (tmp_path / "tree" / "loose.jpg").write_bytes(image_bytes(1))
    with pytest.raises(ImportDataError, match=r"loose\.jpg: a file outside the class folders"):
        import_folder(tmp_path / "tree", tmp_path / "out.msgpack", layout="imagefolder", progress=False)
    with pytest.raises(ImportDataError, match="no files to import"):
        import_folder(tmp_path / "tree", tmp_path / "out.msgpack", include=["*.none"], progress=False)
    with pytest.raises(NotADirectoryError):
        import_folder(tmp_path / "missing", tmp_path / "out.msgpack", progress=False)
    assert not (tmp_path / "out.msgpack").exists()


def test_recompress_turns_images_into_jpegs(tmp_path):
    root = tmp_path / "flat"
    root.mkdir()
    (root / "a.png").write_bytes(image_bytes(3, "PNG"))
    import_folder(root, tmp_path / "out.msgpack", recompress=80, progress=False)
    assert read(tmp_path / "out.msgpack")[0]["image"][:3] == b"\xff\xd8\xff"


# --- list ---


def test_csv_list_with_labels_and_extra_columns(tmp_path):
    files = make_tree(tmp_path / "images", classes=("a", "b"), per_class=2)
    rows = ["path,label,caption"] + [f"{p},{p.split('/')[0]},text {i}" for i, p in enumerate(sorted(files))]
    (tmp_path / "list.csv").write_text("\n".join(rows) + "\n")
    result = import_list(tmp_path / "list.csv", tmp_path / "out.msgpack", root=tmp_path / "images", progress=False)
    assert result.label_names == ["a", "b"]
    samples = read(tmp_path / "out.msgpack")
    assert samples[1] == {"key": "a/01.jpg", "label": 0, "caption": "text 1", "image": files["a/01.jpg"]}
    assert [s["label"] for s in samples] == [0, 0, 1, 1]


def test_tsv_and_jsonl_lists_relative_to_the_list_file(tmp_path):
    files = make_tree(tmp_path, classes=("x",), per_class=3)
    (tmp_path / "list.tsv").write_text("file\tlabel\n" + "".join(f"{p}\t{i}\n" for i, p in enumerate(sorted(files))))
    import_list(tmp_path / "list.tsv", tmp_path / "tsv.msgpack", progress=False)
    assert [s["label"] for s in read(tmp_path / "tsv.msgpack")] == [0, 1, 2]  # digits stay numbers, no names
    assert load_label_names(tmp_path / "tsv.msgpack") is None
    lines = [
        json.dumps({"key": f"k{i}", "path": p, "label": i % 2, "box": [i, i + 1]}) for i, p in enumerate(sorted(files))
    ]
    (tmp_path / "list.jsonl").write_text("\n".join(lines) + "\n")
    import_list(tmp_path / "list.jsonl", tmp_path / "json.msgpack", progress=False)
    samples = read(tmp_path / "json.msgpack")
    assert [s["key"] for s in samples] == ["k0", "k1", "k2"]
    assert samples[2]["box"] == [2, 3] and samples[2]["label"] == 0 and samples[2]["image"] == files[sorted(files)[2]]


def test_list_errors_name_file_and_row(tmp_path):
    make_tree(tmp_path, classes=("x",), per_class=2)
    (tmp_path / "nopath.csv").write_text("name,label\nx/00.jpg,0\n")
    with pytest.raises(ImportDataError, match=r"nopath\.csv: no path column"):
        import_list(tmp_path / "nopath.csv", tmp_path / "out.msgpack", progress=False)
    (tmp_path / "dup.csv").write_text("path\nx/00.jpg\nx/01.jpg\nx/00.jpg\n")
    with pytest.raises(ImportDataError, match=r"dup\.csv row 3 .*duplicate key 'x/00\.jpg'"):
        import_list(tmp_path / "dup.csv", tmp_path / "out.msgpack", progress=False)
    (tmp_path / "missing.csv").write_text("path\nx/00.jpg\nx/nothere.jpg\n")
    with pytest.raises(ImportDataError, match=r"missing\.csv row 2: .*nothere\.jpg: cannot read the file"):
        import_list(tmp_path / "missing.csv", tmp_path / "out.msgpack", progress=False)
    (tmp_path / "label.csv").write_text("path,label\nx/00.jpg,cat\nx/01.jpg,dog\n")
    with pytest.raises(ImportDataError, match=r"label\.csv row 2: label 'dog' is not in the class list"):
        import_list(tmp_path / "label.csv", tmp_path / "out.msgpack", labels=["cat"], progress=False)
    (tmp_path / "bad.jsonl").write_text('{"path": "x/00.jpg"}\n[1, 2]\n')
    with pytest.raises(ImportDataError, match=r"bad\.jsonl:2: not a JSON object"):
        import_list(tmp_path / "bad.jsonl", tmp_path / "out.msgpack", progress=False)
    with pytest.raises(ImportDataError, match="no column 'nope'"):
        import_list(tmp_path / "label.csv", tmp_path / "out.msgpack", key_column="nope", progress=False)
    assert not (tmp_path / "out.msgpack").exists()


# --- table ---


def test_parquet_table_columns_become_fields(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    images = [image_bytes(i) for i in range(5)]
    table = pa.table(
        {
            "image": pa.array(images, pa.binary()),
            "label": ["dog", "cat", "dog", "bird", "cat"],
            "blob": pa.array([bytes([i]) for i in range(5)], pa.binary()),
            "embedding": pa.array([[float(i), 0.5] for i in range(5)], pa.list_(pa.float32())),
            "score": [0.1 * i for i in range(5)],
        }
    )
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=2)
    result = import_table(tmp_path / "t.parquet", tmp_path / "out.msgpack", threads=2, progress=False)
    assert result.label_names == ["bird", "cat", "dog"]
    samples = read(tmp_path / "out.msgpack")
    assert [s["key"] for s in samples] == ["0", "1", "2", "3", "4"]
    assert [s["label"] for s in samples] == [2, 1, 2, 0, 1]
    assert (
        samples[3]["image"] == images[3] and samples[3]["blob"] == b"\x03" and samples[3]["score"] == pytest.approx(0.3)
    )
    assert samples[3]["embedding"].dtype == np.float32 and samples[3]["embedding"].tolist() == [3.0, 0.5]


def test_feather_table_with_image_paths_and_hugging_face_image_structs(tmp_path):
    pa = pytest.importorskip("pyarrow")
    feather = pytest.importorskip("pyarrow.feather")
    files = make_tree(tmp_path / "img", classes=("x",), per_class=2)
    table = pa.table({"key": ["first", "second"], "file": sorted(files), "label": [0, 1]})
    feather.write_feather(table, tmp_path / "t.feather")
    import_table(tmp_path / "t.feather", tmp_path / "a.msgpack", root=tmp_path / "img", progress=False)
    assert [(s["key"], s["image"], s["label"]) for s in read(tmp_path / "a.msgpack")] == [
        ("first", files["x/00.jpg"], 0),
        ("second", files["x/01.jpg"], 1),
    ]
    struct = pa.array(
        [{"bytes": files["x/00.jpg"], "path": None}, {"bytes": None, "path": "img/x/01.jpg"}],
        pa.struct([("bytes", pa.binary()), ("path", pa.string())]),
    )
    feather.write_feather(pa.table({"image": struct}), tmp_path / "hf.arrow")
    assert detect_source(tmp_path / "hf.arrow") == "table"
    import_source(tmp_path / "hf.arrow", tmp_path / "b.msgpack", progress=False)
    assert [s["image"] for s in read(tmp_path / "b.msgpack")] == [files["x/00.jpg"], files["x/01.jpg"]]


def test_table_errors_name_the_row_and_column(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table({"image": pa.array([image_bytes(1), b"junk"], pa.binary())}), tmp_path / "t.parquet")
    with pytest.raises(ImportDataError, match=r"t\.parquet row 1: unreadable image"):
        import_table(tmp_path / "t.parquet", tmp_path / "out.msgpack", progress=False)
    with pytest.raises(ImportDataError, match=r"no column 'photo'"):
        import_table(tmp_path / "t.parquet", tmp_path / "out.msgpack", image_column="photo", progress=False)
    (tmp_path / "fake.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(ImportDataError, match=r"fake\.parquet: not a readable Parquet file"):
        import_table(tmp_path / "fake.parquet", tmp_path / "out.msgpack", progress=False)
    assert not (tmp_path / "out.msgpack").exists()


def test_detect_source(tmp_path):
    make_tree(tmp_path / "tree")
    (tmp_path / "l.csv").write_text("path\n")
    (tmp_path / "x.weird").write_text("")
    assert detect_source(tmp_path / "tree") == "folder"
    assert detect_source(tmp_path / "l.csv") == "list"
    assert detect_source("s3://bucket/train-{000..009}.tar") == "webdataset"
    with pytest.raises(ValueError, match="pass --from"):
        detect_source(tmp_path / "x.weird")
    with pytest.raises(FileNotFoundError, match="--from huggingface"):
        detect_source(tmp_path / "nothing")


def test_a_dings_dataset_is_a_source_of_its_own(tmp_path):
    make_tree(tmp_path / "photos")
    import_source(tmp_path / "photos", tmp_path / "set" / "photos.msgpack", shard_size=4, progress=False)
    for spec in (
        tmp_path / "set",
        str(tmp_path / "set" / "photos-*.msgpack"),
        tmp_path / "set" / "photos-00000.msgpack",
    ):
        assert detect_source(spec) == "dings"
    result = import_source(tmp_path / "set", tmp_path / "one.msgpack", progress=False)
    assert result.samples == 9
    (tmp_path / "photos" / "old.msgpack").write_bytes(b"")  # an image folder with a data file is still one
    assert detect_source(tmp_path / "photos") == "folder"
    shards = [tmp_path / "set" / f"photos-{i:05d}.msgpack" for i in range(3)]
    assert read(tmp_path / "one.msgpack") == [s for shard in shards for s in read(shard)]
    assert load_label_names(tmp_path / "one.msgpack") == ["bird", "cat", "dog"]
