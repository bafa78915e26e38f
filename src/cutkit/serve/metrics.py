"""Prometheus metrics in the text exposition format, and the middleware that records them.

The few lines of the format are written here rather than adding ``prometheus_client``: counters of
requests by path and status, a latency histogram by path, and gauges read at scrape time (requests in
flight, jobs waiting for a worker, busy workers, models loaded).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
UNMATCHED = "<unmatched>"  # one label for every path no route knows, so scanners cannot blow up the series


class Metrics:
    """Request counters and latency histograms, plus gauges computed when scraped."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self._buckets: dict[str, list[int]] = {}
        self._sums: dict[str, float] = defaultdict(float)
        self.in_flight = 0
        self.gauges: dict[str, tuple[str, Callable[[], float]]] = {}

    def gauge(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        """Report ``read()`` as gauge ``name`` at every scrape."""
        self.gauges[name] = (help_text, read)

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, path, status)] += 1
            counts = self._buckets.setdefault(path, [0] * (len(BUCKETS) + 1))
            for i, bound in enumerate((*BUCKETS, float("inf"))):
                if seconds <= bound:
                    counts[i] += 1
            self._sums[path] += seconds

    def render(self) -> str:
        """All metrics as Prometheus text."""
        with self._lock:
            lines = self._request_lines() + self._latency_lines()
        lines += [
            "# HELP cutkit_requests_in_flight HTTP requests being handled.",
            "# TYPE cutkit_requests_in_flight gauge",
            f"cutkit_requests_in_flight {self.in_flight}",
        ]
        for name, (help_text, read) in self.gauges.items():
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {read():g}"]
        return "\n".join(lines) + "\n"

    def _request_lines(self) -> list[str]:
        lines = [
            "# HELP cutkit_requests_total HTTP requests by method, path and status.",
            "# TYPE cutkit_requests_total counter",
        ]
        for (method, path, status), n in sorted(self.requests.items()):
            lines.append(
                f'cutkit_requests_total{{method="{method}",path="{_esc(path)}",status="{status}"}} {n}'
            )
        return lines

    def _latency_lines(self) -> list[str]:
        lines = [
            "# HELP cutkit_request_seconds Time from request to response, by path.",
            "# TYPE cutkit_request_seconds histogram",
        ]
        for path, counts in sorted(self._buckets.items()):
            label = f'path="{_esc(path)}"'
            for bound, n in zip((*BUCKETS, "+Inf"), counts, strict=True):
                lines.append(f'cutkit_request_seconds_bucket{{{label},le="{bound}"}} {n}')
            lines.append(f"cutkit_request_seconds_sum{{{label}}} {self._sums[path]:.6f}")
            lines.append(f"cutkit_request_seconds_count{{{label}}} {counts[-1]}")
        return lines


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class MetricsMiddleware:
    """ASGI middleware timing every HTTP request and counting it by its route's path and status."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), 500  # an app that dies before answering counts as a 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.in_flight += 1
        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.in_flight -= 1
            path = _route_path(scope)
            self.metrics.observe(scope["method"], path, status, time.perf_counter() - start)


def _route_path(scope: Scope) -> str:
    """The matched route's path template (``/static`` for every static file), else :data:`UNMATCHED`."""
    route = scope.get("route")
    return getattr(route, "path", None) or UNMATCHED
