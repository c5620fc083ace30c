"""MATLAB helpers (extra `matlab`): loadmat to plain Python/numpy, iter_fields, clear errors."""

from __future__ import annotations

import io

import numpy as np
import pytest

sio = pytest.importorskip("scipy.io", reason="the extra 'matlab' (scipy) is not installed")

from dings.tools import iter_fields, loadmat  # noqa: E402
from dings.tools.matlab import to_plain  # noqa: E402


def cell(*items):
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


@pytest.fixture
def matfile(tmp_path):
    people = np.array(
        [("ann", 31, np.array([1.5, 2.5])), ("bob", 42, np.array([3.0]))],
        dtype=[("name", object), ("age", object), ("scores", object)],
    )
    grid = np.empty((2, 2), dtype=object)
    grid[0, 0], grid[0, 1], grid[1, 0], grid[1, 1] = "a", 1.0, np.arange(3), "d"
    path = tmp_path / "data.mat"
    sio.savemat(
        path,
        {
            "config": {"name": "run1", "lr": 0.5, "sizes": np.array([3, 4]), "inner": {"deep": "yes", "n": 7}},
            "people": people,
            "files": cell("a.jpg", "bb.jpg", "c.jpg"),
            "mixed": cell("text", 2.0, np.array([[1, 2], [3, 4]]), {"k": "v"}),
            "grid": grid,
            "matrix": np.arange(6, dtype=np.float32).reshape(2, 3),
            "column": np.arange(4).reshape(4, 1),
            "scalar": 3.25,
            "count": np.int32(9),
            "flag": np.array([[True]]),
            "rows": np.array(["ab", "cd"]),
            "empty": np.zeros((0, 0)),
        },
    )
    return path


def test_structs_become_dicts_nested(matfile):
    config = loadmat(matfile)["config"]
    assert isinstance(config, dict) and set(config) == {"name", "lr", "sizes", "inner"}
    assert config["name"] == "run1" and isinstance(config["name"], str)
    assert config["lr"] == 0.5 and isinstance(config["lr"], float)
    np.testing.assert_array_equal(config["sizes"], [3, 4])
    assert config["inner"] == {"deep": "yes", "n": 7}
    assert isinstance(config["inner"]["n"], int)


def test_struct_arrays_become_lists_of_dicts(matfile):
    people = loadmat(matfile)["people"]
    assert [p["name"] for p in people] == ["ann", "bob"]
    assert [p["age"] for p in people] == [31, 42]
    np.testing.assert_array_equal(people[0]["scores"], [1.5, 2.5])
    assert people[1]["scores"] == 3.0  # a 1x1 array is squeezed to a scalar


def test_cells_become_lists(matfile):
    data = loadmat(matfile)
    assert data["files"] == ["a.jpg", "bb.jpg", "c.jpg"]
    mixed = data["mixed"]
    assert mixed[0] == "text" and mixed[1] == 2.0 and mixed[3] == {"k": "v"}
    np.testing.assert_array_equal(mixed[2], [[1, 2], [3, 4]])
    grid = data["grid"]
    assert [len(row) for row in grid] == [2, 2]
    assert grid[0][0] == "a" and grid[1][1] == "d"
    np.testing.assert_array_equal(grid[1][0], [0, 1, 2])


def test_numbers_strings_and_arrays(matfile):
    data = loadmat(matfile)
    assert data["matrix"].shape == (2, 3) and data["matrix"].dtype == np.float32
    assert data["column"].shape == (4,)  # singleton dimension squeezed
    assert data["scalar"] == 3.25 and type(data["scalar"]) is float
    assert data["count"] == 9 and type(data["count"]) is int
    assert data["flag"] in (True, 1)
    assert data["rows"] == ["ab", "cd"]
    assert isinstance(data["empty"], np.ndarray) and data["empty"].size == 0


def test_meta_entries_and_variable_selection(matfile):
    assert not any(k.startswith("__") for k in loadmat(matfile))
    assert "__header__" in loadmat(matfile, keep_meta=True)
    assert set(loadmat(matfile, variable_names=["scalar", "files"])) == {"scalar", "files"}


def test_reads_file_objects(matfile):
    with open(matfile, "rb") as f:
        assert loadmat(io.BytesIO(f.read()))["scalar"] == 3.25


def test_v73_hdf5_file_is_a_clear_error_naming_the_file(tmp_path):
    path = tmp_path / "big.mat"
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 .".ljust(512, b" ")
    path.write_bytes(header + b"\x89HDF\r\n\x1a\n" + bytes(64))
    with pytest.raises(ValueError, match=r"big\.mat: a MATLAB v7\.3 \(HDF5\) file.*h5py"):
        loadmat(path)


def test_not_a_mat_file_and_missing_file(tmp_path):
    path = tmp_path / "notes.mat"
    path.write_bytes(b"just some text, certainly not a MATLAB file" * 5)
    with pytest.raises(ValueError, match=r"notes\.mat: not a readable MATLAB \.mat file"):
        loadmat(path)
    truncated = tmp_path / "truncated.mat"
    truncated.write_bytes(b"")
    with pytest.raises(ValueError, match=r"truncated\.mat: not a readable MATLAB \.mat file"):
        loadmat(truncated)
    with pytest.raises(FileNotFoundError, match=r"missing\.mat"):
        loadmat(tmp_path / "missing.mat")


def test_iter_fields_yields_one_dict_per_element():
    arr = np.array([(1, 2.5, "x"), (2, 3.5, "y"), (3, 4.5, "z")], dtype=[("id", "i4"), ("w", "f8"), ("tag", "U1")])
    rows = list(iter_fields(arr))
    assert rows == [{"id": 1, "w": 2.5, "tag": "x"}, {"id": 2, "w": 3.5, "tag": "y"}, {"id": 3, "w": 4.5, "tag": "z"}]
    assert type(rows[0]["id"]) is int
    assert list(iter_fields(arr, ignore=("w", "tag"))) == [{"id": 1}, {"id": 2}, {"id": 3}]
    raw = next(iter_fields(arr, plain=False))
    assert isinstance(raw["id"], np.int32)


def test_iter_fields_on_a_raw_scipy_struct_array(matfile):
    raw = sio.loadmat(matfile, squeeze_me=True)["people"]
    assert [r["name"] for r in iter_fields(raw, ignore=["scores"])] == ["ann", "bob"]
    grid = np.zeros((2, 2), dtype=[("v", "i2")])
    grid["v"] = [[1, 2], [3, 4]]
    assert [r["v"] for r in iter_fields(grid)] == [1, 2, 3, 4]  # row-major order


def test_iter_fields_refuses_plain_arrays():
    with pytest.raises(TypeError, match="need a structured array"):
        next(iter_fields(np.arange(3)))


def test_to_plain_leaves_plain_values_alone():
    assert to_plain("x") == "x" and to_plain(5) == 5
    assert to_plain(np.float64(2.0)) == 2.0 and type(to_plain(np.float64(2.0))) is float


def test_a_cut_off_mat_file_is_a_clear_error(matfile, tmp_path):
    cut = tmp_path / "cut.mat"
    cut.write_bytes(matfile.read_bytes()[:300])
    with pytest.raises(ValueError, match=r"cut\.mat: not a readable MATLAB \.mat file"):
        loadmat(cut)
