"""Fetching an image by URL without letting a request reach the server's own network (SSRF).

Each hop's host is resolved first and every address it resolves to must be public: loopback, private,
link-local (cloud metadata at 169.254.169.254), reserved, multicast and unspecified addresses are refused.
The connection then goes to the checked address itself (the name is not resolved twice, so DNS rebinding
cannot swap in another address between the check and the connect), redirects are followed here, one
checked hop at a time, and the size and the total time are capped. Networks an operator lists in
``url_allow`` may be reached although private (an internal image store).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from cutkit.serve.config import ServeConfig
from cutkit.serve.errors import ApiError

_REDIRECTS = (301, 302, 303, 307, 308)
_CHUNK = 64 * 1024
_USER_AGENT = "cutkit-serve"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system's DNS)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ApiError(400, f"URL host '{host}' cannot be resolved ({exc.strerror})") from None
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class Target:
    """One hop: where to connect and what to ask for."""

    scheme: str
    host: str
    port: int
    address: str
    path: str


def fetch_url(url: str, cfg: ServeConfig) -> bytes:
    """The body of ``url``, following up to ``cfg.url_max_redirects`` redirects, each hop checked.

    Raises:
        ApiError: 403 URL fetching disabled; 400 a bad URL or a refused address; 413 too large; 504 too
            slow; 502 the remote server failed or answered an error.
    """
    if not cfg.allow_url:
        raise ApiError(403, "fetching images by URL is disabled on this server (start it with --allow-url)")
    deadline = time.monotonic() + cfg.url_timeout
    for _hop in range(cfg.url_max_redirects + 1):
        target = check_target(url, cfg)
        status, location, body = _get(target, cfg, deadline)
        if status not in _REDIRECTS:
            if status != 200:
                raise ApiError(502, f"URL answered HTTP {status}, not an image")
            return body
        if not location:
            raise ApiError(502, f"URL answered a redirect ({status}) without a Location")
        url = urljoin(url, location)
    raise ApiError(400, f"URL redirects more than {cfg.url_max_redirects} times")


def check_target(url: str, cfg: ServeConfig) -> Target:
    """Parse ``url`` and resolve its host; refuse other schemes and any address that is not public."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ApiError(400, f"URL scheme '{parts.scheme}' refused: only http and https")
    if not parts.hostname:
        raise ApiError(400, f"URL '{url}' has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise ApiError(400, f"URL '{url}': {exc}") from None
    addresses = (cfg.resolver or system_resolver)(parts.hostname, port)
    if not addresses:
        raise ApiError(400, f"URL host '{parts.hostname}' resolves to no address")
    for address in addresses:
        refuse_private(parts.hostname, address, cfg)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, addresses[0], path)


def refuse_private(host: str, address: str, cfg: ServeConfig) -> None:
    """Raise a 400 naming the reason when ``address`` is not a public one (and not in ``url_allow``)."""
    ip: Address = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if any(ip in net for net in cfg.url_networks()):
        return
    kind = _private_kind(ip)
    if kind:
        raise ApiError(400, f"URL host '{host}' resolves to {ip}, a {kind} address: refused")


def _private_kind(ip: Address) -> str | None:
    checks = (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("non-public", not ip.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def _get(target: Target, cfg: ServeConfig, deadline: float) -> tuple[int, str | None, bytes]:
    conn = _connection(target, max(deadline - time.monotonic(), 0.001))
    try:
        conn.request("GET", target.path, headers={"Host": _host_header(target), "User-Agent": _USER_AGENT})
        resp = conn.getresponse()
        if resp.status in _REDIRECTS:
            return resp.status, resp.getheader("Location"), b""
        return resp.status, None, _read_capped(resp, conn, cfg.url_max_bytes, deadline)
    except TimeoutError:
        raise ApiError(504, f"URL fetch took longer than {cfg.url_timeout:g} s") from None
    except (OSError, http.client.HTTPException) as exc:
        raise ApiError(502, f"URL fetch from {target.host} failed: {exc}") from None
    finally:
        conn.close()


def _read_capped(
    resp: http.client.HTTPResponse, conn: http.client.HTTPConnection, cap: int, deadline: float
) -> bytes:
    declared = resp.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise ApiError(413, f"URL's image is {int(declared):,} bytes, above the limit of {cap:,}")
    parts, size = [], 0
    while chunk := resp.read(_CHUNK):
        size += len(chunk)
        if size > cap:
            raise ApiError(413, f"URL's image is larger than the limit of {cap:,} bytes")
        parts.append(chunk)
        if conn.sock is not None:
            conn.sock.settimeout(_remaining(deadline))  # a slow drip must not outlast the total time
    return b"".join(parts)


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _host_header(target: Target) -> str:
    default = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == default else f"{host}:{target.port}"


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to an address checked beforehand, whatever the host name resolves to now."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(_PinnedHTTP):
    """HTTPS to a checked address; the certificate is verified against the host name (SNI too)."""

    def connect(self) -> None:
        super().connect()
        self.sock = ssl.create_default_context().wrap_socket(self.sock, server_hostname=self.host)


def _connection(target: Target, timeout: float) -> http.client.HTTPConnection:
    return (_PinnedHTTPS if target.scheme == "https" else _PinnedHTTP)(target, timeout)
