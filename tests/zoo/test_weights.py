"""Weight-file resolution and download against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.server
import os
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs
import pytest

from cutkit.zoo.spec import WeightsFile
from cutkit.zoo.weights import (
    ChecksumError,
    DownloadInterrupted,
    WeightsError,
    WeightsNotFound,
    cache_dir,
    download_file,
    file_digest,
    find_local,
    resolve_weights,
)

PAYLOAD = os.urandom(300_000)
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()
MD5 = hashlib.md5(PAYLOAD).hexdigest()
DROP_AFTER = 100_000


@dataclass
class ServerState:
    """What the handler serves and what it saw."""

    files: dict[str, bytes]
    drop_after: int | None = None  # cut the first request's body after this many bytes
    honour_range: bool = True
    requests: list[dict[str, str]] = field(default_factory=list)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        state = self.server.state
        state.requests.append(dict(self.headers))
        data = state.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start = self._range_start() if state.honour_range else 0
        if start >= len(data) and start:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(data)}")
            self.end_headers()
            return
        self._send(data, start, first=len(state.requests) == 1)

    def _range_start(self) -> int:
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        return int(match.group(1)) if match else 0

    def _send(self, data: bytes, start: int, *, first: bool) -> None:
        body = data[start:]
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        self.send_header(
            "Content-Type", "text/html" if self.path.endswith(".html") else "application/octet-stream"
        )
        self.end_headers()
        drop = self.server.state.drop_after
        if first and drop is not None:
            body = body[:drop]  # then the connection closes before Content-Length is reached
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # keep pytest's output clean
        pass


class _Server(http.server.ThreadingHTTPServer):
    state: ServerState

    def url(self, path: str) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}{path}"


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.state = ServerState(files={"/net.pth": PAYLOAD})
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("CUTKIT_HOME", str(path))
    return path


def _refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/net.pth"


def _wf(*urls: str, **kw: object) -> WeightsFile:
    checks = {"sha256": SHA256, "size": len(PAYLOAD)}
    checks.update(kw)
    return WeightsFile(filename="net.pth", urls=urls, **checks)


def test_download_good_file_is_cached(server: _Server, home: Path) -> None:
    path = resolve_weights(_wf(server.url("/net.pth")), progress=False)
    assert path == home / "net.pth"
    assert path.read_bytes() == PAYLOAD
    assert not (home / "net.pth.part").exists()
    assert resolve_weights(_wf(server.url("/net.pth")), progress=False) == path
    assert len(server.state.requests) == 1


def test_md5_only_and_progress_bar(server: _Server, home: Path) -> None:
    wf = _wf(server.url("/net.pth"), sha256=None, md5=MD5, size=None)
    assert resolve_weights(wf, progress=True).read_bytes() == PAYLOAD


def test_bad_checksum_leaves_nothing(server: _Server, home: Path) -> None:
    wf = _wf(server.url("/net.pth"), sha256="0" * 64)
    with pytest.raises(ChecksumError) as info:
        resolve_weights(wf, progress=False)
    assert "0" * 64 in str(info.value) and SHA256 in str(info.value)
    assert not (home / "net.pth").exists()
    assert not (home / "net.pth.part").exists()


def test_download_file_checksum_error_names_digests(server: _Server, tmp_path: Path) -> None:
    dest = tmp_path / "sub" / "x.bin"
    with pytest.raises(ChecksumError, match=f"x.bin.*expected {'f' * 64}, got {SHA256}"):
        download_file(server.url("/net.pth"), dest, sha256="f" * 64, progress=False)
    assert not dest.exists() and not dest.with_name("x.bin.part").exists()


def test_interrupted_download_resumes(server: _Server, tmp_path: Path) -> None:
    server.state.drop_after = DROP_AFTER
    dest = tmp_path / "net.pth"
    part = tmp_path / "net.pth.part"
    with pytest.raises(DownloadInterrupted, match="resumes"):
        download_file(server.url("/net.pth"), dest, sha256=SHA256, progress=False, chunk=16_384)
    assert part.stat().st_size == DROP_AFTER and not dest.exists()
    download_file(server.url("/net.pth"), dest, sha256=SHA256, progress=False, chunk=16_384)
    assert server.state.requests[1]["Range"] == f"bytes={DROP_AFTER}-"
    assert dest.read_bytes() == PAYLOAD and not part.exists()


def test_resolve_retries_an_interrupted_download(server: _Server, home: Path) -> None:
    server.state.drop_after = DROP_AFTER
    path = resolve_weights(_wf(server.url("/net.pth")), progress=False)
    assert path.read_bytes() == PAYLOAD
    assert [r.get("Range") for r in server.state.requests] == [None, f"bytes={DROP_AFTER}-"]


def test_server_ignoring_range_restarts(server: _Server, tmp_path: Path) -> None:
    server.state.honour_range = False
    dest = tmp_path / "net.pth"
    dest.with_name("net.pth.part").write_bytes(b"stale" * 100)
    download_file(server.url("/net.pth"), dest, sha256=SHA256, progress=False)
    assert server.state.requests[0]["Range"] == "bytes=500-"
    assert dest.read_bytes() == PAYLOAD


def test_stale_part_is_deleted_on_checksum_error(server: _Server, tmp_path: Path) -> None:
    dest = tmp_path / "net.pth"
    part = dest.with_name("net.pth.part")
    part.write_bytes(b"\0" * 1000)  # a prefix of some other file: resumes, then fails the digest
    with pytest.raises(ChecksumError):
        download_file(server.url("/net.pth"), dest, sha256=SHA256, progress=False)
    assert not part.exists()
    download_file(server.url("/net.pth"), dest, sha256=SHA256, progress=False)
    assert dest.read_bytes() == PAYLOAD


def test_complete_part_is_verified_without_a_request(server: _Server, tmp_path: Path) -> None:
    dest = tmp_path / "net.pth"
    dest.with_name("net.pth.part").write_bytes(PAYLOAD)
    download_file(server.url("/net.pth"), dest, sha256=SHA256, size=len(PAYLOAD), progress=False)
    assert dest.read_bytes() == PAYLOAD and server.state.requests == []


def test_all_urls_failing(server: _Server, home: Path) -> None:
    refused, missing = _refused_url(), server.url("/nope.pth")
    with pytest.raises(WeightsNotFound) as info:
        resolve_weights(_wf(refused, missing), progress=False)
    message = str(info.value)
    assert str(home / "net.pth") in message
    assert refused in message and missing in message
    assert "offline or unreachable" in message and "HTTP 404" in message
    assert not (home / "net.pth").exists()


def test_next_url_after_a_failure(server: _Server, home: Path) -> None:
    path = resolve_weights(_wf(_refused_url(), server.url("/net.pth")), progress=False)
    assert path.read_bytes() == PAYLOAD


def test_no_urls(home: Path) -> None:
    with pytest.raises(WeightsNotFound, match="no download URL"):
        resolve_weights(_wf(), progress=False)


def test_download_disabled_makes_no_request(server: _Server, home: Path) -> None:
    url = server.url("/net.pth")
    with pytest.raises(WeightsNotFound, match="download=False") as info:
        resolve_weights(_wf(url), download=False)
    assert str(home / "net.pth") in str(info.value) and url in str(info.value)
    assert server.state.requests == []


def test_explicit_path(server: _Server, home: Path, tmp_path: Path) -> None:
    missing = tmp_path / "mine.pth"
    with pytest.raises(WeightsNotFound, match=re.escape(str(missing))):
        resolve_weights(_wf(server.url("/net.pth")), explicit=missing)
    missing.write_bytes(b"fine-tuned")  # another size: explicit files are the user's, not checked
    assert resolve_weights(_wf(server.url("/net.pth")), explicit=str(missing)) == missing
    assert server.state.requests == []


def test_cache_dir_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUTKIT_HOME", str(tmp_path / "h"))
    assert cache_dir() == tmp_path / "h"
    assert not (tmp_path / "h").exists()
    monkeypatch.delenv("CUTKIT_HOME")
    assert cache_dir() == Path(platformdirs.user_cache_dir("cutkit"))


def test_extra_dirs_found(server: _Server, home: Path, tmp_path: Path) -> None:
    extra = tmp_path / "u2net"
    extra.mkdir()
    (extra / "net.pth").write_bytes(PAYLOAD)
    wf = _wf(server.url("/net.pth"))
    assert find_local(wf) is None
    assert find_local(wf, [tmp_path / "empty", extra]) == extra / "net.pth"
    assert resolve_weights(wf, extra_dirs=[extra]) == extra / "net.pth"
    assert server.state.requests == []


def test_cached_file_of_wrong_size(home: Path) -> None:
    home.mkdir()
    (home / "net.pth").write_bytes(PAYLOAD[:10])
    with pytest.raises(ChecksumError, match="size 10 bytes, expected 300000"):
        resolve_weights(_wf("http://127.0.0.1:9/net.pth"), progress=False)


def test_file_digest(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(PAYLOAD)
    assert file_digest(path, chunk=4096) == SHA256
    assert file_digest(path, "md5") == MD5


def test_errors_share_a_base() -> None:
    for cls in (WeightsNotFound, ChecksumError, DownloadInterrupted):
        assert issubclass(cls, WeightsError) and issubclass(cls, RuntimeError)


def test_part_longer_than_the_file_starts_over(server: _Server, home: Path) -> None:
    home.mkdir()
    (home / "net.pth.part").write_bytes(b"\0" * 400_000)  # size unknown, so the server must say 416
    path = resolve_weights(_wf(server.url("/net.pth"), size=None), progress=False)
    assert path.read_bytes() == PAYLOAD
    assert [r.get("Range") for r in server.state.requests] == ["bytes=400000-", None]


def test_web_page_instead_of_file(server: _Server, home: Path) -> None:
    # Hosts answer a login or "confirm download" page with HTTP 200: say so rather than hash the page.
    server.state.files["/confirm.html"] = b"<html><body>Google Drive can't scan this file</body></html>"
    with pytest.raises(WeightsNotFound, match="web page"):
        resolve_weights(_wf(server.url("/confirm.html")), progress=False)
    assert not list(home.glob("net.pth*"))
