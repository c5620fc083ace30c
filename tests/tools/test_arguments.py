"""Converter argument helpers: datadings' flags and defaults, every default overridable."""

from __future__ import annotations

import argparse

import pytest

from dings.tools import (
    argument_calculate_weights,
    argument_indir,
    argument_infile,
    argument_no_confirm,
    argument_outdir,
    argument_outfile,
    argument_outfile_positional,
    argument_outfiles,
    argument_shuffle,
    argument_skip_verification,
    argument_threads,
    available_cpus,
    make_parser,
    make_parser_simple,
)


def new_parser():
    return argparse.ArgumentParser(exit_on_error=False)


def test_make_parser_defaults():
    args = make_parser("Convert X.").parse_args([])
    assert vars(args) == {
        "indir": ".",
        "outdir": None,
        "no_confirm": False,
        "skip_verification": False,
        "shuffle": True,
    }


def test_make_parser_parses_every_flag():
    parser = make_parser("Convert X.", threads=True)
    args = parser.parse_args(["src", "-o", "out", "-y", "-s", "--shuffle", "no", "-t", "3"])
    assert (args.indir, args.outdir, args.no_confirm, args.skip_verification, args.shuffle, args.threads) == (
        "src",
        "out",
        True,
        True,
        False,
        3,
    )
    long = parser.parse_args(
        ["--outdir", "o", "--no-confirm", "--skip-verification", "--shuffle", "yes", "--threads", "2"]
    )
    assert (long.outdir, long.no_confirm, long.skip_verification, long.shuffle, long.threads) == (
        "o",
        True,
        True,
        True,
        2,
    )


def test_make_parser_switches_arguments_off_and_keeps_the_description():
    parser = make_parser("Line one.\n  indented line two.", indir=False, shuffle=False, prog="conv")
    assert vars(parser.parse_args([])) == {"outdir": None, "no_confirm": False, "skip_verification": False}
    help_text = parser.format_help()
    assert "Line one.\n  indented line two." in help_text  # raw description keeps line breaks
    assert help_text.startswith("usage: conv")


def test_make_parser_simple_adds_nothing_unless_asked():
    assert vars(make_parser_simple(None).parse_args([])) == {}
    assert vars(make_parser_simple(None, outdir=True).parse_args(["-o", "x"])) == {"outdir": "x"}


def test_threads_after_make_parser_like_datadings_converters():
    parser = make_parser(__doc__)
    argument_threads(parser)
    assert parser.parse_args([]).threads == 1


def test_threads_zero_means_all_cpus_also_as_default():
    parser = new_parser()
    argument_threads(parser, default=0)
    assert parser.parse_args([]).threads == available_cpus()
    assert parser.parse_args(["-t", "0"]).threads == available_cpus()
    assert parser.parse_args(["-t", "5"]).threads == 5


def test_threads_are_capped_by_max_threads():
    parser = new_parser()
    argument_threads(parser, max_threads=2)
    assert parser.parse_args(["-t", "8"]).threads == 2
    assert parser.parse_args(["-t", "1"]).threads == 1


@pytest.mark.parametrize("value", ["-1", "two", "1.5"])
def test_threads_rejects_bad_values(value, capsys):
    parser = argparse.ArgumentParser()
    argument_threads(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["-t", value])
    assert "expected a whole number >= 0" in capsys.readouterr().err


def test_threads_rejects_a_bad_default():
    with pytest.raises(ValueError, match="default must be an int >= 0"):
        argument_threads(new_parser(), default=-1)


def test_shuffle_is_a_bool_and_rejects_other_words(capsys):
    parser = argparse.ArgumentParser()
    argument_shuffle(parser)
    assert parser.parse_args([]).shuffle is True
    assert parser.parse_args(["--shuffle", "no"]).shuffle is False
    assert parser.parse_args(["--shuffle", "yes"]).shuffle is True
    with pytest.raises(SystemExit):
        parser.parse_args(["--shuffle", "maybe"])
    assert "invalid choice" in capsys.readouterr().err


def test_shuffle_overrides_choices_and_string_default():
    parser = new_parser()
    argument_shuffle(parser, "--random", choices=["yeah", "naw"], default="naw", dest="random")
    assert parser.parse_args([]).random is False
    assert parser.parse_args(["--random", "yeah"]).random is True


@pytest.mark.parametrize(
    "add, argv, dest, default, given",
    [
        (argument_indir, ["in"], "indir", ".", "in"),
        (argument_outdir, ["-o", "out"], "outdir", None, "out"),
        (argument_outfile, ["--outfile", "f"], "outfile", None, "f"),
        (argument_outfiles, ["-o", "a", "b"], "outfiles", None, ["a", "b"]),
        (argument_no_confirm, ["-y"], "no_confirm", False, True),
        (argument_skip_verification, ["-s"], "skip_verification", False, True),
        (argument_calculate_weights, ["--calculate-weights"], "calculate_weights", False, True),
    ],
)
def test_argument_helpers_have_datadings_flags_and_defaults(add, argv, dest, default, given):
    parser = new_parser()
    add(parser)
    assert getattr(parser.parse_args([]), dest) == default
    assert getattr(parser.parse_args(argv), dest) == given


def test_infile_and_positional_outfile_are_required(capsys):
    parser = argparse.ArgumentParser()
    argument_infile(parser)
    argument_outfile_positional(parser)
    args = parser.parse_args(["a.msgpack", "b.msgpack"])
    assert (args.infile, args.outfile) == ("a.msgpack", "b.msgpack")
    with pytest.raises(SystemExit):
        parser.parse_args(["a.msgpack"])
    assert "required: OUTFILE" in capsys.readouterr().err


def test_every_default_can_be_overridden():
    parser = new_parser()
    action = argument_outdir(parser, "--dest", "-d", default="build", help="Where to write.", metavar="DIR")
    assert action.dest == "dest" and action.default == "build" and action.help == "Where to write."
    assert parser.parse_args([]).dest == "build"
    assert parser.parse_args(["-d", "x"]).dest == "x"
    assert "Where to write." in parser.format_help() and "DIR" in parser.format_help()


def test_indir_can_be_made_required(capsys):
    parser = argparse.ArgumentParser()
    argument_indir(parser, nargs=None)
    with pytest.raises(SystemExit):
        parser.parse_args([])
    assert "required: INDIR" in capsys.readouterr().err


def test_threads_help_and_flags_can_be_overridden():
    parser = new_parser()
    argument_threads(parser, "--workers", "-w", default=2, help="Worker processes.")
    assert parser.parse_args([]).workers == 2
    assert parser.parse_args(["-w", "4"]).workers == 4
    assert "Worker processes." in parser.format_help()
