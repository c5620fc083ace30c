"""A process-pool ``map`` with bounded memory, for CPU-bound per-sample work in converters."""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from itertools import islice
from typing import Any, TypeVar

from dings.format import progress_bar

__all__ = ["available_cpus", "parallel_map", "resolve_workers"]

T = TypeVar("T")
R = TypeVar("R")

# the mapped function, installed once per worker process by the pool's initializer
_worker_fn: Callable[[Any], Any] | None = None


def available_cpus() -> int:
    """Return how many CPUs this process may run on (its affinity mask, else ``os.cpu_count()``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def resolve_workers(workers: int) -> int:
    """Turn a worker/thread count where 0 means "all CPUs" into a concrete count.

    Args:
        workers: 0 for every available CPU, or a positive count.

    Raises:
        ValueError: ``workers`` is negative or not an int.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise ValueError(f"workers must be an int >= 0 (0 = all CPUs), got {workers!r}")
    return workers or available_cpus()


def _init_worker(fn: Callable[[Any], Any]) -> None:
    global _worker_fn
    _worker_fn = fn


def _run_chunk(start: int, items: list[Any]) -> list[Any]:
    fn = _worker_fn
    if fn is None:
        raise RuntimeError("parallel_map worker was not initialised")
    results = []
    for offset, item in enumerate(items):
        try:
            results.append(fn(item))
        except BaseException as exc:
            if hasattr(exc, "add_note"):  # Python >= 3.11
                exc.add_note(f"(parallel_map: raised for input item {start + offset})")
            raise
    return results


def _serial(fn: Callable[[T], R], iterable: Iterable[T], bar_args: dict[str, Any]) -> Iterator[R]:
    bar = progress_bar(**bar_args)
    try:
        for item in iterable:
            yield fn(item)
            bar.update(1)
    finally:
        bar.close()


def _pooled(
    fn: Callable[[T], R],
    iterable: Iterable[T],
    workers: int,
    ordered: bool,
    chunksize: int,
    max_pending: int,
    context: multiprocessing.context.BaseContext,
    bar_args: dict[str, Any],
) -> Iterator[R]:
    source = iter(iterable)
    bar = progress_bar(**bar_args)
    executor = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(fn,))
    in_order: deque[Future] = deque()
    running: set[Future] = set()
    outstanding = 0  # items submitted and not yet yielded; never above max_pending
    submitted = 0
    exhausted = False
    try:
        while True:
            while not exhausted and outstanding + chunksize <= max_pending:
                chunk = list(islice(source, chunksize))
                if not chunk:
                    exhausted = True
                    break
                future = executor.submit(_run_chunk, submitted, chunk)
                submitted += len(chunk)
                outstanding += len(chunk)
                (in_order.append if ordered else running.add)(future)
            if ordered:
                if not in_order:
                    return
                done = [in_order.popleft()]
            else:
                if not running:
                    return
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                running -= finished
                done = list(finished)
            for future in done:
                for result in future.result():
                    outstanding -= 1
                    yield result
                    bar.update(1)
    finally:
        for future in (*in_order, *running):
            future.cancel()
        # waits only for the chunks already running (at most one per worker)
        executor.shutdown(wait=True, cancel_futures=True)
        bar.close()


def parallel_map(
    fn: Callable[[T], R],
    iterable: Iterable[T],
    workers: int = 0,
    ordered: bool = True,
    chunksize: int = 1,
    max_pending: int | None = None,
    *,
    context: str | multiprocessing.context.BaseContext | None = None,
    progress: bool | None = False,
    total: int | None = None,
    desc: str | None = None,
) -> Iterator[R]:
    """Apply ``fn`` to every item of ``iterable`` in a pool of worker processes, lazily.

    The input is read only as fast as results are consumed: at most ``max_pending`` items are
    submitted and not yet yielded, so an endless input or slow consumer never fills memory. With
    ``ordered=True`` the results come in input order (identical to ``map(fn, iterable)``, so a
    conversion stays deterministic); ``ordered=False`` yields each chunk as soon as it is done.

    ``fn`` is sent to each worker once (pickled unless the start method is ``fork``), items and
    results are pickled for every call: use a module-level function and picklable data. An
    exception in ``fn`` is re-raised here with the worker's traceback as its ``__cause__`` and a note
    naming the input item. Closing the returned generator early (``break`` and garbage collection,
    or ``close()``) cancels what is queued, waits for the chunks already running and shuts the pool
    down. The pool starts at the first ``next()``.

    Args:
        fn: function of one item.
        iterable: input items (any iterable, also endless).
        workers: worker processes; 0 = all available CPUs; 1 = run in this process, no pool.
        ordered: yield results in input order (``True``) or as they finish (``False``).
        chunksize: items sent to a worker per task; larger chunks cut overhead for cheap ``fn``.
        max_pending: bound on items submitted but not yet yielded (default ``4 * workers *
            chunksize``); must be >= ``chunksize``.
        context: multiprocessing start method name or context; ``None`` uses the default.
        progress: show a progress bar of yielded results.
        total: expected number of items, for the progress bar.
        desc: progress bar label.

    Returns:
        A generator of ``fn(item)`` results.

    Raises:
        ValueError: bad ``workers``, ``chunksize`` or ``max_pending``.
    """
    workers = resolve_workers(workers)
    if isinstance(chunksize, bool) or not isinstance(chunksize, int) or chunksize < 1:
        raise ValueError(f"chunksize must be an int >= 1, got {chunksize!r}")
    if max_pending is None:
        max_pending = 4 * workers * chunksize
    elif isinstance(max_pending, bool) or not isinstance(max_pending, int) or max_pending < chunksize:
        raise ValueError(f"max_pending must be an int >= chunksize ({chunksize}), got {max_pending!r}")
    bar_args = {"total": total, "desc": desc, "enabled": progress}
    if workers == 1:
        return _serial(fn, iterable, bar_args)
    if context is None or isinstance(context, str):
        ctx = multiprocessing.get_context(context)
    else:
        ctx = context
    return _pooled(fn, iterable, workers, ordered, chunksize, max_pending, ctx, bar_args)
