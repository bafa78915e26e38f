"""cutkit's own endpoints: the page, ``/healthz``, ``/metrics``, ``/v1/models`` and ``/v1/remove``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, PlainTextResponse

from cutkit.serve import catalog
from cutkit.serve.inputs import read_input
from cutkit.serve.params import build_options, remove_openapi
from cutkit.serve.removal import MEDIA_TYPES, remove_response

STATIC_DIR = Path(__file__).parent / "static"
router = APIRouter()


def _state(request: Request) -> Any:
    return request.app.state.cutkit


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")


@router.get("/healthz", summary="Liveness: the server is up and its default model is loaded")
async def healthz(request: Request) -> dict[str, Any]:
    state = _state(request)
    return {
        "status": "ok",
        "model": catalog.server_default(state.config),
        "workers": state.pool.workers,
        "busy": state.pool.running,
        "queued": state.pool.queued,
    }


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
async def metrics(request: Request) -> PlainTextResponse:
    return PlainTextResponse(_state(request).metrics.render(), media_type="text/plain; version=0.0.4")


@router.get("/v1/models", summary="The models this server offers")
async def models(request: Request) -> dict[str, Any]:
    state = _state(request)
    default = state.sessions.get(state.default_options)  # cached since start-up: no load here
    return catalog.model_entries(state.config, default.spec)


@router.post(
    "/v1/remove",
    summary="Remove the background of one photo",
    description="Send the photo as the multipart field `file` (or as the raw body with an image "
    "Content-Type, or as a `url` where the server allows it). Every removal option may be a form field "
    "or a query parameter. Answers the cutout's bytes.",
    response_class=Response,
    responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}, "description": "the cutout"}},
    openapi_extra=remove_openapi(),
)
async def remove(request: Request) -> Response:
    state = _state(request)
    given = await read_input(request, state.config)
    options = build_options(given.fields, state.config)
    return await remove_response(state, given, options)
