"""Request limits: the body size (before it is all read) and the pixel count (before decoding).

The body limit is an ASGI middleware: a ``Content-Length`` above the limit is answered with 413 before a
byte of the body is read, and a body without one (chunked) is counted as it arrives and refused as soon as
it passes the limit, so a client cannot make the server buffer more than the limit.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cutkit.io.decode import ImageError, PixelLimitError, check_header
from cutkit.serve.errors import ApiError, error_response


class BodyTooLarge(ApiError):
    """A request body over the limit (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than the limit of {_mib(limit)}")


class BodyLimit:
    """ASGI middleware refusing request bodies larger than ``limit`` bytes with 413."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            response = error_response(413, BodyTooLarge(self.limit).message, {"Connection": "close"})
            await response(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

    def _counting(self, receive: Receive) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        return counted


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # malformed: the server reading the body decides; the counter still applies
    return None


def check_pixels(data: bytes, name: str, max_pixels: int) -> tuple[int, int]:
    """The image's ``(width, height)`` from its header; 413 above ``max_pixels``, 400 if not an image.

    Reuses :func:`cutkit.io.decode.check_header`, so the server refuses exactly what ``cutkit remove`` does.
    """
    try:
        return check_header(data, name, max_pixels=max_pixels).size
    except PixelLimitError as exc:
        raise ApiError(413, str(exc)) from None
    except ImageError as exc:
        raise ApiError(400, str(exc)) from None


def _mib(n: float) -> str:
    return f"{n / 1024 / 1024:g} MiB"
