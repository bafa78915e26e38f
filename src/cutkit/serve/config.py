"""The server's settings: one frozen dataclass whose fields also generate ``cutkit serve``'s flags."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cutkit._util.config_cli import opt
from cutkit.options import OPTIONS_BY_NAME

API_KEY_ENV = "CUTKIT_API_KEY"
# The model-group options the server owns; a request may choose others only where sessions.py allows.
SESSION_FIELDS = ("model", "engine", "device", "precision", "threads")

Resolver = Callable[[str, int], list[str]]


def _removal(name: str) -> Any:
    """A field mirroring removal option ``name``: its default, help and choices come from options.py."""
    o = OPTIONS_BY_NAME[name]
    meta = {"choices": o.choices} if o.choices else {}
    return opt(o.default, o.help, **meta)


@dataclass(frozen=True, kw_only=True)
class ServeConfig:
    """Everything ``cutkit serve`` and :func:`cutkit.serve.app.create_app` can be told.

    The model fields are the server's defaults for every request; the limits protect the process.
    """

    host: str = opt("127.0.0.1", "address to bind; anything but loopback exposes the server")
    port: int = opt(7000, "TCP port")
    workers: int = opt(1, "inference threads: requests processed at once")
    queue: int = opt(16, "requests that may wait for a worker; more get 429 with Retry-After")
    timeout: float = opt(60.0, "seconds a request may wait and run before it gets 504")
    max_body_mb: float = opt(32.0, "largest request body in MiB (413 above it)")
    max_pixels: int = _removal("max_pixels")
    api_key: str | None = opt(None, f"require this key in the X-API-Key header (or set ${API_KEY_ENV})")
    cors: tuple[str, ...] = opt((), "origins allowed to call the API from a browser (CORS); '*' for any")
    allow_url: bool = opt(False, "let requests fetch their image from a URL (public addresses only)")
    url_max_mb: float = opt(16.0, "largest image fetched from a URL, in MiB")
    url_timeout: float = opt(10.0, "seconds a URL fetch may take in all, redirects included")
    url_max_redirects: int = opt(3, "redirects a URL fetch follows (each hop is checked again)")
    url_allow: tuple[str, ...] = opt(
        (), "networks (CIDR) a URL fetch may reach although private, e.g. an internal image store"
    )
    sessions: int = opt(2, "loaded models kept in memory (least recently used ones are dropped)")
    model: str | None = _removal("model")
    engine: str | None = _removal("engine")
    device: str = _removal("device")
    precision: str = _removal("precision")
    threads: int | None = _removal("threads")
    log_level: str = opt(
        "info", "uvicorn's log level", choices=("critical", "error", "warning", "info", "debug")
    )
    resolver: Resolver | None = opt(
        None, "host name → IP addresses for URL fetches (default: the system's DNS)", cli=False
    )

    def __post_init__(self) -> None:
        for name in ("port", "workers", "sessions"):
            if getattr(self, name) < 1:
                raise ValueError(f"serve config: {name} must be at least 1, got {getattr(self, name)}")
        for name in ("queue", "url_max_redirects"):
            if getattr(self, name) < 0:
                raise ValueError(f"serve config: {name} must not be negative, got {getattr(self, name)}")
        for name in ("timeout", "max_body_mb", "url_max_mb", "url_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"serve config: {name} must be positive, got {getattr(self, name)}")
        for name in (*SESSION_FIELDS, "max_pixels"):
            OPTIONS_BY_NAME[name].validate(getattr(self, name))
        self.url_networks()  # a bad CIDR fails now, not on the first fetch

    def key(self) -> str | None:
        """The API key: the configured one, else ``$CUTKIT_API_KEY``, else none (no key required)."""
        return self.api_key or os.environ.get(API_KEY_ENV) or None

    def session_defaults(self) -> dict[str, Any]:
        """The model-group options every request starts from."""
        return {name: getattr(self, name) for name in SESSION_FIELDS}

    def url_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """:attr:`url_allow` parsed; a malformed entry raises ``ValueError`` naming it."""
        try:
            return [ipaddress.ip_network(n, strict=False) for n in self.url_allow]
        except ValueError as exc:
            raise ValueError(f"serve config: url_allow: {exc}") from exc

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)

    @property
    def url_max_bytes(self) -> int:
        return int(self.url_max_mb * 1024 * 1024)
