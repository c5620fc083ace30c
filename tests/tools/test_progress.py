"""progress_bar (tqdm that can be silenced) and print_over (rewrite the current line)."""

from __future__ import annotations

import io

from dings.tools import print_over, progress_bar


def test_progress_bar_wraps_an_iterable_and_shows_desc_and_count():
    out = io.StringIO()
    items = list(progress_bar(range(5), desc="copying", file=out))
    assert items == [0, 1, 2, 3, 4]
    text = out.getvalue()
    assert "copying" in text and "5/5" in text


def test_disabled_progress_bar_prints_nothing_but_still_iterates():
    out = io.StringIO()
    assert list(progress_bar(range(3), desc="quiet", enabled=False, file=out)) == [0, 1, 2]
    assert out.getvalue() == ""


def test_manual_updates_in_bytes_use_decimal_prefixes_as_every_dings_figure():
    out = io.StringIO()
    with progress_bar(total=4 * 1024 * 1024, unit="B", desc="download", file=out) as bar:
        bar.update(2 * 1024 * 1024)
        bar.update(2 * 1024 * 1024)
    assert bar.n == 4 * 1024 * 1024
    assert "4.19M/4.19M" in out.getvalue()  # 4,194,304 bytes = 4.19 MB


def test_print_over_rewrites_the_current_line():
    out = io.StringIO()
    print_over("step", 1, stream=out, end="")
    print_over("step", 2, "of", 3, file=out, sep="-", end="", flush=True)
    assert out.getvalue() == "\r step 1\033[K\r-step-2-of-3\033[K"
    print_over("done", file=out)  # datadings' default: a newline after the text
    assert out.getvalue().endswith("\r done\033[K\n")
