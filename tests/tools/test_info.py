"""info: length, files, index files, md5 state and the schema summary."""

from __future__ import annotations

import io
import json
import shutil

import msgpack
import numpy as np
import pytest

from dings.tools import info


def png_bytes(width: int, height: int) -> bytes:
    Image = pytest.importorskip("PIL.Image", reason="Pillow builds the test image (installed in the dev env)")
    buffer = io.BytesIO()
    Image.new("L", (width, height)).save(buffer, "PNG")
    return buffer.getvalue()


def test_info_reports_length_files_index_files_and_md5_ok(make_dataset):
    path = make_dataset(n=30)
    assert info(path, progress=False).md5 == "not checked"  # fast by default: nothing hashed
    result = info(path, check_md5=True, progress=False)
    assert result.length == 30
    assert result.md5 == "ok" and result.md5_problems == []
    expected_files = {path.name} | {
        path.name + s for s in (".offsets", ".keys", ".key_hashes", ".filter", ".crc32", ".md5")
    }
    assert set(result.files) == expected_files
    assert result.files[path.name] == path.stat().st_size
    assert result.total_size == sum((path.parent / name).stat().st_size for name in expected_files)
    assert result.index_files == {
        ".offsets": True,
        ".keys": True,
        ".key_hashes": True,
        ".filter": True,
        ".crc32": True,
        ".md5": True,
        ".index": False,
    }


def test_info_summarises_keys_types_dtypes_shapes_and_labels(make_dataset):
    image = png_bytes(8, 5)
    samples = [
        {
            "key": f"k{i}",
            "label": i % 4,
            "image": image,
            "arr": np.zeros((2, i % 2 + 1), np.float32),
            "text": "a" * (i + 1),
        }
        for i in range(10)
    ]
    samples[3]["extra"] = None
    path = make_dataset(samples=samples)
    result = info(path, progress=False)
    assert result.scanned == 10
    assert list(result.keys) == ["key", "label", "image", "arr", "text", "extra"]
    assert result.keys["label"].types == {"int": 10}
    assert result.keys["image"].images == {"PNG": 10}
    assert result.keys["arr"].dtypes == {"float32": 10}
    assert result.keys["arr"].shapes == {(2, 1): 5, (2, 2): 5}
    assert (result.keys["text"].min_length, result.keys["text"].max_length) == (1, 10)
    assert result.keys["extra"].count == 1
    assert result.labels == {0: 3, 1: 3, 2: 2, 3: 2}
    text = str(result)
    assert "samples: 10" in text and "md5: not checked" in text
    assert "images PNG ×10" in text and "shape (2, 1) ×5, (2, 2) ×5" in text
    assert "extra" in text and "(in 1 samples)" in text
    assert "labels (4 distinct): 0: 3, 1: 3, 2: 2, 3: 2" in text


def test_info_looks_at_the_first_n_samples_or_all(make_dataset):
    path = make_dataset(n=40)
    assert info(path, samples=7, check_md5=False, progress=False).scanned == 7
    every = info(path, samples="all", check_md5=False, progress=False)
    assert every.scanned == 40
    assert sum(every.labels.values()) == 40
    assert every.md5 == "not checked"
    assert info(path, samples=0, check_md5=False, progress=False).keys == {}


def test_info_to_dict_is_json_and_matches_the_report(make_dataset):
    samples = [{"key": f"k{i}", "label": np.int64(i % 2), "v": np.arange(3, dtype=np.uint8)} for i in range(6)]
    result = info(make_dataset(samples=samples), check_md5=True, progress=False)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["length"] == 6
    assert data["md5"] == "ok"
    assert data["labels"] == {"0": 3, "1": 3}
    assert data["keys"]["label"]["types"] == {"numpy.int64": 6}
    assert data["keys"]["v"]["shapes"] == {"(3,)": 6}
    assert data["index_files"][".index"] is False


def test_info_labels_are_none_without_numeric_labels(make_dataset):
    path = make_dataset(samples=[{"key": f"k{i}", "label": f"class{i}"} for i in range(3)])
    assert info(path, progress=False).labels is None


def test_info_md5_mismatch_and_missing(make_dataset):
    path = make_dataset(n=10)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    assert info(path, progress=False).md5 == "not checked"
    result = info(path, check_md5=True, progress=False)
    assert result.md5 == "mismatch"
    assert any("md5 mismatch" in p and path.name in p for p in result.md5_problems)
    (path.parent / (path.name + ".md5")).unlink()
    result = info(path, progress=False)
    assert result.md5 == "missing"
    assert result.index_files[".md5"] is False
    assert "md5: missing" in str(result)


def test_info_on_a_legacy_dataset(make_dataset, tmp_path):
    source = make_dataset(n=5)
    legacy = tmp_path / "legacy" / "old.msgpack"
    legacy.parent.mkdir()
    shutil.copyfile(source, legacy)
    offsets = np.frombuffer((source.parent / (source.name + ".offsets")).read_bytes(), ">u8")
    mapping = {f"s{i:04d}": int(offsets[i]) for i in range(5)}
    (legacy.parent / "old.msgpack.index").write_bytes(msgpack.packb(mapping))
    result = info(legacy, progress=False)
    assert result.length == 5
    assert result.index_files[".index"] is True and result.index_files[".offsets"] is False
    assert result.md5 == "missing"


def test_info_errors(make_dataset, tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.msgpack"):
        info(tmp_path / "nothing.msgpack", progress=False)
    path = make_dataset(n=3)
    with pytest.raises(ValueError, match="samples"):
        info(path, samples=-1, progress=False)
    with pytest.raises(TypeError, match="samples"):
        info(path, samples="some", progress=False)


def test_info_prints_nothing_without_progress(make_dataset, capsys):
    info(make_dataset(n=5), samples="all", progress=False)
    assert capsys.readouterr() == ("", "")


def test_old_result_name_still_works_and_warns():
    import dings.tools

    with pytest.warns(DeprecationWarning, match="DatasetSummary"):
        assert dings.tools.DatasetInfo is dings.tools.DatasetSummary
    assert "DatasetInfo" not in dings.tools.__all__
