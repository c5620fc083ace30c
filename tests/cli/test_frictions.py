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


# 8. extras are named where they are needed, for the library and for the command


@pytest.mark.parametrize("command", ["import", "export"])
def test_a_missing_table_extra_names_the_cli_extra_too(monkeypatch, capsys, cli, dataset, tmp_path, command):
    import sys

    from dings.cli.main import main

    table = tmp_path / "rows.parquet"
    table.write_bytes(b"PAR1 not really")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if dings-tools[table] were not installed
    if command == "import":
        status = main(["import", str(table), str(tmp_path / "out.msgpack"), "-q"])
    else:
        status = main(["export", str(dataset), str(tmp_path / "out.parquet"), "--to", "parquet", "-q"])
    err = capsys.readouterr().err
    assert status == 1 and err.count("\n") == 1
    assert 'pip install "dings-tools[table]"' in err and 'pip install "dings-cli[table]"' in err


def test_the_cli_forwards_the_extras_its_errors_name():
    import tomllib

    from dings.cli.main import FORWARDED_EXTRAS

    root = Path(__file__).resolve().parents[2]
    cli_extras = tomllib.loads((root / "packages/dings-cli/pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    tools_extras = tomllib.loads((root / "packages/dings-tools/pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    for extra in FORWARDED_EXTRAS:
        assert extra in tools_extras
        assert cli_extras[extra] == [f"dings-tools[{extra}]>=0.2,<1"]


def test_a_datadings_style_converter_names_itself_in_its_usage(tmp_path):
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "dings.sets.MIT1003_write", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m dings.sets.MIT1003_write ")
    assert "dings write" not in result.stdout


def test_converter_help_without_the_dings_command_names_no_dings_command(monkeypatch, capsys):
    import sys

    from dings.sets.MIT1003_write import main

    monkeypatch.setitem(sys.modules, "dings.cli", None)  # an install of dings-sets alone
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "dings prepare" not in text and "dings write" not in text
    assert "dings.sets.prepare('MIT1003')" in text


# 9. the demo cleans up after itself


def run_demo(cli, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """``dings demo --per-class 2 -q ARGS`` with ``tmp_path/tmp`` as the temporary directory."""
    import os

    temporary = tmp_path / "tmp"
    temporary.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(temporary)}
    return subprocess.run(
        [cli.script(), "demo", "--per-class", "2", "-q", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=300,
    )


def test_the_demo_removes_its_temporary_folder(cli, tmp_path):
    result = run_demo(cli, tmp_path)
    assert result.returncode == 0, result.stderr
    assert list((tmp_path / "tmp").iterdir()) == []
    assert "removed " in result.stdout and "--keep" in result.stdout


def test_the_demo_keeps_its_temporary_folder_with_keep(cli, tmp_path):
    result = run_demo(cli, tmp_path, "--keep")
    assert result.returncode == 0, result.stderr
    (kept,) = (tmp_path / "tmp").iterdir()
    assert kept.name.startswith("dings-demo-") and (kept / "train.msgpack").is_file()
    assert "removed " not in result.stdout and f"info {kept / 'train.msgpack'}" in result.stdout


# 7. the README's route to `dings` works from any folder


def readme_block(heading: str) -> str:
    """The first bash block under ``## heading`` of the root README."""
    import re

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```bash\n(.*?)```", section, re.S)
    assert match is not None, f"no bash block under {heading!r}"
    return match.group(1)


def test_your_own_data_commands_run_as_written_from_another_folder(cli, photos, tmp_path):
    """The block runs verbatim in bash from the clone; hatch answers as it does for the environment
    these tests run in (a stand-in ``python3`` on the PATH), and no other ``dings`` is on the PATH."""
    import os
    import sys

    block = readme_block("Your own data")
    root = Path(__file__).resolve().parents[2]
    home = tmp_path / "home"
    project = home / "my-project"
    project.mkdir(parents=True)
    photos.rename(project / "photos")
    shims = tmp_path / "shims"
    shims.mkdir()
    shim = shims / "python3"
    shim.write_text(
        "#!/bin/sh\n"
        'if [ "$1 $2 $3 $4" = "-m hatch env create" ]; then exit 0; fi\n'
        f'if [ "$1 $2 $3 $4" = "-m hatch env find" ]; then echo {sys.prefix}; exit 0; fi\n'
        f'exec {sys.executable} "$@"\n'
    )
    shim.chmod(0o755)
    scripts = Path(sys.executable).parent
    path = [str(shims)] + [p for p in os.environ["PATH"].split(os.pathsep) if p and Path(p) != scripts]
    env = {k: v for k, v in os.environ.items() if k != "HATCH_ENV_ACTIVE"}
    env.update(HOME=str(home), PATH=os.pathsep.join(path))
    result = subprocess.run(["bash", "-e", "-c", block], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (project / "train.msgpack").is_file()


def test_quick_start_demo_runs_in_a_small_environment_of_its_own():
    import tomllib

    root = Path(__file__).resolve().parents[2]
    envs = tomllib.loads((root / "hatch.toml").read_text())["envs"]
    demo = envs["demo"]
    assert demo["template"] == "demo"  # inherits nothing (torch, ray, test tools) from the default env
    assert not demo.get("dependencies") and not demo.get("extra-dependencies")
    assert "packages/dings-torch" not in demo["workspace"]["members"]
    assert "packages/dings-cli" in demo["workspace"]["members"]
    assert demo["scripts"]["demo"] == "dings demo {args}"
    first = [line for line in readme_block("Quick start").splitlines() if line and not line.startswith("#")][0]
    assert first == "python3 -m pip install -q hatch && python3 -m hatch run demo:demo"
