"""What a new user tripped over in the first hour (issue 19): data safety, getting going, messages."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from dings.cli import main as cli_main
from dings.readers import MsgpackReader

pytest.importorskip("PIL.Image", reason="the demo needs Pillow")


def _env_without_scripts() -> dict[str, str]:
    """The environment with neither this Python's scripts folder on PATH nor a hatch environment."""
    scripts = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p and Path(p) != Path(scripts))
    env = {k: v for k, v in os.environ.items() if k != "HATCH_ENV_ACTIVE"}
    return {**env, "PATH": path, "COLUMNS": "100"}


# 1. the demo never replaces a user's files without a yes


def test_demo_keeps_an_existing_dataset_in_its_folder(cli, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    cli.write_dataset(folder / "train.msgpack", count=7)
    before = (folder / "train.msgpack").read_bytes()
    result = cli.run("demo", "--dir", str(folder), "--per-class", "2", "-q")
    assert result.returncode == 1
    assert "train.msgpack" in result.stderr and "-y/--no-confirm" in result.stderr
    assert (folder / "train.msgpack").read_bytes() == before
    assert not (folder / "images").exists() and not (folder / "shapes.msgpack").exists()


def test_demo_replaces_its_own_files_with_yes(cli, tmp_path):
    folder = tmp_path / "demo"
    assert cli.run("demo", "--dir", str(folder), "--per-class", "2", "-q").returncode == 0
    assert cli.run("demo", "--dir", str(folder), "--per-class", "2", "-q").returncode == 1
    again = cli.run("demo", "--dir", str(folder), "--per-class", "3", "-q", "-y")
    assert again.returncode == 0, again.stderr
    with MsgpackReader(folder / "shapes.msgpack") as reader:
        assert len(reader) == 12


# 2. the demo's last hint runs as printed


def test_demo_hint_runs_as_printed_without_dings_on_the_path(cli, tmp_path):
    folder = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "dings", "demo", "--dir", str(folder), "--per-class", "2", "-q"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=_env_without_scripts(),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-4] == "next, to paste as printed:"
    first = lines[-3].strip()
    assert not first.startswith("dings ")  # `dings` is not on this PATH
    rerun = subprocess.run(shlex.split(first), capture_output=True, text=True, env=_env_without_scripts(), timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert "train.msgpack" in rerun.stdout


def test_demo_hint_inside_a_hatch_environment_names_its_dings_by_full_path(monkeypatch):
    from dings.cli.demo import command_prefix

    script = Path(sys.executable).parent / "dings"
    if not script.is_file():
        pytest.skip("the dings script is not installed next to this Python")
    monkeypatch.setenv("HATCH_ENV_ACTIVE", "default")
    assert command_prefix() == shlex.quote(str(script))  # works from any folder, unlike `hatch run`
    monkeypatch.delenv("HATCH_ENV_ACTIVE")
    monkeypatch.setenv("PATH", "")
    assert command_prefix() == f"{shlex.quote(sys.executable)} -m dings"


# 3. python -m dings, and --version lists every dings package


def test_python_m_dings_runs_the_command():
    result = subprocess.run([sys.executable, "-m", "dings", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "usage: dings" in result.stdout and "COMMAND" in result.stdout


def test_version_lists_every_installed_dings_package():
    from importlib.metadata import version

    result = subprocess.run([sys.executable, "-m", "dings", "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    for name in ("dings-cli", "dings-format", "dings-readers", "dings-tools", "dings-sets", "dings-torch"):
        assert f"{name} {version(name)}" in lines


# 12. messages


def test_unknown_option_shows_the_subcommands_usage(cli, dataset):
    result = cli.run("info", str(dataset), "--bogus")
    assert result.returncode == 2
    assert result.stderr.startswith("usage: dings info")
    assert "unrecognized arguments: --bogus" in result.stderr


def test_negative_sample_count_is_a_usage_error(cli, dataset, tmp_path):
    result = cli.run("sample", str(dataset), str(tmp_path / "out.msgpack"), "-5")
    assert result.returncode == 2
    assert result.stderr.startswith("usage: dings sample") and "-5" in result.stderr


def test_unwritable_output_names_the_users_path_not_the_temporary_one(cli, dataset, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        result = cli.run("shuffle", str(dataset), str(locked / "x.msgpack"), "-q")
    finally:
        locked.chmod(0o700)
    assert result.returncode == 1
    assert f"{locked / 'x.msgpack'}: cannot write here" in result.stderr
    assert ".tmp" not in result.stderr


def test_unwritable_output_under_proc_names_the_users_path(cli, dataset):
    if not Path("/proc/self").exists():
        pytest.skip("no /proc")
    result = cli.run("shuffle", str(dataset), "/proc/x.msgpack", "-q")
    assert result.returncode == 1
    assert "/proc/x.msgpack: cannot write here" in result.stderr and ".tmp" not in result.stderr


def test_a_file_that_is_not_a_dataset_is_called_so(cli, tmp_path):
    path = tmp_path / "notes.msgpack"
    path.write_text("hello\n")
    result = cli.run("info", str(path))
    assert result.returncode == 1
    assert f"{path}: is not a dings dataset" in result.stderr


def test_declining_an_overwrite_is_not_an_error(monkeypatch, capsys, cli, dataset, tmp_path):
    import dings.tools

    target = cli.write_dataset(tmp_path / "out.msgpack", count=3)
    monkeypatch.setattr(dings.tools, "query_user", lambda *a, **k: "no")
    status = cli_main.main(["sample", str(dataset), str(target), "5", "-q"])
    err = capsys.readouterr().err
    assert status == 1
    assert "error" not in err and "kept as it is; nothing was written" in err
    with MsgpackReader(target) as reader:
        assert len(reader) == 3


# 10. info is fast by default


def test_info_does_not_hash_by_default_and_md5_asks_for_it(cli, dataset):
    data = bytearray(dataset.read_bytes())
    data[-1] ^= 0xFF  # a damaged byte only hashing finds
    dataset.write_bytes(bytes(data))
    fast = cli.run("info", str(dataset), "--json", "-q")
    assert fast.returncode == 0, fast.stderr
    assert json.loads(fast.stdout)["md5"] == "not checked"
    full = cli.run("info", str(dataset), "--json", "--md5", "-q")
    assert json.loads(full.stdout)["md5"] == "mismatch"


# 11. split by fraction or percentage, cat --json/--fields, preview --random


@pytest.mark.parametrize("point", ["0.8", "80%", "16"])
def test_split_takes_fractions_and_percentages(cli, dataset, tmp_path, point):
    a, b = tmp_path / "a.msgpack", tmp_path / "b.msgpack"
    result = cli.run("split", str(dataset), point, "-o", str(a), str(b), "-q")
    assert result.returncode == 0, result.stderr
    with MsgpackReader(a) as first, MsgpackReader(b) as second:
        assert (len(first), len(second)) == (16, 4)


def test_split_three_ways_by_fractions_and_refuses_bad_points(cli, dataset, tmp_path):
    outs = [str(tmp_path / f"{n}.msgpack") for n in "abc"]
    assert cli.run("split", str(dataset), "0.5", "75%", "-o", *outs, "-q").returncode == 0
    assert [len(MsgpackReader(p)) for p in outs] == [10, 5, 5]
    bad = cli.run("split", str(dataset), "half", "-o", *outs[:2], "-q")
    assert bad.returncode == 2 and "half" in bad.stderr
    over = cli.run("split", str(dataset), "1.5", "-o", *outs[:2], "-y", "-q")
    assert over.returncode == 1 and "between 0 and 1" in over.stderr


def test_cat_json_and_fields(cli, dataset):
    result = cli.run("cat", str(dataset), "-n", "2", "--json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["key"] == "s000" and first["label"] == 0 and first["image"].startswith("<PNG image 8x8")
    picked = cli.run("cat", str(dataset), "--start", "4", "-n", "1", "--fields", "label", "key")
    assert picked.stdout.splitlines() == ["label: 1", "key: 's004'"]
    both = cli.run("cat", str(dataset), "-n", "1", "--fields", "label", "--json")
    assert json.loads(both.stdout) == {"label": 0}


def test_preview_random_draws_other_samples_repeatably(cli, tmp_path):
    from PIL import Image

    path = cli.write_dataset(tmp_path / "d.msgpack", count=60)
    sheets = {}
    for name, extra in (
        ("first", []),
        ("r1", ["--random", "--seed", "1"]),
        ("r1b", ["--random", "--seed", "1"]),
        ("r2", ["--random", "--seed", "2"]),
    ):
        out = tmp_path / f"{name}.png"
        result = cli.run("preview", str(path), "-o", str(out), "-n", "4", "-q", *extra)
        assert result.returncode == 0, result.stderr
        with Image.open(out) as image:
            sheets[name] = image.tobytes()
    assert sheets["r1"] == sheets["r1b"]
    assert len({sheets["first"], sheets["r1"], sheets["r2"]}) == 3


def test_demo_preview_captions_fit_their_cells(tmp_path):
    from PIL import Image, ImageDraw, ImageFont

    from dings.cli.demo import CLASSES, PREVIEW_CELL
    from dings.tools.preview import _caption

    draw = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    font = ImageFont.load_default()
    for label, name in enumerate(CLASSES):
        sample = {"key": f"{name}/0074.png", "label": label, "label_name": name}
        for text in _caption(sample):
            assert draw.textlength(text, font=font) <= PREVIEW_CELL, text


# 5. finding datasets


def test_sets_help_example_finds_datasets(cli):
    result = cli.run("sets", "task:image-classification", "small", "--json")
    assert result.returncode == 0, result.stderr
    assert {"CIFAR10", "CIFAR100"} <= {d["name"] for d in json.loads(result.stdout)}


def test_sets_task_word_finds_every_kind_of_classification(cli):
    result = cli.run("sets", "task:classification", "--json")
    assert result.returncode == 0, result.stderr
    names = {d["name"] for d in json.loads(result.stdout)}
    assert {"CIFAR10", "ImageNet21k", "Places365", "ADE20k"} <= names  # image-, hierarchical-, scene-classification


def test_sets_text_search_finds_tags(cli):
    result = cli.run("sets", "eye-tracking", "--json")
    assert result.returncode == 0, result.stderr
    assert {"MIT1003", "CAT2000"} <= {d["name"] for d in json.loads(result.stdout)}


def test_sets_unknown_task_lists_the_valid_ones(cli):
    result = cli.run("sets", "task:nonsense")
    assert result.returncode == 2
    assert "no dataset has task 'nonsense'" in result.stderr and "image-classification" in result.stderr
    words = json.loads(cli.run("sets", "--vocabulary", "--json").stdout)
    assert (
        "image-classification" in words["tasks"] and "saliency" in words["domains"] and "small-images" in words["tags"]
    )


# 9. progress: quiet without a terminal unless asked, tqdm everywhere


def test_no_progress_output_without_a_terminal(cli, dataset, tmp_path):
    for args in (
        ("info", str(dataset), "--md5"),
        ("verify", str(dataset)),
        ("shuffle", str(dataset), str(tmp_path / "s.msgpack")),
    ):
        result = cli.run(*args)
        assert result.returncode == 0, result.stderr
        assert result.stderr == "", args


def test_progress_flag_shows_tqdm_bars_without_a_terminal(cli, dataset, tmp_path):
    result = cli.run("verify", str(dataset), "--progress")
    assert result.returncode == 0, result.stderr
    assert "md5 data.msgpack" in result.stderr and "B/s" in result.stderr  # tqdm's byte rate
    result = cli.run("shuffle", str(dataset), str(tmp_path / "s.msgpack"), "--progress")
    assert result.returncode == 0 and "20/20" in result.stderr


def test_quiet_and_progress_exclude_each_other(cli, dataset):
    result = cli.run("verify", str(dataset), "-q", "--progress")
    assert result.returncode == 2 and "not allowed with" in result.stderr


def test_merge_duplicate_keys_names_the_command_line_option(cli, dataset, tmp_path):
    other = cli.write_dataset(tmp_path / "other.msgpack", count=3)
    result = cli.run("merge", str(dataset), str(other), str(tmp_path / "all.msgpack"), "-q")
    assert result.returncode == 1
    assert "--prefix-keys" in result.stderr
    assert (
        cli.run("merge", str(dataset), str(other), str(tmp_path / "all.msgpack"), "--prefix-keys", "-q").returncode == 0
    )
