"""The server under sustained load: latency, throughput, errors and memory growth of ``cutkit serve``.

Starts ``cutkit serve`` as a subprocess on a free port (or targets ``--url`` of a running server), warms it
up, then sends ``--requests`` removals of one generated 640×480 photo-like JPEG from ``--concurrency``
client threads (stdlib http.client, one keep-alive connection each). Reports p50/p95/p99 latency,
throughput, answers by status, and the server's resident memory (VmRSS from /proc) after warm-up and at the
end; the goal of issue #6 is growth below 10 %. Writes its own section of ``docs/benchmarks.md``.

    python benchmarks/serve_load.py                       # 1000 requests at concurrency 8
    python benchmarks/serve_load.py --requests 40 --out /tmp/smoke.md
    python benchmarks/serve_load.py --url http://host:7000 --pid 1234
"""

from __future__ import annotations

import argparse
import http.client
import io
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sections import machine_line, write_section

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Server under load (`benchmarks/serve_load.py`)"
BOUNDARY = "cutkitloadboundary"
GOAL_GROWTH = 10.0  # percent, issue #6


@dataclass
class Results:
    """What the load run measured."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    rss_warm: int | None = None
    rss_end: int | None = None
    rss_peak: int | None = None


def photo_like(width: int = 640, height: int = 480, seed: int = 0) -> bytes:
    """A JPEG with a photo's statistics: smooth lighting, a textured subject, sensor noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    sky = np.stack([120 + 60 * yy / height, 150 + 40 * xx / width, 200 - 50 * yy / height], axis=-1)
    subject = ((xx - width * 0.5) / (width * 0.22)) ** 2 + ((yy - height * 0.55) / (height * 0.35)) ** 2 < 1
    texture = 40 * np.sin(xx / 7.0)[..., None] * np.cos(yy / 5.0)[..., None]
    img = np.where(subject[..., None], np.array([170, 90, 50], np.float32) + texture, sky)
    img += rng.normal(0, 6, img.shape)
    buf = io.BytesIO()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def multipart(data: bytes) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def rss_kib(pid: int) -> int | None:
    """The process's resident set size in KiB (``VmRSS``), or None without /proc."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return None
    line = next(ln for ln in status.read_text().splitlines() if ln.startswith("VmRSS:"))
    return int(line.split()[1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen, str]:
    """``cutkit serve`` on a free port; returns the process and its URL once /healthz answers."""
    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "cutkit",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(args.workers),
        "--queue",
        str(args.queue),
        "--log-level",
        "warning",
        *shlex.split(args.server_args),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with code {proc.returncode}: {' '.join(cmd)}")
        try:
            if _get(url, "/healthz") == 200:
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit("server did not answer /healthz within 120 s")


def _get(url: str, path: str) -> int:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


class Client:
    """One keep-alive connection sending removals; reconnects after an error."""

    def __init__(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        self.parts = urlsplit(url)
        self.body, self.headers = body, headers
        self.conn: http.client.HTTPConnection | None = None

    def send(self) -> tuple[int | str, float]:
        start = time.perf_counter()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.parts.hostname, self.parts.port, timeout=120)
            self.conn.request("POST", "/v1/remove", body=self.body, headers=self.headers)
            resp = self.conn.getresponse()
            resp.read()
            status: int | str = resp.status
        except (OSError, http.client.HTTPException) as exc:
            status = type(exc).__name__  # counted as an error by kind; the next request reconnects
            if self.conn is not None:
                self.conn.close()
            self.conn = None
        return status, time.perf_counter() - start


def run_load(url: str, body: bytes, headers: dict[str, str], total: int, concurrency: int) -> Results:
    """``total`` requests from ``concurrency`` threads; latency of every one, status counts, wall time."""
    res, lock = Results(), threading.Lock()
    remaining = iter(range(total))

    def worker() -> None:
        client = Client(url, body, headers)
        while True:
            with lock:
                if next(remaining, None) is None:
                    return
            status, seconds = client.send()
            with lock:
                res.statuses[status] += 1
                res.latencies.append(seconds)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    res.seconds = time.perf_counter() - start
    return res


def sample_peak(pid: int | None, stop: threading.Event, res: Results) -> None:
    while pid is not None and not stop.wait(0.5):
        rss = rss_kib(pid)
        if rss is not None:
            res.rss_peak = max(res.rss_peak or 0, rss)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def measure(args: argparse.Namespace, url: str, pid: int | None) -> Results:
    body = multipart(photo_like())
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    if args.api_key:
        headers["X-API-Key"] = args.api_key
    run_load(url, body, headers, args.warmup, args.concurrency)
    warm_rss = rss_kib(pid) if pid else None
    stop = threading.Event()
    res_holder = Results()
    sampler = threading.Thread(target=sample_peak, args=(pid, stop, res_holder), daemon=True)
    sampler.start()
    res = run_load(url, body, headers, args.requests, args.concurrency)
    stop.set()
    sampler.join()
    res.rss_warm, res.rss_end = warm_rss, rss_kib(pid) if pid else None
    res.rss_peak = max(filter(None, (res_holder.rss_peak, res.rss_end)), default=None)
    return res


def _mib(kib: int | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.0f} MiB"


def growth_percent(res: Results) -> float | None:
    """RSS growth from after warm-up to the end, in percent."""
    if not (res.rss_warm and res.rss_end):
        return None
    return 100.0 * (res.rss_end - res.rss_warm) / res.rss_warm


def table_row(res: Results) -> str:
    lat = [s * 1000 for s in res.latencies]
    errors = ", ".join(f"{k}: {v}" for k, v in sorted(res.statuses.items(), key=str) if k != 200)
    growth = growth_percent(res)
    cells = [
        str(len(lat)),
        f"{len(lat) / res.seconds:.1f} req/s",
        *(f"{percentile(lat, q):.0f} ms" for q in (50, 95, 99)),
        f"{max(lat):.0f} ms",
        errors or "none",
        _mib(res.rss_warm),
        _mib(res.rss_end),
        _mib(res.rss_peak),
        "n/a" if growth is None else f"{growth:+.1f} %",
    ]
    return "| " + " | ".join(cells) + " |"


def report(args: argparse.Namespace, res: Results, command: str) -> str:
    where = (
        f"a server with {args.workers} worker(s) and a queue of {args.queue}" if not args.url else args.url
    )
    lines = [
        SECTION,
        "",
        machine_line(),
        "",
        f"`{command}`: {args.requests} requests after {args.warmup} warm-up requests from "
        f"{args.concurrency} client threads (one keep-alive connection each) to {where}; each uploads the "
        f"same generated 640×480 photo-like JPEG ({len(photo_like()) // 1024} KiB) to `POST /v1/remove` "
        "and gets a PNG cutout. RSS is the server process's VmRSS.",
        "",
        "| requests | throughput | p50 | p95 | p99 | max | errors | RSS warm | RSS end | RSS peak | growth |",
        "|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
        table_row(res),
        "",
    ]
    growth = growth_percent(res)
    if growth is not None:
        verdict = "within" if growth < GOAL_GROWTH else "ABOVE"
        lines += [
            f"Memory growth after warm-up: {growth:+.1f} %, {verdict} the goal of < {GOAL_GROWTH:g} %.",
            "",
        ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=1000, help="timed requests (default 1000)")
    p.add_argument("--concurrency", type=int, default=8, help="client threads (default 8)")
    p.add_argument("--warmup", type=int, default=24, help="untimed requests first (default 24)")
    p.add_argument(
        "--workers", type=int, default=2, help="server worker threads when started here (default 2)"
    )
    p.add_argument("--queue", type=int, default=16, help="server queue when started here (default 16)")
    p.add_argument("--server-args", default="", help="more `cutkit serve` flags, e.g. '--model u2netp'")
    p.add_argument("--url", help="target a running server instead of starting one")
    p.add_argument("--pid", type=int, help="with --url: the server's process id, for its memory")
    p.add_argument("--api-key", help="X-API-Key to send")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="Markdown file to write")
    args = p.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1 or args.warmup < 0:
        p.error("--requests and --concurrency must be at least 1, --warmup at least 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    command = "python benchmarks/serve_load.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    proc = None
    try:
        if args.url:
            url, pid = args.url.rstrip("/"), args.pid
        else:
            proc, url = start_server(args)
            pid = proc.pid
        res = measure(args, url, pid)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    text = report(args, res, command.strip())
    print(text)
    write_section(args.out, text)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0 if set(res.statuses) == {200} else 1


if __name__ == "__main__":
    sys.exit(main())
