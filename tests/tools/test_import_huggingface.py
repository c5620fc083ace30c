"""dings.tools.import_huggingface: save_to_disk folders and local load_dataset sources, offline."""

from __future__ import annotations

import io

import numpy as np
import pytest

from dings.format import load_label_names
from dings.readers import MsgpackReader
from dings.tools import ImportDataError, detect_source, import_huggingface, import_source

datasets = pytest.importorskip("datasets")


def png(value: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.full((4, 4, 3), value % 256, dtype=np.uint8)).save(out, format="PNG")
    return out.getvalue()


def read(path) -> list[dict]:
    with MsgpackReader(path) as reader:
        return list(reader)


@pytest.fixture
def saved(tmp_path):
    """A DatasetDict with Image, ClassLabel, a sequence and a str column, saved with save_to_disk."""
    features = datasets.Features(
        {
            "image": datasets.Image(),
            "label": datasets.ClassLabel(names=["cat", "dog", "fish"]),
            "scores": datasets.Sequence(datasets.Value("float32")),
            "caption": datasets.Value("string"),
        }
    )
    rows = {
        "image": [{"bytes": png(i), "path": None} for i in range(6)],
        "label": [i % 3 for i in range(5)] + [-1],
        "scores": [[float(i), 1.0] for i in range(6)],
        "caption": [f"c{i}" for i in range(6)],
    }
    train = datasets.Dataset.from_dict(rows, features=features)
    folder = tmp_path / "hf"
    datasets.DatasetDict({"train": train, "test": train.select(range(2))}).save_to_disk(str(folder))
    return folder


def test_save_to_disk_folder_keeps_encoded_images_and_class_names(saved, tmp_path):
    assert detect_source(saved) == "huggingface"
    result = import_huggingface(saved, tmp_path / "out.msgpack", split="train", threads=2, progress=False)
    assert result.samples == 6 and result.label_names == ["cat", "dog", "fish"] == load_label_names(
        tmp_path / "out.msgpack"
    )
    samples = read(tmp_path / "out.msgpack")
    assert [s["key"] for s in samples] == ["0", "1", "2", "3", "4", "5"]
    assert [s["image"] for s in samples] == [png(i) for i in range(6)]  # the encoded bytes, never decoded
    assert [s.get("label") for s in samples] == [0, 1, 2, 0, 1, None]  # -1 (no label) leaves the label out
    assert (
        samples[4]["caption"] == "c4"
        and samples[4]["scores"].dtype == np.float32
        and samples[4]["scores"].tolist() == [4.0, 1.0]
    )


def test_splits_must_be_chosen(saved, tmp_path):
    with pytest.raises(ImportDataError, match="has splits train, test; choose one with --split"):
        import_huggingface(saved, tmp_path / "out.msgpack", progress=False)
    with pytest.raises(ImportDataError, match="has no split 'val'"):
        import_huggingface(saved, tmp_path / "out.msgpack", split="val", progress=False)
    import_source(saved, tmp_path / "test.msgpack", split="test", progress=False)
    assert len(read(tmp_path / "test.msgpack")) == 2


def test_a_local_folder_through_load_dataset_without_network(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    folder = tmp_path / "local"
    folder.mkdir()
    pq.write_table(
        pa.table({"key": ["a", "b"], "image": pa.array([png(1), png(2)], pa.binary()), "label": [1, 0]}),
        folder / "train.parquet",
    )
    import_huggingface(str(folder), tmp_path / "out.msgpack", split="train", progress=False)
    assert read(tmp_path / "out.msgpack") == [
        {"key": "a", "image": png(1), "label": 1},
        {"key": "b", "image": png(2), "label": 0},
    ]
    with pytest.raises(ImportDataError, match="nor a dataset in the local Hugging Face cache"):
        import_huggingface("no-such-user/no-such-dataset-xyz", tmp_path / "none.msgpack", progress=False)
