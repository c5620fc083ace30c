"""query_user: prefixes, defaults, re-asking, and never hanging without a terminal."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from dings.tools import NonInteractiveError, query_user


def ask(replies, **kwargs):
    out = io.StringIO()
    answer = query_user(
        "Overwrite x.msgpack?", input_stream=io.StringIO(replies), output=out, interactive=True, **kwargs
    )
    return answer, out.getvalue()


@pytest.mark.parametrize("reply, expected", [("y\n", "yes"), ("YES\n", "yes"), ("n\n", "no"), (" No \n", "no")])
def test_answers_by_prefix_in_any_case(reply, expected):
    assert ask(reply)[0] == expected


def test_empty_line_takes_the_default_shown_in_capitals():
    answer, shown = ask("\n", default="no")
    assert answer == "no"
    assert shown == "Overwrite x.msgpack? [y/N] "


def test_unknown_answer_asks_again():
    answer, shown = ask("maybe\n\nyes\n", default=None)
    assert answer == "yes"
    assert shown.count("Overwrite x.msgpack? [y/n]") == 3
    assert shown.count("Please answer one of: yes, no.") == 2


def test_ambiguous_prefix_asks_again_and_full_words_always_work():
    answers = ("abort", "all", "no")
    assert ask("a\nall\n", answers=answers, default="no")[0] == "all"
    assert "[abort/all/NO]" in ask("\n", answers=answers, default="no")[1]


def test_without_a_terminal_the_default_is_taken_and_said():
    out = io.StringIO()
    assert query_user("Continue?", default="yes", input_stream=io.StringIO("no\n"), output=out) == "yes"
    assert "taking the default" in out.getvalue() and "input is not a terminal" in out.getvalue()


def test_without_a_terminal_and_no_default_it_raises_instead_of_hanging():
    with pytest.raises(NonInteractiveError, match=r"'Continue\?'.*-y/--no-confirm"):
        query_user("Continue?", default=None, input_stream=io.StringIO(""), output=io.StringIO())


def test_end_of_input_takes_the_default_or_raises():
    assert ask("", default="no")[0] == "no"
    with pytest.raises(NonInteractiveError, match="input ended"):
        ask("", default=None)


def test_real_stdin_from_dev_null_does_not_hang():
    code = "from dings.tools import query_user; print(query_user('Go?', default='no'))"
    done = subprocess.run(
        [sys.executable, "-c", code], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "no"
    assert "Go? [y/N]" in done.stderr


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"default": "maybe"}, "not one of the answers"),
        ({"answers": ("yes",)}, "at least two distinct"),
        ({"answers": ("yes", "YES")}, "at least two distinct"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        query_user("Q?", input_stream=io.StringIO("y\n"), output=io.StringIO(), **kwargs)
