"""`dings --help`, every `dings X --help`, unknown commands and the dings-<cmd> aliases."""

from __future__ import annotations

import pytest

from dings.cli.main import COMMANDS


def test_help_lists_every_command(cli):
    result = cli.run("--help")
    assert result.returncode == 0, result.stderr
    for name in COMMANDS:
        assert name in result.stdout
    assert "dings demo" in result.stdout


def test_bare_dings_prints_help_and_exits_2(cli):
    result = cli.run()
    assert result.returncode == 2
    assert "COMMAND" in result.stdout


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_help_has_an_example_and_quiet(cli, name):
    result = cli.run(name, "--help")
    assert result.returncode == 0, result.stderr
    assert f"usage: dings {name}" in result.stdout
    assert "example" in result.stdout
    assert "-q, --quiet" in result.stdout


@pytest.mark.parametrize("name", ["info", "verify", "sets", "bench"])
def test_json_option_where_promised(cli, name):
    assert "--json" in cli.run(name, "--help").stdout


def test_unknown_command_suggests_a_close_one(cli):
    result = cli.run("veryfy", "x.msgpack")
    assert result.returncode == 2
    assert "did you mean 'verify'" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_option_is_usage_error(cli):
    result = cli.run("cat", "--no-such-option", "x.msgpack")
    assert result.returncode == 2
    assert "--no-such-option" in result.stderr


@pytest.mark.parametrize(
    "alias,command", [("dings-cat", "cat"), ("dings-split", "split"), ("dings-convert-index", "convert-index")]
)
def test_datadings_style_aliases(cli, alias, command):
    result = cli.run("--help", name=alias)
    assert result.returncode == 0, result.stderr
    assert f"usage: dings {command}" in result.stdout


def test_alias_runs_the_command(cli, dataset):
    result = cli.run(str(dataset), "-n", "1", name="dings-cat")
    assert result.returncode == 0, result.stderr
    assert "key: 's000'" in result.stdout
