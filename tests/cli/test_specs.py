"""Every command that reads a dataset takes any spec as one argument: a data file, a glob or brace
pattern of shards, a folder of shards, a partitioned folder, its manifest, and the HTTP URL of a
file and of a partitioned folder (where the command reads URLs).

One dataset of 30 labelled images is written in each shape; every command must see the same 30
samples in each. ``verify`` names the damaged shard and sample of a set, and checks its manifest.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from dings.format import load_label_names
from dings.readers import MsgpackReader
from dings.tools import import_partitioned, import_source

from ..tools.http_server import FileServer
from .conftest import png, run

SAMPLES = 30
LABELS = ["cat", "dog", "fox"]

#: spec kind → the spec, relative to the data folder (URLs are filled in by the fixture)
LOCAL_SPECS = {
    "file": "file/digits.msgpack",
    "glob": "sharded/digits-*.msgpack",
    "brace": "sharded/digits-{00000..00002}.msgpack",
    "folder": "sharded",
    "partitioned": "parts/digits",
    "manifest": "parts/digits/digits.manifest.json",
}
URL_SPECS = ("http-file", "http-partitioned")
ALL_SPECS = [*LOCAL_SPECS, *URL_SPECS]
#: data files of each spec kind
SHARDS = {
    "file": 1,
    "glob": 3,
    "brace": 3,
    "folder": 3,
    "partitioned": 6,
    "manifest": 6,
    "http-file": 1,
    "http-partitioned": 6,
}


def keys_of(path: Path) -> list[str]:
    with MsgpackReader(path) as reader:
        return list(reader.keys)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Iterator[SimpleNamespace]:
    """The dataset in every shape under one folder, served over HTTP as well; the expected keys."""
    root = tmp_path_factory.mktemp("specs")
    images = root / "images"
    for i in range(SAMPLES):
        folder = images / LABELS[i % 3]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i:03d}.png").write_bytes(png(i * 7))
    import_source(images, root / "file" / "digits.msgpack", progress=False)
    import_source(images, root / "sharded" / "digits.msgpack", shard_size=10, progress=False)
    import_partitioned(
        images, root / "parts" / "digits", "folder", engine="local", partition_size=10, shard_size=5, progress=False
    )
    server = FileServer().start()
    try:
        for file in [*(root / "file").iterdir(), *(root / "parts" / "digits").iterdir()]:
            if file.is_file() and not file.name.endswith(".lock"):
                server.add("/" + file.relative_to(root).as_posix(), file.read_bytes())
        specs = {
            **LOCAL_SPECS,
            "http-file": server.url("/file/digits.msgpack"),
            "http-partitioned": server.url("/parts/digits"),
        }
        yield SimpleNamespace(root=root, specs=specs, keys=sorted(keys_of(root / "file" / "digits.msgpack")))
    finally:
        server.stop()


def dings(data: SimpleNamespace, *args: str):
    return run(*args, cwd=data.root)


def written_keys(path: Path) -> list[str]:
    return sorted(keys_of(path))


# --- every command over every spec kind ---


@pytest.mark.parametrize("kind", ALL_SPECS)
def test_info_describes_the_whole_set(data, kind):
    result = dings(data, "info", data.specs[kind], "--samples", "all")
    assert result.returncode == 0, result.stderr
    assert f"samples: {SAMPLES}" in result.stdout
    assert ("shards: " in result.stdout) == (SHARDS[kind] > 1)
    assert "labels (3 distinct): 0 (cat): 10, 1 (dog): 10, 2 (fox): 10" in result.stdout


@pytest.mark.parametrize("kind", LOCAL_SPECS)
def test_info_json_counts_shards_and_bytes_of_every_shard(data, kind):
    result = dings(data, "info", data.specs[kind], "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["length"] == SAMPLES and summary["shards"] == SHARDS[kind]
    shards = sorted(data.root.glob(data.specs[kind] if "*" in data.specs[kind] else "nothing"))
    if shards:
        assert summary["files"][f"*.msgpack ({len(shards)} files)"] == sum(p.stat().st_size for p in shards)


def test_info_says_on_the_label_line_when_labels_were_only_sampled(data):
    result = dings(data, "info", "parts/digits", "--samples", "12")
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.lstrip().startswith("labels"))
    assert "counted in the first 12 of 30 samples" in line


@pytest.mark.parametrize("kind", ALL_SPECS)
def test_cat_prints_every_sample(data, kind):
    result = dings(data, "cat", data.specs[kind], "--json", "--fields", "key")
    assert result.returncode == 0, result.stderr
    assert sorted(json.loads(line)["key"] for line in result.stdout.splitlines()) == data.keys


@pytest.mark.parametrize("kind", ALL_SPECS)
def test_sample_takes_from_the_whole_set(data, kind, tmp_path):
    result = dings(data, "sample", data.specs[kind], str(tmp_path / "s.msgpack"), "25", "-q")
    assert result.returncode == 0, result.stderr
    assert len(keys_of(tmp_path / "s.msgpack")) == 25
    assert load_label_names(tmp_path / "s.msgpack") == LABELS


@pytest.mark.parametrize("kind", ALL_SPECS)
def test_preview_draws_a_sheet(data, kind, tmp_path):
    result = dings(data, "preview", data.specs[kind], "-o", str(tmp_path / "p.png"), "-n", "4", "-q")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "p.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("kind", ALL_SPECS)
def test_verify_checks_every_shard(data, kind):
    result = dings(data, "verify", data.specs[kind], "-q", "--deep")
    assert result.returncode == 0, result.stdout + result.stderr
    checked = [line for line in result.stdout.splitlines() if ": OK (" in line]
    assert len(checked) == SHARDS[kind] + (SHARDS[kind] > 1)  # every shard, then the set
    assert all("checksums, deep, images)" in line for line in checked[: SHARDS[kind]]), result.stdout
    if kind in ("partitioned", "manifest", "http-partitioned"):
        assert "digits.manifest.json: OK (30 samples; checked manifest, label names)" in result.stdout
    if kind.startswith("http"):  # reports name the shards' URLs
        assert checked[0].startswith(data.specs[kind].rsplit("/", 1)[0] + "/digits")


@pytest.mark.parametrize("kind", ALL_SPECS)
def test_bench_counts_samples_not_files(data, kind):
    result = dings(data, "bench", data.specs[kind], "--json", "-q")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["samples"] == SAMPLES


@pytest.mark.parametrize("kind", ALL_SPECS)
def test_export_writes_every_sample(data, kind, tmp_path):
    import tarfile

    result = dings(data, "export", data.specs[kind], str(tmp_path / "out.tar"), "--to", "webdataset", "-q")
    assert result.returncode == 0, result.stderr
    with tarfile.open(tmp_path / "out.tar") as archive:
        assert len([m for m in archive.getnames() if m.endswith(".png")]) == SAMPLES


@pytest.mark.parametrize("kind", ALL_SPECS)
def test_shuffle_writes_every_sample_once(data, kind, tmp_path):
    result = dings(data, "shuffle", data.specs[kind], str(tmp_path / "s.msgpack"), "-q")
    assert result.returncode == 0, result.stderr
    assert written_keys(tmp_path / "s.msgpack") == data.keys
    assert load_label_names(tmp_path / "s.msgpack") == LABELS


@pytest.mark.parametrize("kind", ALL_SPECS)
def test_merge_takes_sets_as_inputs(data, kind, tmp_path):
    result = dings(data, "merge", data.specs[kind], str(tmp_path / "m.msgpack"), "-q")
    assert result.returncode == 0, result.stderr
    assert written_keys(tmp_path / "m.msgpack") == data.keys


@pytest.mark.parametrize("kind", ALL_SPECS)
def test_split_cuts_the_whole_set(data, kind, tmp_path):
    parts = [str(tmp_path / "a.msgpack"), str(tmp_path / "b.msgpack")]
    result = dings(data, "split", data.specs[kind], "12", "-o", *parts, "-q")
    assert result.returncode == 0, result.stderr
    assert [len(keys_of(Path(p))) for p in parts] == [12, 18]
    assert sorted(keys_of(Path(parts[0])) + keys_of(Path(parts[1]))) == data.keys


def test_split_names_the_parts_of_a_partitioned_folder_next_to_it(tmp_path, data):
    shutil.copytree(data.root / "parts", tmp_path / "parts")
    result = run("split", "parts/digits", "50%", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(keys_of(tmp_path / "parts" / "digits_0.msgpack")) == 15
    assert not list((tmp_path / "parts" / "digits").glob("digits_*"))  # the set's folder is left alone


@pytest.mark.parametrize("kind", ALL_SPECS)
def test_stage_copies_every_shard(data, kind, tmp_path):
    result = dings(data, "stage", data.specs[kind], str(tmp_path / "local"), "-q")
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "local").glob("*.msgpack"))) == SHARDS[kind]
    copy = tmp_path / "local" if SHARDS[kind] > 1 else tmp_path / "local" / "digits.msgpack"
    assert dings(data, "verify", str(copy), "-q").returncode == 0
    if kind in ("partitioned", "manifest", "http-partitioned"):  # the manifest comes along: the same set
        assert (tmp_path / "local" / "digits.manifest.json").is_file()


@pytest.mark.parametrize("kind", ALL_SPECS)
def test_import_of_a_dings_dataset_reshards_it(data, kind, tmp_path):
    kind_option = ["--from", "dings"] if kind.startswith("http") else []  # detected for local specs
    output = tmp_path / "re.msgpack"
    result = dings(data, "import", data.specs[kind], str(output), "--shard-size", "7", *kind_option, "-q")
    assert result.returncode == 0, result.stderr
    shards = sorted(tmp_path.glob("re-*.msgpack"))
    assert len(shards) == 5
    assert sorted(k for shard in shards for k in keys_of(shard)) == data.keys
    assert load_label_names(shards[0]) == LABELS


@pytest.mark.parametrize("kind", ["glob", "folder", "partitioned"])
def test_convert_index_converts_every_shard(data, kind, tmp_path):
    # datasets without per-sample checksums get them, shard by shard
    for folder in ("sharded", "parts"):
        shutil.copytree(data.root / folder, tmp_path / folder)
    for crc in tmp_path.rglob("*.crc32"):
        crc.unlink()
    result = run("convert-index", LOCAL_SPECS[kind], "-q", "-y", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    spec_root = tmp_path / ("parts/digits" if kind == "partitioned" else "sharded")
    assert len(list(spec_root.glob("*.msgpack.crc32"))) == SHARDS[kind]
    assert run("verify", LOCAL_SPECS[kind], "-q", cwd=tmp_path).returncode == 0


@pytest.mark.parametrize("kind", URL_SPECS)
def test_convert_index_of_a_url_says_why_not_in_one_line(data, kind):
    result = dings(data, "convert-index", data.specs[kind], "-q", "-y")
    assert result.returncode in (1, 2)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "writes next to the data" in result.stderr and "dings stage" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


# --- one argument, quoted; outputs never overwrite a shard ---


def test_an_unquoted_pattern_gets_a_hint_to_quote_it(data):
    shards = sorted(str(p.relative_to(data.root)) for p in (data.root / "sharded").glob("digits-*.msgpack"))
    result = dings(data, "info", *shards)  # what the shell makes of an unquoted sharded/digits-*.msgpack
    assert result.returncode == 2
    assert "quote the pattern: dings info 'sharded/digits-*.msgpack'" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["shuffle", "sharded", "sharded/digits-00001.msgpack"],
        ["sample", "sharded/digits-*.msgpack", "sharded/digits-00002.msgpack", "3"],
        ["merge", "parts/digits", "parts/digits/digits-00001-00000.msgpack"],
        [
            "split",
            "parts/digits/digits.manifest.json",
            "10",
            "-o",
            "a.msgpack",
            "parts/digits/digits-00000-00000.msgpack",
        ],
        ["export", "parts/digits", "parts/digits/digits.manifest.json", "--to", "parquet"],
        ["import", "sharded", "sharded/digits.msgpack", "--shard-size", "10"],
    ],
)
def test_an_output_that_is_a_shard_of_the_input_is_refused(data, command, tmp_path):
    for folder in ("sharded", "parts"):
        shutil.copytree(data.root / folder, tmp_path / folder)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    result = run(*command, "-y", "-q", cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    assert "would destroy the input" in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and p in before} == before


# --- verify names the damaged shard and sample, and checks the manifest ---


@pytest.fixture
def damaged(data, tmp_path) -> Path:
    """A copy of the partitioned set (``tmp_path/digits``)."""
    shutil.copytree(data.root / "parts" / "digits", tmp_path / "digits")
    return tmp_path / "digits"


def test_verify_names_the_damaged_shard_and_sample(damaged):
    shard = damaged / "digits-00001-00000.msgpack"
    with MsgpackReader(shard) as reader:
        start, key = int(reader.offsets[2]), reader.keys[2]
    content = bytearray(shard.read_bytes())
    content[start + 30] ^= 0xFF  # inside sample 2's image bytes
    shard.write_bytes(bytes(content))
    result = run("verify", str(damaged), "-q")
    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if "FAILED" in line]
    assert failed == [f"{shard}: FAILED (2 problem(s))"]
    assert f"2 (key {key!r})" in result.stdout


def test_verify_compares_the_manifest_with_the_shards(damaged):
    manifest = damaged / "digits.manifest.json"
    content = json.loads(manifest.read_text())
    content["shards"][3]["md5"] = "0" * 32
    manifest.write_text(json.dumps(content))
    (damaged / "digits-00002-00001.msgpack").rename(damaged / "gone")
    result = run("verify", str(manifest), "-q")
    assert result.returncode == 1
    problems = [line for line in result.stdout.splitlines() if line.startswith("  - ")]
    name = content["shards"][3]["name"]
    assert any(f"shards[3] {name}: its md5 file says" in line for line in problems), result.stdout
    assert any("digits-00002-00001.msgpack: the shard is missing" in line for line in problems), result.stdout


def test_verify_reports_a_damaged_manifest_and_still_checks_the_shards(damaged):
    (damaged / "digits.manifest.json").write_text('{"dings-manifest": 1, "samples": "many"}')
    result = run("verify", str(damaged), "-q")
    assert result.returncode == 1
    assert "digits.manifest.json: FAILED" in result.stdout
    assert result.stdout.count(": OK (") == 6  # every shard was checked all the same


@pytest.fixture
def served(data) -> Iterator[SimpleNamespace]:
    """The partitioned set on an HTTP server of its own: its URL and the files served."""
    server = FileServer().start()
    try:
        folder = data.root / "parts" / "digits"
        files = {f.name: f.read_bytes() for f in folder.iterdir() if f.is_file() and not f.name.endswith(".lock")}
        for name, content in files.items():
            server.add(f"/digits/{name}", content)
        yield SimpleNamespace(server=server, url=server.url("/digits"), files=files, folder=folder)
    finally:
        server.stop()


def test_verify_names_a_damaged_remote_shard_by_its_url_and_sample(served):
    name = "digits-00001-00000.msgpack"
    with MsgpackReader(served.folder / name) as reader:
        start, key = int(reader.offsets[2]), reader.keys[2]
    content = bytearray(served.files[name])
    content[start + 30] ^= 0xFF  # inside sample 2's image bytes
    served.server.add(f"/digits/{name}", bytes(content))
    result = run("verify", served.url, "-q")
    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if "FAILED" in line]
    assert failed == [f"{served.server.url('/digits/' + name)}: FAILED (2 problem(s))"]
    assert f"2 (key {key!r})" in result.stdout


def test_verify_names_a_damaged_remote_index_file(served):
    name = "digits-00000-00001.msgpack.keys"
    content = bytearray(served.files[name])
    content[-2] ^= 0xFF
    served.server.add(f"/digits/{name}", bytes(content))
    result = run("verify", served.url, "-q")
    assert result.returncode == 1
    problems = [line for line in result.stdout.splitlines() if line.startswith("  - ")]
    assert any(f"{served.server.url('/digits/' + name)}: md5 mismatch" in line for line in problems), result.stdout


def test_verify_compares_a_remote_manifest_with_the_shards(served):
    manifest = json.loads(served.files["digits.manifest.json"])
    manifest["shards"][3]["md5"] = "0" * 32
    served.server.add("/digits/digits.manifest.json", json.dumps(manifest).encode())
    result = run("verify", served.url, "-q")
    assert result.returncode == 1
    assert f"{served.server.url('/digits/digits.manifest.json')}: FAILED (1 problem(s))" in result.stdout
    assert f"shards[3] {manifest['shards'][3]['name']}: its md5 file says" in result.stdout


def test_verify_finds_shards_whose_label_names_differ(damaged):
    sidecar = damaged / "digits-00001-00001.msgpack.labels.json"
    content = json.loads(sidecar.read_text())
    content["label_names"] = ["cat", "dog", "wolf"]
    sidecar.write_text(json.dumps(content))
    result = run("verify", str(damaged), "-q")
    assert result.returncode == 1
    assert "digits-00001-00001.msgpack: its label names" in result.stdout
