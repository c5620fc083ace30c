"""import → export → import keeps keys, labels, image bytes and label names, for every source and format.

Label names are chosen so that their sorted order differs from the label order ("zero" sorts
last), which is where a round trip that forgets the class order shows.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from dings.format import FileWriter, load_label_names, write_label_names
from dings.readers import MsgpackReader
from dings.tools import (
    export,
    export_folder,
    export_parquet,
    export_webdataset,
    import_folder,
    import_huggingface,
    import_list,
    import_source,
    import_table,
    import_webdataset,
)

NAMES = ["zero", "one", "two"]
COUNT = 9


def png(value: int) -> bytes:
    """A small synthetic PNG whose pixels depend on ``value``."""
    from PIL import Image

    rng = np.random.default_rng(value)
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)).save(out, format="PNG")
    return out.getvalue()


def contents(path: Path) -> dict[str, tuple[int | None, bytes]]:
    """Key → (label, image bytes) of a dataset."""
    with MsgpackReader(path) as reader:
        return {s["key"]: (s.get("label"), bytes(s["image"])) for s in reader}


def from_folder(tmp: Path) -> Path:
    for i in range(COUNT):
        folder = tmp / "tree" / NAMES[i % 3]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i:02d}.png").write_bytes(png(i))
    import_folder(tmp / "tree", tmp / "a.msgpack", labels=NAMES, progress=False)
    return tmp / "a.msgpack"


def from_list(tmp: Path) -> Path:
    (tmp / "images").mkdir()
    rows = ["path,label"]
    for i in range(COUNT):
        (tmp / "images" / f"img{i}.png").write_bytes(png(i))
        rows.append(f"img{i}.png,{NAMES[i % 3]}")
    (tmp / "list.csv").write_text("\n".join(rows) + "\n")
    import_list(tmp / "list.csv", tmp / "a.msgpack", root=tmp / "images", labels=NAMES, progress=False)
    return tmp / "a.msgpack"


def from_table(tmp: Path) -> Path:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table(
        {
            "key": [f"row.{i}" for i in range(COUNT)],
            "image": [png(i) for i in range(COUNT)],
            "label": [NAMES[i % 3] for i in range(COUNT)],
        }
    )
    pq.write_table(table, tmp / "table.parquet")
    import_table(tmp / "table.parquet", tmp / "a.msgpack", labels=NAMES, progress=False)
    return tmp / "a.msgpack"


def from_webdataset(tmp: Path) -> Path:
    with tarfile.open(tmp / "in.tar", "w") as archive:
        for i in range(COUNT):
            for name, data in ((f"s{i:03d}.png", png(i)), (f"s{i:03d}.cls", str(i % 3).encode())):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    import_webdataset(tmp / "in.tar", tmp / "a.msgpack", labels=NAMES, progress=False)
    return tmp / "a.msgpack"


def from_huggingface(tmp: Path) -> Path:
    datasets = pytest.importorskip("datasets")
    features = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(names=NAMES)})
    rows = {"image": [{"bytes": png(i), "path": None} for i in range(COUNT)], "label": [i % 3 for i in range(COUNT)]}
    datasets.Dataset.from_dict(rows, features=features).save_to_disk(str(tmp / "hf"))
    import_huggingface(tmp / "hf", tmp / "a.msgpack", progress=False)
    return tmp / "a.msgpack"


SOURCES = {
    "folder": from_folder,
    "list": from_list,
    "table": from_table,
    "webdataset": from_webdataset,
    "huggingface": from_huggingface,
}
TARGETS = {"folder": "exported", "webdataset": "exported.tar", "parquet": "exported.parquet"}


@pytest.mark.parametrize("to", sorted(TARGETS))
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_import_export_import_keeps_keys_labels_bytes_and_names(source, to, tmp_path):
    first = SOURCES[source](tmp_path)
    assert load_label_names(first) == NAMES
    imported = contents(first)
    assert len(imported) == COUNT and {label for label, _ in imported.values()} == {0, 1, 2}
    export(first, tmp_path / TARGETS[to], to, progress=False)
    import_source(str(tmp_path / TARGETS[to]), tmp_path / "back.msgpack", progress=False)  # no class list given
    assert contents(tmp_path / "back.msgpack") == imported
    assert load_label_names(tmp_path / "back.msgpack") == NAMES


@pytest.fixture
def digits(tmp_path) -> Path:
    """Ten classes named in words, keys that are bare numbers (as the sklearn digits import gives)."""
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    path = tmp_path / "digits.msgpack"
    with FileWriter(path, progress=False) as writer:
        for i in range(30):
            writer.write({"key": str(i), "image": png(i), "label": i % 10})
    write_label_names(path, words)
    return path


def test_friction_1_folder_export_keeps_class_order_and_keys(digits, tmp_path):
    out = export_folder(digits, tmp_path / "exp", progress=False)
    assert json.loads((out / "labels.json").read_text())["label_names"][0] == "zero"
    import_folder(out, tmp_path / "back.msgpack", progress=False)
    assert contents(tmp_path / "back.msgpack") == contents(digits)  # label 0 "zero" stays 0, keys stay
    assert load_label_names(tmp_path / "back.msgpack") == load_label_names(digits)


def test_folder_export_without_label_names_keeps_numeric_labels(tmp_path):
    path = tmp_path / "d.msgpack"
    with FileWriter(path, progress=False) as writer:
        for i in range(12):
            writer.write({"key": f"k{i}", "image": png(i), "label": i})  # folders 0 … 11 sort as 0, 1, 10, 11, 2 …
    out = export_folder(path, tmp_path / "exp", progress=False)
    import_folder(out, tmp_path / "back.msgpack", progress=False)
    assert contents(tmp_path / "back.msgpack") == contents(path)
    assert load_label_names(tmp_path / "back.msgpack") is None


def test_folder_class_file_is_not_imported_and_torchvision_layout_stays(digits, tmp_path):
    out = export_folder(digits, tmp_path / "exp", progress=False)
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(load_label_names(digits))
    import_folder(out, tmp_path / "back.msgpack", include=["*"], progress=False)  # labels.json matches "*"
    assert contents(tmp_path / "back.msgpack") == contents(digits)


def test_a_given_class_list_wins_over_the_class_file(digits, tmp_path):
    out = export_folder(digits, tmp_path / "exp", progress=False)
    names = sorted(load_label_names(digits))
    import_folder(out, tmp_path / "back.msgpack", labels=names, progress=False)
    assert load_label_names(tmp_path / "back.msgpack") == names
    back = contents(tmp_path / "back.msgpack")
    assert set(back) == set(contents(digits)) and back["0"][0] == names.index("zero")


def test_friction_2_webdataset_export_keeps_label_names_and_webdataset_reads_the_shards(digits, tmp_path):
    shards = export_webdataset(digits, tmp_path / "wds" / "d.tar", shard_size=7, progress=False)
    import_source(str(tmp_path / "wds" / "d-{000000..000004}.tar"), tmp_path / "back.msgpack", progress=False)
    assert load_label_names(tmp_path / "back.msgpack") == load_label_names(digits)
    assert contents(tmp_path / "back.msgpack") == contents(digits)
    wds = pytest.importorskip("webdataset")
    loaded = list(wds.WebDataset([str(p) for p in shards], shardshuffle=False))
    assert [s["__key__"] for s in loaded] == [str(i) for i in range(30)]
    assert all({name for name in s if not name.startswith("__")} == {"png", "cls"} for s in loaded)


def test_friction_2_datasets_reads_the_parquet_export_as_image_and_class_label(digits, tmp_path):
    datasets = pytest.importorskip("datasets")
    path = export_parquet(digits, tmp_path / "d.parquet", progress=False)
    loaded = datasets.Dataset.from_parquet(str(path), cache_dir=str(tmp_path / "cache"))
    assert isinstance(loaded.features["image"], datasets.Image)
    assert isinstance(loaded.features["label"], datasets.ClassLabel)
    assert loaded.features["label"].names == load_label_names(digits)
    row = loaded.cast_column("image", datasets.Image(decode=False))[3]
    assert row["key"] == "3" and row["label"] == 3 and row["image"]["bytes"] == png(3)
    assert loaded[3]["image"].size == (5, 4)  # decoded by datasets as a PIL image
    # and the dings metadata stays for readers that know it
    pq = pytest.importorskip("pyarrow.parquet")
    meta = pq.read_schema(path).metadata
    assert json.loads(meta[b"dings"])["label_names"] == load_label_names(digits)
