"""Independent solves side by side, each in a worker process, on the machine's cores.

OR-Tools holds the GIL while it searches: two solver threads took 2.14 s where
the same two 1 s solves one after the other took 1.84 s. A solve kept in the
calling thread is no better: the pool's own feeder threads need the GIL to
hand the other solves to their workers, so those started only once it ended
(half of the benchmark's races took twice their limit). So every solve runs
in a worker while the caller waits. The pool starts on first use with the
*spawn* method (the service runs solver threads, and forking a threaded
process is unsafe) and is kept for later calls; :func:`warm_up` pays its
start-up (about half a second of imports per worker) ahead of time.

A solve that cannot run in a worker (the pool broke) runs in the calling
thread instead, so its *result* never depends on the pool, only the wall time.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_pool_size = 0


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """The shared pool, with at least ``workers`` processes (restarted larger if need be)."""
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size < workers:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("spawn")
            )
            _pool_size = workers
        return _pool


def _discard_pool(broken: Executor) -> None:
    global _pool, _pool_size
    with _lock:
        if _pool is broken:
            _pool, _pool_size = None, 0


def warm_up(ready: Callable[[], object], workers: int = 2) -> None:
    """Start the worker processes and run ``ready`` in each, before the first race.

    ``ready`` is a module-level function of the module the races need (the solver):
    unpickling it in the worker imports that module.
    """
    pool = worker_pool(workers)
    for future in [pool.submit(ready) for _ in range(workers)]:
        future.result()


def side_by_side(
    calls: Sequence[Callable[[], T]],
    *,
    timeout_s: float,
    executor: Executor | None = None,
) -> list[T | None]:
    """Results of ``calls`` in their order, each run in a worker process.

    ``calls`` must pickle (a :func:`functools.partial` of a module-level
    function does). A single call runs here. A worker not done within
    ``timeout_s`` is given up (None, with a warning): the caller keeps the rest.
    """
    if len(calls) <= 1:
        return [call() for call in calls]
    pool = executor or worker_pool(len(calls))
    futures: list[Future[T] | None] = []
    for call in calls:
        try:
            futures.append(pool.submit(call))
        except (BrokenProcessPool, RuntimeError):
            futures.append(None)
    deadline = time.monotonic() + timeout_s
    return [
        _collect(call, future, pool, max(0.0, deadline - time.monotonic()))
        for call, future in zip(calls, futures, strict=True)
    ]


def _collect(
    call: Callable[[], T], future: Future[T] | None, pool: Executor, timeout_s: float
) -> T | None:
    if future is not None:
        try:
            return future.result(timeout=timeout_s)
        except FutureTimeout:
            logger.warning("a side-by-side solve gave no result in time; given up")
            future.cancel()
            return None
        except BrokenProcessPool:
            _discard_pool(pool)
    logger.warning("worker pool unavailable: running the solve in this thread")
    return call()
