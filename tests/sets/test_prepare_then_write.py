"""`dings prepare NAME` and `dings write NAME` share one folder: $DINGS_DATA/NAME (issue 19, #6)."""

from __future__ import annotations

from pathlib import Path

from dings.readers import MsgpackReader
from dings.sets import CIFAR10_write, data_dir, prepare

from .cifar_fixtures import make_cifar10


def test_write_reads_where_prepare_puts_the_sources(tmp_path, monkeypatch):
    monkeypatch.setenv("DINGS_DATA", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # not the current folder
    expected = make_cifar10(tmp_path / "data" / "CIFAR10")
    prepared = prepare("CIFAR10", skip_verification=True, progress=False)
    assert Path(prepared["indir"]) == data_dir() / "CIFAR10" == tmp_path / "data" / "CIFAR10"
    outputs = CIFAR10_write.main(["-s", "-q", "-o", str(tmp_path / "out"), "--shuffle", "no"])
    assert [p.name for p in outputs.written] == ["train.msgpack", "test.msgpack"]
    with MsgpackReader(tmp_path / "out" / "train.msgpack") as reader:
        assert len(reader) == len(expected["train"])


def test_write_help_names_the_shared_folder(capsys):
    import pytest

    with pytest.raises(SystemExit):
        CIFAR10_write.main(["-h"])
    assert "$DINGS_DATA/CIFAR10" in " ".join(capsys.readouterr().out.split())
