"""A request's removal options: read from query and form, checked against ``REMOVE_OPTIONS``, documented.

Nothing here lists the options by hand: the names, types, defaults, bounds and help of ``POST /v1/remove``'s
fields and of its OpenAPI schema all come from :data:`cutkit.options.REMOVE_OPTIONS`. What a request may
not do is said here: name a file on the server (``weights``, a model path, a background image path) or
change server-wide settings (``threads``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cutkit import options as opt
from cutkit.io.paths import IMAGE_SUFFIXES
from cutkit.serve.catalog import check_model
from cutkit.serve.config import ServeConfig
from cutkit.serve.errors import ApiError

# Fields of the request that are not removal options.
IMAGE_FIELD, BG_FIELD, URL_FIELD = "file", "bg_file", "url"
REFUSED = {
    "weights": "names a file on the server's disk; choose a model by name (GET /v1/models)",
    "threads": "is a server-wide setting (start the server with --threads)",
}


def merge_fields(query: Mapping[str, str], form: Mapping[str, str]) -> dict[str, str]:
    """Query and form fields in one dict; the same field in both with different values is a 400."""
    merged = dict(query)
    for key, value in form.items():
        if key in merged and merged[key] != value:
            raise ApiError(400, f"field '{key}' given twice (query '{merged[key]}', form '{value}')")
        merged[key] = value
    return merged


def build_options(fields: Mapping[str, str], cfg: ServeConfig) -> opt.RemoveOptions:
    """Validate ``fields`` (option names or rembg aliases → text) over the server's defaults.

    Raises:
        ApiError: 400 for an unknown name (with the closest match), a refused option or a bad value.
    """
    try:
        given = opt.resolve_names(fields)
    except TypeError as exc:  # unknown option or the same option twice: the message names it
        raise ApiError(400, str(exc)) from None
    for name, value in given.items():
        _check_allowed(name, value, cfg)
    given = {k: v for k, v in given.items() if v != ""}  # an empty form field means "not given"
    try:
        resolved = opt.resolve({**cfg.session_defaults(), "max_pixels": cfg.max_pixels, **given})
    except (TypeError, ValueError) as exc:
        raise ApiError(400, str(exc)) from None
    if resolved.max_pixels > cfg.max_pixels:  # a request may lower the server's limit, never raise it
        raise ApiError(
            400,
            f"option 'max_pixels': {resolved.max_pixels:,} is above this server's limit "
            f"of {cfg.max_pixels:,}",
        )
    return resolved


def _check_allowed(name: str, value: str, cfg: ServeConfig) -> None:
    if name in REFUSED:
        raise ApiError(400, f"option '{name}' {REFUSED[name]}: not accepted in a request")
    if name == "model" and value:
        check_model(value, cfg)
    if name == "bg" and _names_file(value):
        raise ApiError(400, f"option 'bg': '{value}' names a file; upload a background image as '{BG_FIELD}'")


def _names_file(value: str) -> bool:
    text = value.strip()
    return "/" in text or "\\" in text or Path(text).suffix.lower() in IMAGE_SUFFIXES


# --- OpenAPI: the same options, documented -----------------------------------------------------------


_JSON_TYPES = {"int": "integer", "_whole_number": "integer", "float": "number", "parse_bool": "boolean"}


def option_schema(o: opt.Option) -> dict[str, Any]:
    """The JSON schema of one option's field."""
    kind = _JSON_TYPES.get(getattr(o.parse, "__name__", ""), "string")
    schema: dict[str, Any] = {"type": kind, "description": o.help}
    if o.choices:
        schema["enum"] = list(o.choices)
    if o.minimum is not None:
        schema["minimum"] = o.minimum
    if o.maximum is not None:
        schema["maximum"] = o.maximum
    if o.default is not None:
        schema["default"] = o.default
    return schema


def request_options() -> list[opt.Option]:
    """The options a request may set."""
    return [o for o in opt.REMOVE_OPTIONS if o.name not in REFUSED]


def remove_openapi() -> dict[str, Any]:
    """``openapi_extra`` for ``POST /v1/remove``: every option as a query parameter and a form field."""
    fields = {o.name: option_schema(o) for o in request_options()}
    form = {
        IMAGE_FIELD: {"type": "string", "format": "binary", "description": "the photo"},
        BG_FIELD: {"type": "string", "format": "binary", "description": "a background image (optional)"},
        URL_FIELD: {"type": "string", "description": "fetch the photo from this URL (if the server allows)"},
        **fields,
    }
    return {
        "parameters": [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in fields.items()
        ],
        "requestBody": {
            "content": {
                "multipart/form-data": {"schema": {"type": "object", "properties": form}},
                "image/*": {"schema": {"type": "string", "format": "binary"}},
            }
        },
    }
