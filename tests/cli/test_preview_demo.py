"""preview and demo end to end."""

from __future__ import annotations

import numpy as np
import pytest

from dings.cli.demo import PREVIEW_CELL
from dings.format import FileWriter, load_label_names
from dings.readers import MsgpackReader
from dings.tools import sheet_size, verify

Image = pytest.importorskip("PIL.Image", reason="preview and demo need Pillow")


def test_preview_writes_the_sheet(cli, dataset, tmp_path):
    out = tmp_path / "sheet.png"
    result = cli.run("preview", str(dataset), "-o", str(out), "-n", "6", "--size", "40", "-q")
    assert result.returncode == 0, result.stderr
    with Image.open(out) as image:
        assert image.size == sheet_size(6, 3, 40)
    again = cli.run("preview", str(dataset), "-o", str(out))
    assert again.returncode == 1 and "-y/--no-confirm" in again.stderr
    assert cli.run("preview", str(dataset), "-o", str(out), "-y", "-q").returncode == 0


def test_preview_segmentation_with_a_dataset_palette_option(cli, tmp_path):
    path = tmp_path / "seg.msgpack"
    labels = np.zeros((8, 8), dtype=np.uint8)
    labels[:4] = 2
    with FileWriter(path, progress=False) as writer:
        writer.write({"key": "a", "image": np.full((8, 8, 3), 90, dtype=np.uint8), "label_image": labels})
    out = tmp_path / "seg.png"
    result = cli.run("preview", str(path), "-o", str(out), "--size", "16", "--columns", "1", "-q")
    assert result.returncode == 0, result.stderr
    with Image.open(out) as image:
        pixels = np.asarray(image.convert("RGB")).astype(int)
    top, bottom = pixels[4 + 2, 4 + 8], pixels[4 + 13, 4 + 8]
    assert (top != bottom).any() and (bottom == 45).all()  # label 2 coloured, label 0 black at half strength
    unknown = cli.run("preview", str(path), "-o", str(tmp_path / "x.png"), "--dataset", "NOPE0")
    assert unknown.returncode == 2 and "unknown dataset" in unknown.stderr


def test_preview_dataset_without_images(cli, tmp_path):
    path = tmp_path / "numbers.msgpack"
    with FileWriter(path, progress=False) as writer:
        writer.write({"key": "a", "value": 1})
    result = cli.run("preview", str(path), "-o", str(tmp_path / "x.png"), "-q")
    assert result.returncode == 1 and "holds an image" in result.stderr
    assert not (tmp_path / "x.png").exists()


def test_demo_runs_the_whole_product(cli, tmp_path):
    folder = tmp_path / "demo"
    result = cli.run("demo", "--dir", str(folder), "--per-class", "10", "-q")
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr  # e.g. torch's, or a batch_size mismatch
    for step in ("images", "import", "verify", "info", "cat", "split", "bench", "preview", "torch"):
        assert any(line.startswith(step) for line in result.stdout.splitlines()), step
    assert "verify   OK" in result.stdout
    torch_line = next(line for line in result.stdout.splitlines() if line.startswith("torch"))
    assert "Loader epoch over train.msgpack: 32 samples in 1 batch of torch.uint8 image crops (3, 28, 28)" in torch_line
    assert f"made in {folder}" in result.stdout
    assert len(list((folder / "images").glob("*/*.png"))) == 40
    with MsgpackReader(folder / "train.msgpack") as train, MsgpackReader(folder / "val.msgpack") as val:
        assert (len(train), len(val)) == (32, 8)
        assert set(train.keys) | set(val.keys) == {
            f"{c}/{i:04d}.png" for c in ("circle", "square", "triangle", "cross") for i in range(10)
        }
        assert sorted(train[0]) == ["image", "key", "label"]
    assert load_label_names(folder / "train.msgpack") == ["circle", "square", "triangle", "cross"]
    assert verify(folder / "train.msgpack", progress=False).ok
    with Image.open(folder / "preview.png") as image:
        assert image.size == sheet_size(16, 4, PREVIEW_CELL)


def test_demo_dir_must_be_a_folder(cli, tmp_path):
    (tmp_path / "file").write_text("x")
    result = cli.run("demo", "--dir", str(tmp_path / "file"), "-q")
    assert result.returncode == 1 and "is a file" in result.stderr
