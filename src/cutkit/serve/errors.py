"""Every error the server answers is ``{"error": {"status": N, "message": "..."}}``, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

log = logging.getLogger("cutkit.serve")


class ApiError(Exception):
    """An error meant for the client: an HTTP status, a message and optional headers."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The JSON body every error uses."""
    return JSONResponse({"error": {"status": status, "message": message}}, status, headers=headers)


def install(app: FastAPI) -> None:
    """Route every kind of error through :func:`error_response`."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.message, exc.headers)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    # Starlette's own 404 (no route) and 405 (wrong method) arrive here.
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, str(exc.detail), exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    parts = [f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg', '')}" for e in exc.errors()]
    return error_response(422, "invalid request: " + "; ".join(parts))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The traceback goes to the server's log, where the operator can read it; the client gets a message.
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, f"internal error ({type(exc).__name__}); see the server log")
