"""open_dataset/resolve_dataset: every spec kind names the same samples, in order.

One dataset of N samples is written three ways (one file, a ShardedWriter set, a set written in
partitions with a manifest) and named by every kind of spec; each must read back exactly those
samples. Then damaged and hostile sets, and laziness: a set with a manifest opens without looking
at its shards (locally no per-shard ``stat``, over HTTP one request).
"""

from __future__ import annotations

import builtins
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from dings.format import DamagedDataError, ShardedWriter
from dings.readers import DatasetSpec, MsgpackReader, ShardedReader, open_dataset, resolve_dataset
from dings.tools import write_partitioned

from . import remote_servers as _servers

http_server = _servers.http_server
s3 = _servers.s3
N = 12
PER_PARTITION = 4


def _samples(indices) -> list[dict]:
    return [_servers.make_sample(i) for i in indices]


def _load_partition(partition: int) -> list[dict]:
    return _samples(range(partition * PER_PARTITION, (partition + 1) * PER_PARTITION))


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """``one/train.msgpack``, ``sharded/sh-0000{0,1,2}.msgpack`` and the partitioned ``part/train/``."""
    root = tmp_path_factory.mktemp("specs")
    _servers.write_dataset(root / "one" / "train.msgpack", N)
    with ShardedWriter(root / "sharded" / "sh.msgpack", max_samples=4, progress=False) as writer:
        for sample in _samples(range(N)):
            writer.write(sample)
    write_partitioned(
        list(range(N // PER_PARTITION)), _load_partition, root / "part" / "train", shard_size=3, label_names=["a"] * 5
    )
    return root


def _publish_folder(server, folder: Path, prefix: str) -> str:
    """Serve every file of ``folder`` under ``prefix``; return the folder's URL."""
    for file in sorted(folder.iterdir()):
        if file.is_file():
            server.add(f"{prefix}/{file.name}", file.read_bytes())
    return server.url(prefix)


SPECS: dict[str, Callable[[Path, object], object]] = {
    "file": lambda d, s: d / "one" / "train.msgpack",
    "file as str": lambda d, s: str(d / "one" / "train.msgpack"),
    "glob": lambda d, s: str(d / "sharded" / "sh-*.msgpack"),
    "brace": lambda d, s: str(d / "sharded" / "sh-{00000..00002}.msgpack"),
    "folder": lambda d, s: d / "sharded",
    "data file name of a shard set": lambda d, s: d / "sharded" / "sh.msgpack",
    "partitioned folder": lambda d, s: d / "part" / "train",
    "manifest": lambda d, s: d / "part" / "train" / "train.manifest.json",
    "file URL": lambda d, s: (d / "one" / "train.msgpack").as_uri(),
    "file URL of a partitioned folder": lambda d, s: (d / "part" / "train").as_uri(),
    "HTTP URL of a file": lambda d, s: _servers.publish_http(s, d / "one" / "train.msgpack", "/one"),
    "HTTP URL of a partitioned folder": lambda d, s: _publish_folder(s, d / "part" / "train", "/p/train"),
    "HTTP URL of a manifest": lambda d, s: (
        _publish_folder(s, d / "part" / "train", "/m/train") + "/train.manifest.json"
    ),
    "list of specs": lambda d, s: [
        d / "sharded" / "sh-00000.msgpack",
        str(d / "part" / "train" / "train-0000[12]-*.msgpack"),
    ],
}


def _upload_folder(s3, folder: Path, prefix: str) -> str:
    """Put every file of ``folder`` under ``prefix`` in the test bucket; return the prefix's URL."""
    for file in sorted(folder.iterdir()):
        if file.is_file():
            s3.fs.pipe_file(f"{s3.bucket}/{prefix}/{file.name}", file.read_bytes())
    s3.fs.invalidate_cache()
    return f"s3://{s3.bucket}/{prefix}"


S3_SPECS: dict[str, Callable[[Path, object], object]] = {
    "S3 glob": lambda d, s3: _upload_folder(s3, d / "sharded", "sharded") + "/sh-*.msgpack",
    "S3 brace pattern": lambda d, s3: _upload_folder(s3, d / "sharded", "braced") + "/sh-{00000..00002}.msgpack",
    "S3 partitioned folder": lambda d, s3: _upload_folder(s3, d / "part" / "train", "part/train") + "/",
}


@pytest.mark.parametrize("kind", list(S3_SPECS))
def test_every_spec_kind_under_an_s3_url(kind, data, s3, tmp_path):
    spec = S3_SPECS[kind](data, s3)
    with open_dataset(spec, cache_dir=tmp_path / "cache", storage_options=s3.options) as reader:
        assert [s["key"] for s in reader] == [s["key"] for s in _samples(range(N))]
        assert reader.dataset.is_remote()


@pytest.mark.parametrize("kind", list(SPECS))
def test_every_spec_kind_reads_the_same_samples_in_order(kind, data, http_server, tmp_path):
    spec = SPECS[kind](data, http_server)
    options = {"cache_dir": tmp_path / "cache"} if "HTTP" in kind else {}
    expected = _samples(range(N))
    with open_dataset(spec, **options) as reader:
        assert len(reader) == N
        got = list(reader)
        assert [s["key"] for s in got] == [s["key"] for s in expected]
        assert [s["data"] for s in got] == [s["data"] for s in expected]
        assert reader.read_sample(N - 1)["key"] == expected[-1]["key"]
        assert reader.find_index(expected[5]["key"]) == 5
        assert isinstance(reader.dataset, DatasetSpec)


def test_one_data_file_opens_a_msgpack_reader_and_a_set_a_sharded_reader(data):
    assert type(open_dataset(data / "one" / "train.msgpack")) is MsgpackReader
    assert isinstance(open_dataset(data / "sharded"), ShardedReader)
    assert isinstance(open_dataset(data / "part" / "train"), ShardedReader)


def test_a_manifest_gives_shards_counts_and_its_path(data):
    resolved = resolve_dataset(data / "part" / "train")
    assert resolved.manifest == str(data / "part" / "train" / "train.manifest.json")
    assert resolved.samples == N
    assert resolved.shard_samples == (3, 1, 3, 1, 3, 1)
    assert [Path(s).name for s in resolved.shards][:2] == ["train-00000-00000.msgpack", "train-00000-00001.msgpack"]
    assert not resolved.is_remote()


def test_a_pattern_gives_natural_sorted_shards_without_counts(data):
    resolved = resolve_dataset(str(data / "sharded" / "sh-*.msgpack"))
    assert [Path(s).name for s in resolved.shards] == ["sh-00000.msgpack", "sh-00001.msgpack", "sh-00002.msgpack"]
    assert resolved.manifest is None and resolved.samples is None and resolved.shard_samples is None


def test_a_list_keeps_manifest_counts_when_every_part_has_them(data):
    resolved = resolve_dataset([data / "part" / "train", data / "part" / "train"])
    assert resolved.samples == 2 * N
    assert len(resolved.shards) == 12
    assert resolved.spec == f"{data / 'part' / 'train'}, {data / 'part' / 'train'}"


def test_label_names_come_with_the_set(data):
    assert open_dataset(data / "part" / "train").dataset.label_names() == ["a"] * 5
    assert open_dataset(data / "one" / "train.msgpack").dataset.label_names() is None


def test_label_names_of_a_set_under_an_http_url(data, http_server):
    url = _publish_folder(http_server, data / "part" / "train", "/l/train")
    assert resolve_dataset(url).label_names() == ["a"] * 5


# --- errors ---


def test_a_pattern_that_matches_nothing_names_the_spec(data):
    spec = str(data / "sharded" / "nope-*.msgpack")
    with pytest.raises(FileNotFoundError, match=r"nope-\*\.msgpack: no dataset matches"):
        open_dataset(spec)


def test_a_missing_file_names_the_spec_and_what_was_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"missing\.msgpack: no such dataset; expected a data file"):
        resolve_dataset(tmp_path / "missing.msgpack")


def test_an_empty_folder_says_it_holds_no_dataset(tmp_path):
    with pytest.raises(FileNotFoundError, match="holds no dataset"):
        resolve_dataset(tmp_path)


def test_a_folder_of_several_datasets_lists_them(tmp_path):
    for name in ("cats", "dogs"):
        _servers.write_dataset(tmp_path / f"{name}.msgpack", 3)
    with pytest.raises(ValueError, match=r"several datasets \(cats, dogs\); give one of them"):
        resolve_dataset(tmp_path)


def test_an_empty_list_is_refused():
    with pytest.raises(ValueError, match="empty list of dataset specs"):
        resolve_dataset([])


def test_a_url_folder_without_manifest_says_how_to_name_it(http_server):
    url = http_server.url("/nothing/train")
    with pytest.raises(FileNotFoundError, match="no manifest train.manifest.json in this URL folder"):
        resolve_dataset(url)


@pytest.fixture
def part_copy(data, tmp_path) -> Path:
    folder = tmp_path / "train"
    shutil.copytree(data / "part" / "train", folder)
    return folder


def test_a_shard_missing_from_a_manifest_set_is_named_when_read(part_copy):
    (part_copy / "train-00001-00000.msgpack").unlink()
    reader = open_dataset(part_copy)  # opening looks at no shard
    assert reader.read_sample(0)["key"] == "s0000"
    with pytest.raises(
        DamagedDataError, match=r"train-00001-00000\.msgpack: shard 2 listed in .*manifest.json is missing"
    ):
        list(reader)


def test_a_shard_whose_length_differs_from_the_manifest_is_damaged(part_copy):
    manifest = part_copy / "train.manifest.json"
    content = json.loads(manifest.read_text())
    content["shards"][0]["samples"] = 2
    content["samples"] -= 1
    manifest.write_text(json.dumps(content))
    with pytest.raises(DamagedDataError, match=r"train-00000-00000\.msgpack: holds 3 samples, but .* lists 2"):
        list(open_dataset(part_copy))


@pytest.mark.parametrize("name", ["../evil-00000-00000.msgpack", "/etc/train-00000-00000.msgpack", "train.msgpack"])
def test_a_hostile_manifest_name_is_refused_before_anything_is_read(part_copy, name):
    manifest = part_copy / "train.manifest.json"
    content = json.loads(manifest.read_text())
    content["shards"][0]["name"] = name
    manifest.write_text(json.dumps(content))
    with pytest.raises(DamagedDataError, match=r"train\.manifest\.json: shards\[0\]\.name"):
        open_dataset(part_copy)


def test_a_hostile_manifest_under_a_url_is_refused(part_copy, http_server):
    manifest = part_copy / "train.manifest.json"
    content = json.loads(manifest.read_text())
    content["shards"][1]["name"] = "../../secret-00000-00001.msgpack"
    manifest.write_text(json.dumps(content))
    url = _publish_folder(http_server, part_copy, "/h/train")
    with pytest.raises(DamagedDataError, match=r"shards\[1\]\.name"):
        resolve_dataset(url)


def test_a_manifest_that_is_not_json_is_damaged(part_copy):
    (part_copy / "train.manifest.json").write_bytes(b"\xff{not json")
    with pytest.raises(DamagedDataError, match="not a dings manifest"):
        open_dataset(part_copy / "train.manifest.json")


# --- laziness ---

SHARDS = 40


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> Path:
    """A set of 40 one-sample shards written in partitions (one partition per shard)."""
    folder = tmp_path_factory.mktemp("many") / "train"
    write_partitioned(list(range(SHARDS)), lambda p: _samples([p]), folder)
    return folder


def _count_file_calls(monkeypatch) -> list[str]:
    """Record the path of every stat/lstat/open the process makes from now on."""
    seen: list[str] = []
    for module, name in ((os, "stat"), (os, "lstat"), (os, "open"), (builtins, "open")):
        original = getattr(module, name)

        def counting(path, *args, _original=original, **kwargs):
            seen.append(os.fspath(path) if isinstance(path, (str, os.PathLike)) else repr(path))
            return _original(path, *args, **kwargs)

        monkeypatch.setattr(module, name, counting)
    return seen


def test_opening_a_manifest_set_looks_at_no_shard_beyond_the_first_and_last(many, monkeypatch):
    seen = _count_file_calls(monkeypatch)
    reader = open_dataset(many)
    assert len(reader) == SHARDS
    touched = {Path(p).name.split(".msgpack")[0] for p in seen if ".msgpack" in p}
    # the first and last shard's journals are looked for (an interrupted commit is finished first)
    assert touched <= {"train-00000-00000", f"train-{SHARDS - 1:05d}-00000"}
    assert len(seen) <= 6
    seen.clear()
    assert reader.read_sample(7)["key"] == "s0007"
    touched = {Path(p).name.split(".msgpack")[0] for p in seen if ".msgpack" in p}
    assert touched == {"train-00007-00000"}


def test_a_lazily_opened_set_copies_and_pickles_without_opening_shards(many):
    import copy
    import pickle

    reader = open_dataset(many)
    clone = pickle.loads(pickle.dumps(copy.copy(reader)))
    assert clone._readers == [None] * SHARDS
    assert clone.read_sample(SHARDS - 1)["key"] == f"s{SHARDS - 1:04d}"


def test_opening_a_manifest_set_over_http_is_one_request(many, http_server, tmp_path):
    url = _publish_folder(http_server, many, "/many/train")
    reader = open_dataset(url, cache_dir=tmp_path / "cache")
    assert len(reader) == SHARDS
    assert [r.path for r in http_server.requests] == ["/many/train/train.manifest.json"]
    assert reader.read_sample(3)["key"] == "s0003"
    assert {r.path.rsplit("/", 1)[1].split(".msgpack")[0] for r in http_server.requests[1:]} == {"train-00003-00000"}


def test_sharded_reader_with_lengths_refuses_a_pattern_or_a_wrong_count(data):
    with pytest.raises(ValueError, match="give a list of shards"):
        ShardedReader(str(data / "sharded" / "sh-*.msgpack"), lengths=[4, 4, 4])
    with pytest.raises(ValueError, match="2 lengths for 3 shards"):
        ShardedReader([data / "sharded" / f"sh-{i:05d}.msgpack" for i in range(3)], lengths=[4, 4])


def test_a_brace_pattern_is_bounded():
    with pytest.raises(ValueError, match="expands to more than 1,000,000 names"):
        resolve_dataset("train-{0000000..9999999}.msgpack")


HOSTILE_ENTRIES = {
    "md5 of two digests": ("md5", "a" * 32 + "\n" + "b" * 32),
    "name holding a newline": ("name", "train-00000-00000.msgpack\ntrain-00000-00009.msgpack"),
    "name of another partition": ("name", "train-00001-00000.msgpack"),
    "duplicate name": ("name", "train-00000-00001.msgpack"),
    "partition true": ("partition", True),
    "negative size": ("size", -1),
    "samples as text": ("samples", "3"),
}


@pytest.mark.parametrize("field, value", list(HOSTILE_ENTRIES.values()), ids=list(HOSTILE_ENTRIES))
def test_every_hostile_manifest_entry_is_refused(part_copy, field, value):
    manifest = part_copy / "train.manifest.json"
    content = json.loads(manifest.read_text())
    content["shards"][0][field] = value
    manifest.write_text(json.dumps(content))
    with pytest.raises(DamagedDataError, match=r"train\.manifest\.json: (shards\[\d\]|samples)"):
        resolve_dataset(part_copy)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="crashes are simulated in forked children")
def test_a_folder_whose_partitioned_overwrite_crashed_opens_one_whole_generation(tmp_path):
    from ..format.test_commit import crash_at

    folder = tmp_path / "train"

    def write(tag: str, partitions: int, per_partition: int) -> None:
        def load(p: int) -> list[dict]:
            return [{"key": f"{tag}{p}-{i}"} for i in range(per_partition)]

        write_partitioned(list(range(partitions)), load, folder, shard_size=2, overwrite=True, resume=False)

    old = [f"old{p}-{i}" for p in range(3) for i in range(4)]
    new = [f"new{p}-{i}" for p in range(2) for i in range(3)]
    seen = set()
    for call in range(1, 400, 11):
        write("old", 3, 4)
        died = crash_at(call, lambda: write("new", 2, 3))
        with open_dataset(folder) as reader:
            found = [sample["key"] for sample in reader]
        assert found in (old, new), call
        seen.add(found == new)
        if not died:
            break
    assert seen == {False, True}  # both sides of the commit point were hit


def test_a_list_holding_something_else_than_specs_is_refused(data):
    with pytest.raises(TypeError, match=r"dataset spec 3 in a list"):
        resolve_dataset([data / "one" / "train.msgpack", 3])
