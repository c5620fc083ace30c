"""parallel_map: same output as map, bounded input consumption, exceptions, early stop, no pool for 1."""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import threading
import time

import pytest

from dings.tools import available_cpus, parallel_map, resolve_workers

HANG = 60


def within(seconds, fn, *args):
    """Run fn in a helper thread; fail (instead of blocking the suite) if it does not finish."""
    result = {}

    def run():
        try:
            result["value"] = fn(*args)
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"did not finish within {seconds}s: it hangs")
    if "error" in result:
        raise result["error"]
    return result.get("value")


def uneven(x):
    """Later items finish first now and then, so an ordered map must reorder."""
    if x % 5 == 0:
        time.sleep(0.002)
    return x * x + 1


def pid(_):
    return os.getpid()


def fail_on_seven(x):
    if x == 7:
        raise ValueError(f"cannot convert {x}")
    return x


class Counting:
    """An endless input that records how many items were taken from it."""

    def __init__(self):
        self.taken = 0

    def __iter__(self):
        for i in itertools.count():
            self.taken = i + 1
            yield i


def pool_processes():
    return [p for p in multiprocessing.active_children() if "Process" in type(p).__name__]


@pytest.mark.parametrize("chunksize", [1, 3])
def test_ordered_output_equals_map(chunksize):
    items = list(range(103))
    got = within(HANG, lambda: list(parallel_map(uneven, items, workers=2, chunksize=chunksize)))
    assert got == list(map(uneven, items))


def test_unordered_output_has_every_result_once():
    items = range(100)
    got = within(HANG, lambda: list(parallel_map(uneven, items, workers=2, ordered=False, chunksize=2)))
    assert sorted(got) == sorted(map(uneven, items))


def test_workers_run_in_other_processes_and_one_worker_runs_here():
    pooled = within(HANG, lambda: set(parallel_map(pid, range(20), workers=2)))
    assert os.getpid() not in pooled
    assert set(parallel_map(pid, range(5), workers=1)) == {os.getpid()}


def test_one_worker_accepts_lambdas_and_keeps_order():
    assert list(parallel_map(lambda x: -x, range(5), workers=1)) == [0, -1, -2, -3, -4]


@pytest.mark.parametrize("ordered", [True, False])
def test_never_more_than_max_pending_items_taken_ahead_of_the_consumer(ordered):
    source = Counting()

    def consume():
        consumed = 0
        ahead = []
        gen = parallel_map(uneven, source, workers=2, ordered=ordered, chunksize=2, max_pending=6)
        for _ in gen:
            consumed += 1
            ahead.append(source.taken - consumed)
            if consumed == 40:
                break
        gen.close()
        return ahead

    ahead = within(HANG, consume)
    # items taken from the input but not yet given to the consumer (the current one counts as given)
    assert max(ahead) <= 6
    assert source.taken <= 40 + 6


def test_endless_input_with_early_stop_does_not_hang_and_shuts_the_pool_down():
    source = Counting()

    def consume():
        gen = parallel_map(uneven, source, workers=2)
        got = [x for _, x in zip(range(10), gen)]
        gen.close()
        return got

    assert within(HANG, consume) == [uneven(i) for i in range(10)]
    assert source.taken <= 10 + 4 * 2  # default max_pending = 4 * workers * chunksize
    assert not pool_processes()


def test_garbage_collected_generator_shuts_the_pool_down():
    gen = parallel_map(uneven, Counting(), workers=2)
    assert next(gen) == uneven(0)
    del gen
    within(HANG, gc.collect)
    assert not pool_processes()


def test_worker_exception_propagates_with_the_worker_traceback():
    got = []

    def consume():
        for x in parallel_map(fail_on_seven, range(20), workers=2):
            got.append(x)

    with pytest.raises(ValueError, match="cannot convert 7") as info:
        within(HANG, consume)
    assert got == list(range(7))  # ordered: everything before the failing item arrived
    cause = info.value.__cause__
    assert cause is not None and "fail_on_seven" in str(cause)
    if hasattr(info.value, "__notes__"):
        assert any("input item 7" in note for note in info.value.__notes__)
    assert not pool_processes()


def test_exception_in_this_process_with_one_worker():
    with pytest.raises(ValueError, match="cannot convert 7"):
        list(parallel_map(fail_on_seven, range(10), workers=1))


def test_the_input_is_not_read_before_iteration():
    source = Counting()
    gen = parallel_map(uneven, source, workers=2)
    assert source.taken == 0
    gen.close()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"workers": -1}, "workers must be an int >= 0"),
        ({"workers": 1.5}, "workers must be an int >= 0"),
        ({"chunksize": 0}, "chunksize must be an int >= 1"),
        ({"chunksize": 4, "max_pending": 3}, r"max_pending must be an int >= chunksize \(4\)"),
    ],
)
def test_bad_arguments_fail_at_the_call(kwargs, match):
    with pytest.raises(ValueError, match=match):
        parallel_map(uneven, range(3), **kwargs)


def test_progress_bar_counts_results(capsys):
    assert list(parallel_map(uneven, range(3), workers=1, progress=True, total=3, desc="squares")) == [1, 2, 5]
    assert "squares" in capsys.readouterr().err
    list(parallel_map(uneven, range(3), workers=1))
    assert capsys.readouterr().err == ""


def test_resolve_workers():
    assert resolve_workers(0) == available_cpus() >= 1
    assert resolve_workers(3) == 3
    with pytest.raises(ValueError, match="0 = all CPUs"):
        resolve_workers(-2)
