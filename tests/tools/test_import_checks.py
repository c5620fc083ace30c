"""Imports decode what they claim to check: a truncated image is refused, naming the file.

``--check`` (``check_images``) says how far images are checked: ``decode`` (the default) decodes
every image, ``header`` looks at its first bytes only, ``none`` not at all. ``verify --deep``
decodes the images that a dataset holds.
"""

from __future__ import annotations

import io
import random

import pytest

from dings.cli.main import main
from dings.format import FileWriter
from dings.readers import MsgpackReader
from dings.tools import ImportDataError, import_folder, import_samples, verify


def image_bytes(kind: str, seed: int = 0) -> bytes:
    """A small noisy image (noise, so that its encoding is not tiny)."""
    from PIL import Image

    rng = random.Random(seed)
    picture = Image.frombytes("RGB", (32, 32), bytes(rng.randrange(256) for _ in range(32 * 32 * 3)))
    out = io.BytesIO()
    picture.save(out, format=kind)
    return out.getvalue()


def truncated(kind: str) -> bytes:
    data = image_bytes(kind, seed=1)
    return data[: len(data) // 2]


@pytest.fixture(params=["PNG", "JPEG"])
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


def image_folder(root, kind: str):
    suffix = ".png" if kind == "PNG" else ".jpg"
    for label in ("cat", "dog"):
        (root / label).mkdir(parents=True)
        for i in range(3):
            (root / label / f"{i}{suffix}").write_bytes(image_bytes(kind, seed=i))
    broken = root / "dog" / f"broken{suffix}"
    broken.write_bytes(truncated(kind))
    return broken


def test_truncated_image_is_refused_by_import_naming_the_file(tmp_path, kind):
    broken = image_folder(tmp_path / "in", kind)
    with pytest.raises(ImportDataError, match=rf"{broken.name}: damaged image.*--check header"):
        import_folder(tmp_path / "in", tmp_path / "out.msgpack", progress=False)
    assert not (tmp_path / "out.msgpack").exists()


def test_truncated_image_is_refused_with_threads(tmp_path, kind):
    broken = image_folder(tmp_path / "in", kind)
    with pytest.raises(ImportDataError, match=rf"{broken.name}: damaged image"):
        import_folder(tmp_path / "in", tmp_path / "out.msgpack", threads=3, progress=False)


def test_check_header_accepts_a_truncated_image(tmp_path, kind):
    broken = image_folder(tmp_path / "in", kind)
    import_folder(tmp_path / "in", tmp_path / "out.msgpack", check_images="header", progress=False)
    with MsgpackReader(tmp_path / "out.msgpack") as reader:
        images = [sample["image"] for sample in reader]
    assert broken.read_bytes() in images


def test_check_header_still_refuses_what_is_no_image(tmp_path):
    with pytest.raises(ImportDataError, match=r"sample 'a': unreadable image"):
        import_samples([{"key": "a", "image": b"text"}], tmp_path / "x.msgpack", check_images="header", progress=False)
    import_samples([{"key": "a", "image": b"text"}], tmp_path / "x.msgpack", check_images="none", progress=False)


def test_unknown_check_level_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"check_images.*'decode', 'header' or 'none'"):
        import_samples([{"key": "a"}], tmp_path / "x.msgpack", check_images="full", progress=False)


def test_cli_import_refuses_truncated_image_and_check_header_accepts(tmp_path, kind, capsys):
    broken = image_folder(tmp_path / "in", kind)
    out = tmp_path / "out.msgpack"
    assert main(["import", "-q", str(tmp_path / "in"), str(out)]) != 0
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert broken.name in error and "damaged image" in error
    assert not out.exists()
    assert main(["import", "-q", "--check", "header", str(tmp_path / "in"), str(out)]) == 0
    assert out.exists()


def test_verify_deep_decodes_images(tmp_path, kind):
    with FileWriter(tmp_path / "x.msgpack", progress=False) as writer:
        writer.write({"key": "good", "image": image_bytes(kind)})
        writer.write({"key": "bad", "meta": {"thumbnail": truncated(kind)}})
    shallow = verify(tmp_path / "x.msgpack", progress=False)
    assert shallow.ok
    report = verify(tmp_path / "x.msgpack", deep=True, progress=False)
    assert not report.ok
    assert (report.bad_index, report.bad_key) == (1, "bad")
    assert "damaged image" in report.problems[0] and "'meta'" in report.problems[0]


def test_verify_deep_passes_intact_images(tmp_path, kind):
    with FileWriter(tmp_path / "x.msgpack", progress=False) as writer:
        writer.write({"key": "good", "image": image_bytes(kind), "text": b"not an image"})
    assert verify(tmp_path / "x.msgpack", deep=True, progress=False).ok


@pytest.mark.parametrize("threads", [1, 3])
def test_a_table_with_a_truncated_image_is_refused_naming_the_row(tmp_path, kind, threads, monkeypatch):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from dings.tools import import_table
    from dings.tools.importing import table as table_module

    images = [image_bytes(kind, seed=i) for i in range(40)]
    images[25] = truncated(kind)
    pq.write_table(pa.table({"image": images}), tmp_path / "t.parquet")
    with pytest.raises(ImportDataError, match=r"t\.parquet row 25: damaged image"):
        import_table(tmp_path / "t.parquet", tmp_path / "fast.msgpack", threads=threads, progress=False)
    monkeypatch.setattr(table_module, "table_packer", lambda *args, **kwargs: None)  # the row-by-row path
    with pytest.raises(ImportDataError, match=r"t\.parquet row 25: damaged image"):
        import_table(tmp_path / "t.parquet", tmp_path / "slow.msgpack", threads=threads, progress=False)
    import_table(tmp_path / "t.parquet", tmp_path / "slow.msgpack", check_images="header", progress=False)
    assert (tmp_path / "slow.msgpack").exists()


def test_a_tiff_pillow_cannot_read_is_not_called_damaged(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    import numpy as np

    from dings.tools import image_decode_problem

    out = io.BytesIO()
    tifffile.imwrite(out, np.zeros((4, 4, 7), dtype=np.float32), photometric="minisblack", planarconfig="contig")
    assert image_decode_problem(out.getvalue()) is None
    assert image_decode_problem(truncated("PNG")) is not None


def test_without_pillow_the_default_checks_headers(tmp_path, monkeypatch):
    from dings.tools.importing import core

    real = core.importlib.util.find_spec
    monkeypatch.setattr(core.importlib.util, "find_spec", lambda name, *a: None if name == "PIL" else real(name, *a))
    assert core.image_check_level(True) == "header"
    assert core.image_check_level(False) == "none"
