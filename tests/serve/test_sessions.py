"""The model-session cache: loaded once, shared, keyed by every model option, bounded (LRU)."""

from __future__ import annotations

import threading
import time

from conftest import photo, upload
from cutkit import options as opt
from cutkit.serve.sessions import SessionCache


def test_two_requests_one_model_load(make_client):
    c = make_client()
    sessions = c.app.state.cutkit.sessions
    assert sessions.loads == 1  # the default model, loaded at start-up
    for _ in range(2):
        assert c.post("/v1/remove", files=upload(photo())).status_code == 200
    assert sessions.loads == 1
    assert "cutkit_model_loads 1" in c.get("/metrics").text


def test_another_model_option_loads_another_session_and_the_cache_stays_bounded(make_client):
    c = make_client(sessions=1)
    sessions = c.app.state.cutkit.sessions
    assert c.post("/v1/remove?input_size=256", files=upload(photo())).status_code == 200
    assert sessions.loads == 2 and len(sessions) == 1
    assert c.post("/v1/remove?input_size=256", files=upload(photo())).status_code == 200
    assert sessions.loads == 2


def _fake_cache(size: int) -> tuple[SessionCache, list]:
    made: list = []

    def loader(**model_options):
        time.sleep(0.05)  # wide enough for concurrent requests to overlap
        made.append(model_options)
        return object()

    return SessionCache(size=size, loader=loader), made


def test_concurrent_first_requests_load_once():
    cache, made = _fake_cache(2)
    o = opt.resolve(model="cutnet-duts")
    got: list = []
    threads = [threading.Thread(target=lambda: got.append(cache.get(o))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(made) == 1 and cache.loads == 1 and len({id(g) for g in got}) == 1


def test_least_recently_used_is_dropped():
    cache, _ = _fake_cache(2)
    a, b, c = (opt.resolve(input_size=s) for s in (64, 96, 128))
    first = cache.get(a)
    cache.get(b)
    assert cache.get(a) is first  # a is now the most recent
    cache.get(c)  # drops b
    assert len(cache) == 2 and cache.loads == 3
    assert cache.get(a) is first
    cache.get(b)
    assert cache.loads == 4


def test_key_covers_device_and_weights_not_only_the_name():
    cache, made = _fake_cache(4)
    cache.get(opt.resolve(model="cutnet-duts", device="cpu"))
    cache.get(opt.resolve(model="cutnet-duts", device="auto"))
    cache.get(opt.resolve(model="cutnet-duts", precision="fp32"))
    assert len(made) == 3
