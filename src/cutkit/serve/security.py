"""The API key check: with a key configured, ``/v1``, ``/api`` and ``/metrics`` need ``X-API-Key``.

The page (``/``), its files (``/static``), ``/healthz`` and the API docs stay open: the page asks for the
key and sends it, a load balancer's health check needs none, and the docs hold nothing secret.
"""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from cutkit.serve.errors import error_response

HEADER = "x-api-key"
PROTECTED = ("/v1", "/api", "/metrics")


class ApiKeyMiddleware:
    """ASGI middleware answering 401 to protected paths without the right key."""

    def __init__(self, app: ASGIApp, *, key: str) -> None:
        self.app = app
        self.key = key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _protected(scope["path"]) and not self._valid(scope):
            response = error_response(
                401,
                "missing or wrong API key: send it in the X-API-Key header",
                {"WWW-Authenticate": "X-API-Key"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _valid(self, scope: Scope) -> bool:
        given = next((v for k, v in scope.get("headers", []) if k == HEADER.encode()), b"")
        return hmac.compare_digest(given, self.key)  # constant time: no guessing the key byte by byte


def _protected(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PROTECTED)
