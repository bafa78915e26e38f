"""Under load: a full pool answers 429 with Retry-After, a slow job 504, and nothing hangs."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from conftest import photo, upload
from cutkit.serve.pool import PoolFull, WorkerPool


def _parallel(c, n: int, files) -> list:
    results: list = [None] * n
    start = threading.Barrier(n)

    def one(i: int) -> None:
        start.wait()
        results[i] = c.post("/v1/remove", files=files)

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a request hung"
    return results


def test_32_parallel_requests_succeed_or_get_429(make_client):
    c = make_client(workers=1, queue=1)
    results = _parallel(c, 32, upload(photo(128, 96)))
    statuses = Counter(r.status_code for r in results)
    assert set(statuses) <= {200, 429}, statuses
    assert statuses[200] >= 2 and statuses[429] >= 1, statuses
    busy = next(r for r in results if r.status_code == 429)
    assert int(busy.headers["Retry-After"]) >= 1
    assert "busy" in busy.json()["error"]["message"]
    # the pool drained: a request after the burst is served
    assert c.post("/v1/remove", files=upload(photo())).status_code == 200


def test_slow_removal_times_out_with_504(make_client):
    c = make_client(timeout=0.2)
    state = c.app.state.cutkit

    class Slow:
        def remove(self, *args, **kwargs):
            time.sleep(1.0)
            return b""

    state.sessions.get = lambda options: Slow()
    began = time.perf_counter()
    r = c.post("/v1/remove", files=upload(photo()))
    assert r.status_code == 504 and "0.2 s" in r.json()["error"]["message"]
    assert time.perf_counter() - began < 0.9  # answered at the timeout, not when the job ended


def test_pool_counts_queued_and_running_jobs():
    pool = WorkerPool(workers=1, queue=1)
    gate = threading.Event()
    first = pool.submit(gate.wait)
    second = pool.submit(lambda: 2)
    time.sleep(0.05)
    assert (pool.running, pool.queued) == (1, 1)
    with pytest.raises(PoolFull) as exc:
        pool.submit(lambda: 3)
    assert exc.value.retry_after >= 1
    gate.set()
    assert first.result(timeout=5) is True and second.result(timeout=5) == 2
    time.sleep(0.05)
    assert (pool.running, pool.queued) == (0, 0)
    pool.shutdown()
