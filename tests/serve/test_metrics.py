"""Prometheus text after requests."""

from __future__ import annotations

import re

from conftest import photo, upload
from cutkit.serve.metrics import Metrics


def test_metrics_after_requests(make_client):
    c = make_client()
    c.post("/v1/remove", files=upload(photo()))
    c.post("/v1/remove", files=upload(b"text"))
    c.get("/no/such/path")
    text = c.get("/metrics").text
    assert 'cutkit_requests_total{method="POST",path="/v1/remove",status="200"} 1' in text
    assert 'cutkit_requests_total{method="POST",path="/v1/remove",status="400"} 1' in text
    assert 'cutkit_requests_total{method="GET",path="<unmatched>",status="404"} 1' in text
    assert 'cutkit_request_seconds_count{path="/v1/remove"} 2' in text
    assert 'cutkit_request_seconds_bucket{path="/v1/remove",le="+Inf"} 2' in text
    assert re.search(r"^cutkit_queue_depth 0$", text, re.M)
    assert re.search(r"^cutkit_requests_in_flight 1$", text, re.M)  # the scrape itself
    assert "# TYPE cutkit_request_seconds histogram" in text


def test_histogram_buckets_are_cumulative():
    m = Metrics()
    for seconds in (0.001, 0.02, 0.3, 100.0):
        m.observe("GET", "/x", 200, seconds)
    lines = dict(
        line.rsplit(" ", 1)
        for line in m.render().splitlines()
        if line.startswith("cutkit_request_seconds_bucket")
    )
    assert lines['cutkit_request_seconds_bucket{path="/x",le="0.005"}'] == "1"
    assert lines['cutkit_request_seconds_bucket{path="/x",le="0.5"}'] == "3"
    assert lines['cutkit_request_seconds_bucket{path="/x",le="60.0"}'] == "3"
    assert lines['cutkit_request_seconds_bucket{path="/x",le="+Inf"}'] == "4"
