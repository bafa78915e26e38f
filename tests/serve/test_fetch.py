"""The URL fetcher against a real local HTTP server: what it refuses, and that it works when allowed.

The refusal tests run with the fetcher's normal rules (no allow-list): the local server at 127.0.0.1 is
refused as loopback, and its hit counter shows the refusal came before any connection. Only the success
path and the first hop of the redirect tests list 127.0.0.1 in ``url_allow`` (the operator's allow-list for
an internal image store); the redirect targets stay outside it.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import decoded, photo
from cutkit.serve.config import ServeConfig
from cutkit.serve.errors import ApiError
from cutkit.serve.fetch import check_target, fetch_url

PHOTO = photo()


class _Handler(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Handler.hits.append(self.path)
        parts = urlsplit(self.path)
        if parts.path == "/photo.png":
            self._send(200, PHOTO)
        elif parts.path == "/big":
            self._send(200, b"\0" * 200_000)
        elif parts.path == "/slow":
            time.sleep(1.5)
            self._send(200, PHOTO)
        elif parts.path == "/missing":
            self._send(404, b"no")
        elif parts.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", parse_qs(parts.query)["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # keep the test output clean
        return


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        # The timeout test's client hangs up on /slow on purpose; any other error is printed as usual.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@pytest.fixture(scope="module")
def local_server() -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _clear_hits() -> None:
    _Handler.hits.clear()


ON = ServeConfig(allow_url=True)
ALLOW_LOCAL = ServeConfig(allow_url=True, url_allow=("127.0.0.1/32",))


def _refused(url: str, cfg: ServeConfig = ON) -> ApiError:
    with pytest.raises(ApiError) as exc:
        fetch_url(url, cfg)
    return exc.value


def test_loopback_refused_before_connecting(local_server):
    err = _refused(f"{local_server}/photo.png")
    assert err.status == 400 and "loopback" in err.message
    assert _Handler.hits == []
    assert "loopback" in _refused("http://localhost:9/photo.png").message
    assert "loopback" in _refused("http://[::1]:9/x").message
    assert "loopback" in _refused("http://[::ffff:127.0.0.1]:9/x").message


@pytest.mark.parametrize("host", ["10.0.0.7", "192.168.1.20", "172.16.3.4"])
def test_private_ranges_refused(host):
    assert "private" in _refused(f"http://{host}/cat.jpg").message


def test_link_local_metadata_address_refused():
    assert "link-local" in _refused("http://169.254.169.254/latest/meta-data/").message


def test_other_non_public_addresses_refused():
    assert "multicast" in _refused("http://224.0.0.1/x").message
    assert "unspecified" in _refused("http://0.0.0.0/x").message


def test_private_address_found_by_dns_refused():
    # a public-looking name whose DNS answer is private: the check is on the resolved address
    cfg = ServeConfig(allow_url=True, resolver=lambda host, port: ["93.184.215.14", "10.1.2.3"])
    assert "10.1.2.3, a private address" in _refused("http://images.example.com/cat.jpg", cfg).message


@pytest.mark.parametrize(
    "target", ["http://10.0.0.1/x", "http://192.168.0.1/x", "http://169.254.169.254/", "http://127.0.0.2:9/x"]
)
def test_redirect_to_a_private_address_refused(local_server, target):
    err = _refused(f"{local_server}/redirect?to={target}", ALLOW_LOCAL)
    assert err.status == 400 and "refused" in err.message
    assert len(_Handler.hits) == 1  # the first hop only


def test_only_http_and_https():
    assert "scheme 'file'" in _refused("file:///etc/passwd").message
    assert "scheme 'gopher'" in _refused("gopher://example.com/").message


def test_disabled_by_default():
    assert _refused("http://example.com/x.png", ServeConfig()).status == 403


def test_size_time_and_status_caps(local_server):
    small = ServeConfig(allow_url=True, url_allow=("127.0.0.1/32",), url_max_mb=0.05)
    assert _refused(f"{local_server}/big", small).status == 413
    quick = ServeConfig(allow_url=True, url_allow=("127.0.0.1/32",), url_timeout=0.3)
    assert _refused(f"{local_server}/slow", quick).status == 504
    assert _refused(f"{local_server}/missing", ALLOW_LOCAL).status == 502


def test_redirect_loop_is_capped(local_server):
    loop = f"{local_server}/redirect?to={local_server}/redirect%3Fto%3D{local_server}/missing"
    cfg = ServeConfig(allow_url=True, url_allow=("127.0.0.1/32",), url_max_redirects=1)
    assert "more than 1" in _refused(loop, cfg).message


def test_allowed_fetch_with_redirect(local_server):
    assert fetch_url(f"{local_server}/redirect?to=/photo.png", ALLOW_LOCAL) == PHOTO
    assert _Handler.hits == ["/redirect?to=/photo.png", "/photo.png"]


def test_resolved_address_is_the_one_connected(local_server):
    port = int(local_server.rsplit(":", 1)[1])
    cfg = ServeConfig(allow_url=True, url_allow=("127.0.0.1/32",), resolver=lambda host, p: ["127.0.0.1"])
    target = check_target(f"http://photos.example.test:{port}/photo.png", cfg)
    assert (target.host, target.address, target.port) == ("photos.example.test", "127.0.0.1", port)
    assert fetch_url(f"http://photos.example.test:{port}/photo.png", cfg) == PHOTO


def test_endpoints_fetch_by_url(make_client, local_server):
    c = make_client(allow_url=True, url_allow=("127.0.0.1/32",))
    r = c.get("/api/remove", params={"url": f"{local_server}/photo.png", "om": "true"})
    assert r.status_code == 200 and decoded(r.content).mode == "L"
    r = c.post("/v1/remove", data={"url": f"{local_server}/photo.png"})
    assert r.status_code == 200 and decoded(r.content).mode == "RGBA"
    refused = make_client(allow_url=True).get("/api/remove", params={"url": f"{local_server}/photo.png"})
    assert refused.status_code == 400 and "loopback" in refused.json()["error"]["message"]
