"""A bounded worker pool: N inference threads and a bounded queue, awaited from the event loop.

Inference never runs on the event loop: a job goes to one of the pool's threads, and the request awaits its
future. When ``workers + queue`` jobs are already pending the job is refused at once (the server answers
429), and a job not finished within its timeout is abandoned by the request (504). A running job cannot be
stopped (Python threads cannot be killed), so it keeps its worker until it ends: the pool's bound counts it
until then, which is what keeps an overloaded server from piling up work.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class PoolFull(Exception):
    """Every worker is busy and the queue is full; ``retry_after`` estimates seconds until there is room."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"server busy: all workers and the queue are full; retry in {retry_after} s")
        self.retry_after = retry_after


class PoolTimeout(Exception):
    """A job did not finish within its timeout."""


class WorkerPool:
    """``workers`` threads running jobs, at most ``queue`` more waiting.

    Args:
        workers: threads running jobs at once.
        queue: jobs that may wait for a thread.
    """

    def __init__(self, *, workers: int, queue: int) -> None:
        self.workers = workers
        self.capacity = workers + queue
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cutkit-infer")
        self._lock = threading.Lock()
        self._pending = 0
        self._running = 0
        self._mean_seconds = 0.1  # a running estimate of a job's duration, for Retry-After

    @property
    def running(self) -> int:
        return self._running

    @property
    def queued(self) -> int:
        return self._pending - self._running

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        """Queue ``fn``; raises :class:`PoolFull` at once when the pool holds ``capacity`` jobs."""
        with self._lock:
            if self._pending >= self.capacity:
                raise PoolFull(self._retry_after())
            self._pending += 1
        try:
            future = self._executor.submit(self._run, fn)
        except BaseException:
            self._finished()
            raise
        future.add_done_callback(lambda _f: self._finished())
        return future

    async def run(self, fn: Callable[[], T], timeout: float) -> T:
        """Run ``fn`` on a worker and await it; :class:`PoolFull` or :class:`PoolTimeout` when it cannot."""
        future = self.submit(fn)
        try:
            # On timeout wait_for cancels the wrapper, which cancels the job if it still waits in the queue;
            # a running job finishes on its own.
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except asyncio.TimeoutError:
            raise PoolTimeout(f"not done within {timeout:g} s") from None

    def shutdown(self) -> None:
        """Stop taking jobs; queued ones are dropped, running ones finish."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _run(self, fn: Callable[[], Any]) -> Any:
        with self._lock:
            self._running += 1
        start = time.perf_counter()
        try:
            return fn()
        finally:
            with self._lock:
                self._running -= 1
                self._mean_seconds = 0.9 * self._mean_seconds + 0.1 * (time.perf_counter() - start)

    def _finished(self) -> None:
        with self._lock:
            self._pending -= 1

    def _retry_after(self) -> int:
        """Seconds until the jobs ahead are likely done: queue length × job time ÷ workers, at least 1."""
        return max(1, math.ceil(self._pending * self._mean_seconds / self.workers))
