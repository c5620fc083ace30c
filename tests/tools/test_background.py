"""yield_threaded / yield_process: order, bounded queue, exceptions with tracebacks, early stop."""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import threading
import time
import traceback

import pytest

from dings.tools import WorkerError, WorkerTraceback, yield_process, yield_threaded

HANG = 30  # seconds after which a test counts as hanging


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
        pytest.fail(f"{getattr(fn, '__name__', fn)} did not finish within {seconds}s: it hangs")
    if "error" in result:
        raise result["error"]
    return result.get("value")


def wait_until(predicate, seconds=HANG):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached: a worker hangs")
        time.sleep(0.005)


def threads_named(name):
    return [t for t in threading.enumerate() if t.name == name]


def children_named(name):
    return [p for p in multiprocessing.active_children() if p.name == name]


# --- module-level factories (usable by any start method) ---


def count_to(n, start=0):
    yield from range(start, start + n)


def pids(n):
    for _ in range(n):
        yield os.getpid()


def explode_after(n):
    yield from range(n)
    raise ValueError(f"boom after {n}")


class Unpicklable(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.lock = threading.Lock()


def explode_unpicklable():
    yield 1
    raise Unpicklable("cannot travel")


def yield_lambda():
    yield lambda: None


def die_after_one():
    yield 1
    os._exit(3)


def forever():
    yield from itertools.count()


# --- yield_threaded ---


def test_threaded_yields_every_item_in_order():
    assert within(HANG, lambda: list(yield_threaded(range(1000), maxsize=4))) == list(range(1000))


def test_threaded_runs_the_generator_in_another_thread():
    def idents():
        for _ in range(3):
            yield threading.get_ident()

    got = within(HANG, lambda: list(yield_threaded(idents())))
    assert len(got) == 3 and threading.get_ident() not in got


def test_threaded_queue_is_bounded():
    produced = []

    def source():
        for i in itertools.count():
            produced.append(i)
            yield i

    with yield_threaded(source(), maxsize=3) as it:
        assert next(it) == 0
        # queue full (3) plus one item waiting in put: the worker cannot run further ahead
        wait_until(lambda: len(produced) >= 5)
        time.sleep(0.1)
        assert len(produced) == 5


def test_threaded_exception_reaches_the_consumer_with_the_worker_traceback():
    def explode():
        yield 1
        yield 2
        raise ValueError("bad sample 3")

    got = []
    with pytest.raises(ValueError, match="bad sample 3") as info:
        for item in yield_threaded(explode()):
            got.append(item)
    assert got == [1, 2]
    text = "".join(traceback.format_exception(info.value))
    assert "in explode" in text  # the generator's own frame is in the traceback


def test_threaded_error_from_a_non_iterable_surfaces_on_next():
    it = yield_threaded(5)
    with pytest.raises(TypeError, match="not iterable"):
        next(it)


def test_threaded_stops_an_endless_worker_when_the_consumer_breaks():
    closed = threading.Event()

    def endless():
        try:
            yield from itertools.count()
        finally:
            closed.set()

    def consume():
        it = yield_threaded(endless(), maxsize=2, name="endless-worker")
        got = [x for _, x in zip(range(5), it)]
        it.close()
        return got

    assert within(HANG, consume) == [0, 1, 2, 3, 4]
    assert closed.is_set()  # the generator was closed: its finally block ran
    assert not threads_named("endless-worker")


def test_threaded_worker_stops_when_the_iterator_is_garbage_collected():
    closed = threading.Event()

    def endless():
        try:
            yield from itertools.count()
        finally:
            closed.set()

    it = yield_threaded(endless(), maxsize=2, name="gc-worker")
    assert next(it) == 0
    del it
    gc.collect()
    assert closed.wait(HANG)
    wait_until(lambda: not threads_named("gc-worker"))


def test_threaded_iterator_is_finished_after_close():
    it = yield_threaded(range(10))
    assert next(it) == 0
    it.close()
    it.close()  # twice is fine
    assert list(it) == []


@pytest.mark.parametrize("maxsize", [0, -1, 1.5, True])
def test_threaded_rejects_a_bad_maxsize(maxsize):
    with pytest.raises(ValueError, match="maxsize"):
        yield_threaded(range(3), maxsize=maxsize)


# --- yield_process ---


def test_process_yields_every_item_in_order():
    assert within(HANG, lambda: list(yield_process(count_to, 300, start=5, maxsize=4))) == list(range(5, 305))


def test_process_runs_the_generator_in_another_process():
    got = within(HANG, lambda: list(yield_process(pids, 3)))
    assert len(set(got)) == 1 and got[0] != os.getpid()


def test_process_exception_carries_the_worker_traceback():
    got = []
    with pytest.raises(ValueError, match="boom after 2") as info:
        for item in yield_process(explode_after, 2):
            got.append(item)
    assert got == [0, 1]
    cause = info.value.__cause__
    assert isinstance(cause, WorkerTraceback)
    assert "explode_after" in cause.text and "Traceback" in cause.text
    assert "explode_after" in "".join(traceback.format_exception(info.value))


def test_process_unpicklable_exception_becomes_a_worker_error():
    with pytest.raises(WorkerError, match="Unpicklable.*cannot travel") as info:
        within(HANG, lambda: list(yield_process(explode_unpicklable)))
    assert "explode_unpicklable" in info.value.__cause__.text


def test_process_unpicklable_item_is_an_error_not_a_hang():
    with pytest.raises(Exception, match="(?i)pickle"):
        within(HANG, lambda: list(yield_process(yield_lambda)))


def test_process_that_dies_is_reported_not_waited_for():
    # os._exit skips flushing the queue, so the item before it may be lost as well
    with pytest.raises(WorkerError, match="exited with code 3"):
        within(HANG, lambda: list(yield_process(die_after_one)))


def test_process_stops_an_endless_worker_when_the_consumer_stops():
    def consume():
        with yield_process(forever, maxsize=2, name="endless-process") as it:
            return [x for _, x in zip(range(5), it)]

    assert within(HANG, consume) == [0, 1, 2, 3, 4]
    assert not children_named("endless-process")


def test_process_stops_when_the_iterator_is_garbage_collected():
    it = yield_process(forever, maxsize=2, name="gc-process")
    assert next(it) == 0
    del it
    within(HANG, gc.collect)
    assert not children_named("gc-process")


def test_process_accepts_a_generator_object_with_fork():
    it = yield_process((i * i for i in range(4)), context="fork")
    assert within(HANG, list, it) == [0, 1, 4, 9]


def test_process_refuses_a_generator_object_without_fork():
    with pytest.raises(TypeError, match="picklable factory"):
        yield_process((i for i in range(3)), context="spawn")
    with pytest.raises(TypeError, match="only allowed when gen is a callable"):
        yield_process(iter([1]), 2)


def test_process_works_with_spawn_given_a_picklable_factory():
    # builtins pickle by name, so the child needs nothing from this test module
    assert within(HANG, lambda: list(yield_process(range, 2, 6, context="spawn"))) == [2, 3, 4, 5]
