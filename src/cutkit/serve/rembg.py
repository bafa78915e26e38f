"""rembg's HTTP API: ``GET /api/remove?url=...`` and ``POST /api/remove`` with rembg's field names.

rembg clients send ``model``, ``a`` (alpha matting), ``af``/``ab`` (its foreground/background thresholds,
rembg's defaults 240 and 10), ``ae`` (erode size, default 10), ``om`` (only the mask), ``ppm``
(post-process the mask) and ``bgc`` (``r,g,b,a``), and get a PNG back. Those names are mapped onto cutkit's
options here; everything after that is ``/v1/remove``'s path. A model name rembg knows that cutkit has only
as its ONNX port (``silueta`` → ``silueta.onnx``) is mapped to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request, Response

from cutkit._util.suggest import did_you_mean
from cutkit.serve.errors import ApiError
from cutkit.serve.inputs import read_input
from cutkit.serve.params import IMAGE_FIELD, URL_FIELD, build_options
from cutkit.serve.removal import remove_response
from cutkit.zoo.models import MODELS

# rembg name → (cutkit option, rembg's default or None)
NAMES: dict[str, tuple[str, Any]] = {
    "model": ("model", None),
    "a": ("matting", False),
    "af": ("matting_fg_threshold", 240),
    "ab": ("matting_bg_threshold", 10),
    "ae": ("matting_erode", 10),
    "om": ("mask", False),
    "ppm": ("post_process", False),
    "bgc": ("bg", None),
}
router = APIRouter(prefix="/api", tags=["rembg compatibility"])


def to_cutkit(fields: Mapping[str, str]) -> dict[str, Any]:
    """rembg's fields → cutkit's options, rembg's defaults filled in; unknown names are a 400."""
    out: dict[str, Any] = {NAMES[k][0]: NAMES[k][1] for k in NAMES if NAMES[k][1] is not None}
    for key, value in fields.items():
        if key not in NAMES:
            raise ApiError(
                400, f"unknown rembg parameter '{key}'{did_you_mean(key, NAMES)}; known: {', '.join(NAMES)}"
            )
        out[NAMES[key][0]] = value
    if fields.get("model"):
        out["model"] = rembg_model(fields["model"])
    if fields.get("bgc"):
        out["bg"] = _colour(fields["bgc"])
    return out


def rembg_model(name: str) -> str:
    """cutkit's name for rembg's model ``name``: the same name, else its ONNX port's, else ``name``."""
    return name if name in MODELS or f"{name}.onnx" not in MODELS else f"{name}.onnx"


def _colour(text: str) -> str:
    parts = text.split(",")
    if len(parts) not in (3, 4) or not all(p.strip().isdigit() for p in parts):
        raise ApiError(400, f"bgc '{text}': expected r,g,b,a (numbers 0-255)")
    return text


async def _remove(request: Request) -> Response:
    state = request.app.state.cutkit
    given = await read_input(request, state.config)
    options = build_options({**to_cutkit(given.fields), "format": "png"}, state.config)
    return await remove_response(state, given, options)


_PARAMS = "Parameters (query or form): " + ", ".join(f"`{k}` ({v[0]})" for k, v in NAMES.items())


@router.get("/remove", summary="Remove from URL (rembg)", description=f"`{URL_FIELD}=` the photo. {_PARAMS}.")
async def remove_get(request: Request) -> Response:
    return await _remove(request)


@router.post(
    "/remove", summary="Remove from upload (rembg)", description=f"`{IMAGE_FIELD}`: the photo. {_PARAMS}."
)
async def remove_post(request: Request) -> Response:
    return await _remove(request)
