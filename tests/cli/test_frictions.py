"""What a new user tripped over with their own data (issue 30, frictions 4–9), each as the user met it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytest.importorskip("PIL.Image", reason="the image folders of these tests need Pillow")


@pytest.fixture
def photos(tmp_path, cli) -> Path:
    """An ImageFolder tree ``photos/{cat,dog}/N.png`` of 6 images."""
    root = tmp_path / "photos"
    for i in range(6):
        folder = root / ("cat", "dog")[i % 2]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i}.png").write_bytes(cli.png(i * 30))
    return root


def run_with_stderr_in_a_file(cli, tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, str]:
    """``dings ARGS 2>err.txt``: the finished process and what went into the file."""
    err = tmp_path / "err.txt"
    with err.open("w") as stderr:
        result = subprocess.run([cli.script(), *args], stdout=subprocess.PIPE, stderr=stderr, text=True, timeout=120)
    return result, err.read_text()


# 4. progress bars only on a terminal, for import and export too


def test_import_and_export_write_no_progress_bars_into_a_file(cli, photos, tmp_path):
    data = tmp_path / "photos.msgpack"
    result, err = run_with_stderr_in_a_file(cli, tmp_path, "import", str(photos), str(data))
    assert result.returncode == 0 and err == ""
    for to, output in (("webdataset", "photos.tar"), ("parquet", "photos.parquet"), ("folder", "exported")):
        if to == "parquet":
            pytest.importorskip("pyarrow")
        result, err = run_with_stderr_in_a_file(cli, tmp_path, "export", str(data), str(tmp_path / output), "--to", to)
        assert result.returncode == 0 and err == "", to


def test_import_and_export_show_bars_with_progress(cli, photos, tmp_path):
    data = tmp_path / "photos.msgpack"
    result, err = run_with_stderr_in_a_file(cli, tmp_path, "import", str(photos), str(data), "--progress")
    assert result.returncode == 0 and "6/6" in err
    result, err = run_with_stderr_in_a_file(
        cli, tmp_path, "export", str(data), str(tmp_path / "photos.tar"), "--to", "webdataset", "--progress"
    )
    assert result.returncode == 0 and "6/6" in err


# 5. a typo in --fields is an error that names the fields there are


def test_cat_unknown_field_names_the_available_fields(cli, dataset):
    result = cli.run("cat", str(dataset), "--fields", "lable", "--json")
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "'lable'" in result.stderr and "available fields: key, image, label" in result.stderr
    assert "did you mean 'label'" in result.stderr


def test_cat_known_fields_still_print(cli, dataset):
    result = cli.run("cat", str(dataset), "--fields", "label", "key", "--json", "-n", "1")
    assert result.returncode == 0 and result.stdout == '{"label": 0, "key": "s000"}\n'
