"""``cutkit serve`` as a real process: it starts, answers, stops; bad settings fail at start-up."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import photo

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_up(port: int, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else "server exited"
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("server did not come up")


def _multipart(data: bytes) -> tuple[bytes, str]:
    boundary = "cutkitboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_serve_answers_healthz_and_remove(tmp_path: Path):
    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "cutkit",
        "serve",
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_up(port, proc)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/healthz")
        assert json.loads(conn.getresponse().read())["status"] == "ok"
        body, kind = _multipart(photo())
        conn.request("POST", "/v1/remove?format=webp", body=body, headers={"Content-Type": kind})
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("Content-Type") == "image/webp"
        assert resp.read()[8:12] == b"WEBP"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert "cutkit serving on http://127.0.0.1" in proc.stderr.read()


def test_cuda_without_cuda_fails_at_start_and_exposed_host_warns():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    cmd = [sys.executable, "-m", "cutkit", "serve", "--host", "0.0.0.0", "--device", "cuda", "--port", "9"]
    done = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "without an API key" in done.stderr
    assert "error: cannot start: device 'cuda' requested, but CUDA is not available" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_setting_is_a_clear_error():
    done = subprocess.run(
        [sys.executable, "-m", "cutkit", "serve", "--queue", "-1"],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "queue must not be negative" in done.stderr
