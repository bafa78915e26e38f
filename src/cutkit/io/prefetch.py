"""Work ahead in threads, hand results back in order, hold a bounded number at a time."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_ahead(
    fn: Callable[[T], R], items: Iterable[T], *, workers: int, ahead: int
) -> Iterator[tuple[T, Future[R]]]:
    """Yield ``(item, future of fn(item))`` in input order, running ``fn`` in ``workers`` threads.

    At most ``ahead`` items are submitted and not yet handed back, so memory stays bounded however many
    items there are: a slow consumer stalls the workers instead of piling up results. ``future.result()``
    gives ``fn``'s value or raises its exception, so one bad item does not end the iteration.

    Args:
        fn: the work for one item (decoding, typically: Pillow and OpenCV release the GIL).
        items: consumed lazily, never all at once.
        workers: threads (at least 1).
        ahead: items in flight (at least ``workers``, so every thread can be busy).
    """
    if workers < 1 or ahead < workers:
        raise ValueError(f"need workers >= 1 and ahead >= workers, got workers={workers}, ahead={ahead}")
    source = iter(items)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cutkit-decode")
    pending: deque[tuple[T, Future[R]]] = deque()
    try:
        for item in source:
            pending.append((item, pool.submit(fn, item)))
            if len(pending) >= ahead:
                yield pending.popleft()
        while pending:
            yield pending.popleft()
    finally:
        # The consumer stopped early (an error, Ctrl-C): drop queued work, let running calls end.
        pool.shutdown(wait=True, cancel_futures=True)
