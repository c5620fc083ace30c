"""dings.tools.import_webdataset against shards written by the real ``webdataset`` package."""

from __future__ import annotations

import io
import tarfile

import numpy as np
import pytest

from dings.format import load_label_names
from dings.readers import MsgpackReader
from dings.tools import ImportDataError, import_source, import_webdataset
from dings.tools.importing.webdataset import expand_braces

wds = pytest.importorskip("webdataset")


def jpeg(value: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.full((5, 5, 3), value % 256, dtype=np.uint8)).save(out, format="JPEG")
    return out.getvalue()


def read(path) -> list[dict]:
    with MsgpackReader(path) as reader:
        return list(reader)


def write_shards(folder, count: int = 25, per_shard: int = 10) -> list[dict]:
    """Shards ``folder/train-00000N.tar`` written by webdataset's ShardWriter; returns what went in."""
    written = []
    with wds.ShardWriter(str(folder / "train-%06d.tar"), maxcount=per_shard, verbose=0) as sink:
        for i in range(count):
            sample = {
                "__key__": f"part{i // 5}/s{i:03d}",
                "jpg": jpeg(i),
                "cls": i % 3,
                "json": {"caption": f"sample {i}", "boxes": [[i, i + 1]]},
                "txt": f"text {i}",
                "depth.npy": np.arange(i % 4 + 1, dtype=np.float32) * i,
                "extra.bin": bytes([i]),
                "raw": b"plain bytes",
            }
            sink.write(sample)
            written.append(sample)
    return written


def test_shards_written_by_webdataset_import_with_decoded_fields(tmp_path):
    written = write_shards(tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.tar")) == [
        "train-000000.tar",
        "train-000001.tar",
        "train-000002.tar",
    ]
    result = import_webdataset(
        str(tmp_path / "train-{000000..000002}.tar"),
        tmp_path / "out.msgpack",
        labels=["a", "b", "c"],
        threads=2,
        progress=False,
    )
    assert result.samples == 25 and load_label_names(tmp_path / "out.msgpack") == ["a", "b", "c"]
    samples = read(tmp_path / "out.msgpack")
    for sample, source in zip(samples, written, strict=True):
        assert sample["key"] == source["__key__"]
        assert sample["image"] == source["jpg"] and sample["label"] == source["cls"]
        assert sample["json"] == source["json"] and sample["txt"] == source["txt"]
        assert sample["depth"].dtype == np.float32 and np.array_equal(sample["depth"], source["depth.npy"])
        assert sample["extra"] == source["extra.bin"] and sample["raw"] == b"plain bytes"


def test_brace_patterns_lists_and_urls(tmp_path):
    assert expand_braces("a-{08..10}.tar") == ["a-08.tar", "a-09.tar", "a-10.tar"]
    assert expand_braces("{x,y}/p{1..2}") == ["x/p1", "x/p2", "y/p1", "y/p2"]
    with pytest.raises(ValueError, match="backwards"):
        expand_braces("{5..1}")
    write_shards(tmp_path, count=12, per_shard=6)
    fsspec = pytest.importorskip("fsspec")
    memory = fsspec.filesystem("memory")
    for name in ("train-000000.tar", "train-000001.tar"):
        memory.pipe(f"/shards/{name}", (tmp_path / name).read_bytes())
    import_source("memory://shards/train-{000000..000001}.tar", tmp_path / "url.msgpack", progress=False)
    import_webdataset(
        [str(tmp_path / "train-000000.tar"), str(tmp_path / "train-000001.tar")],
        tmp_path / "list.msgpack",
        progress=False,
    )
    from_url, from_list = read(tmp_path / "url.msgpack"), read(tmp_path / "list.msgpack")
    assert len(from_url) == 12 and [s["key"] for s in from_url] == [s["key"] for s in from_list] == [
        f"part{i // 5}/s{i:03d}" for i in range(12)
    ]


def tar_with(path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def test_errors_name_the_shard_and_member(tmp_path):
    tar_with(tmp_path / "bad_cls.tar", {"a.jpg": jpeg(1), "a.cls": b"seven"})
    with pytest.raises(ImportDataError, match=r"bad_cls\.tar: member a\.cls: not an integer class label"):
        import_webdataset(str(tmp_path / "bad_cls.tar"), tmp_path / "out.msgpack", progress=False)
    tar_with(tmp_path / "bad_image.tar", {"a.jpg": jpeg(1), "b.jpg": b"not a jpeg"})
    with pytest.raises(ImportDataError, match=r"bad_image\.tar: member b\.\*: unreadable image"):
        import_webdataset(str(tmp_path / "bad_image.tar"), tmp_path / "out.msgpack", progress=False)
    tar_with(tmp_path / "two.tar", {"a.jpg": jpeg(1), "a.png": jpeg(2)})
    with pytest.raises(ImportDataError, match=r"two\.tar: member a\.png: a second member for field 'image'"):
        import_webdataset(str(tmp_path / "two.tar"), tmp_path / "out.msgpack", progress=False)
    tar_with(tmp_path / "label.tar", {"a.jpg": jpeg(1), "a.cls": b"5"})
    with pytest.raises(ImportDataError, match=r"member a\.cls: label 5 is outside the class list"):
        import_webdataset(str(tmp_path / "label.tar"), tmp_path / "out.msgpack", labels=["x", "y"], progress=False)
    tar_with(tmp_path / "dup.tar", {"a.jpg": jpeg(1), "b.jpg": jpeg(2), "a.cls": b"1"})
    with pytest.raises(ImportDataError, match=r"duplicate key 'a'"):
        import_webdataset(str(tmp_path / "dup.tar"), tmp_path / "out.msgpack", progress=False)
    (tmp_path / "plain.tar").write_bytes(b"no tar here" * 100)
    with pytest.raises(ImportDataError, match=r"plain\.tar: not a tar file"):
        import_webdataset(str(tmp_path / "plain.tar"), tmp_path / "out.msgpack", progress=False)
    with pytest.raises(ImportDataError, match=r"missing\.tar: cannot open the shard"):
        import_webdataset(str(tmp_path / "missing.tar"), tmp_path / "out.msgpack", progress=False)
    assert not (tmp_path / "out.msgpack").exists()


def test_links_folders_and_hidden_members_are_skipped(tmp_path):
    path = tmp_path / "odd.tar"
    with tarfile.open(path, "w") as archive:
        folder = tarfile.TarInfo("dir")
        folder.type = tarfile.DIRTYPE
        archive.addfile(folder)
        link = tarfile.TarInfo("dir/evil.jpg")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        archive.addfile(link)
        for name, data in {"dir/.hidden.jpg": b"x", "dir/ok.jpg": jpeg(3), "noextension": b"y"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    import_webdataset(str(path), tmp_path / "out.msgpack", progress=False)
    assert read(tmp_path / "out.msgpack") == [{"key": "dir/ok", "image": jpeg(3)}]
