"""What a removal request carries: the photo (multipart, raw body or URL), a background image, its fields."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from cutkit.serve.config import ServeConfig
from cutkit.serve.errors import ApiError
from cutkit.serve.fetch import fetch_url
from cutkit.serve.params import BG_FIELD, IMAGE_FIELD, URL_FIELD, merge_fields

_MAX_FORM_FIELDS = 64  # more than every option twice over; a flood of fields is refused by the parser


@dataclass
class RequestInput:
    """The photo's bytes (or the URL to fetch them from), a background image's bytes, the option fields."""

    image: bytes | None
    name: str
    fields: dict[str, str] = field(default_factory=dict)
    background: bytes | None = None
    url: str | None = None


async def read_input(request: Request, cfg: ServeConfig) -> RequestInput:
    """Read the photo and fields of a ``POST`` (multipart or raw image body) or a ``GET`` (``url=``).

    Raises:
        ApiError: 400 no photo, an unexpected file field or content type; fetch errors (see fetch.py).
    """
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if request.method == "POST" and kind == "multipart/form-data":
        files, form = await _multipart(request)
    elif request.method == "POST" and (kind.startswith("image/") or kind == "application/octet-stream"):
        files, form = {IMAGE_FIELD: (await request.body(), "request body")}, {}
    elif request.method == "POST" and kind not in ("", "application/x-www-form-urlencoded"):
        raise ApiError(400, f"unsupported Content-Type '{kind}': send multipart/form-data or an image")
    else:
        files, form = {}, dict(await request.form()) if kind else {}
    fields = merge_fields(dict(request.query_params), form)
    return _with_photo(files, fields)


async def fetch_photo(given: RequestInput, cfg: ServeConfig) -> RequestInput:
    """``given`` with its photo fetched from its URL (off the event loop), if it came as one."""
    if given.url is None:
        return given
    data = await run_in_threadpool(fetch_url, given.url, cfg)
    if not data:
        raise ApiError(400, f"{given.url}: empty answer (0 bytes)")
    return RequestInput(image=data, name=given.url, fields=given.fields, background=given.background)


async def _multipart(request: Request) -> tuple[dict[str, tuple[bytes, str]], dict[str, str]]:
    form = await request.form(max_files=2, max_fields=_MAX_FORM_FIELDS)
    files: dict[str, tuple[bytes, str]] = {}
    fields: dict[str, str] = {}
    for key, value in form.multi_items():
        if key in files or key in fields:
            raise ApiError(400, f"field '{key}' given more than once")
        if isinstance(value, UploadFile):
            if key not in (IMAGE_FIELD, BG_FIELD):
                raise ApiError(
                    400,
                    f"unexpected file field '{key}': send the photo as '{IMAGE_FIELD}' "
                    f"and a background image as '{BG_FIELD}'",
                )
            files[key] = (await value.read(), value.filename or key)
        else:
            fields[key] = value
    return files, fields


def _with_photo(files: dict[str, tuple[bytes, str]], fields: dict[str, str]) -> RequestInput:
    url = fields.pop(URL_FIELD, None)
    for name in (IMAGE_FIELD, BG_FIELD):
        if name in fields:
            raise ApiError(400, f"field '{name}' must be a file upload, not text")
    background = files[BG_FIELD][0] if BG_FIELD in files else None
    if IMAGE_FIELD in files and url:
        raise ApiError(400, f"send the photo as '{IMAGE_FIELD}' or as a '{URL_FIELD}', not both")
    if url:
        return RequestInput(image=None, name=url, fields=fields, background=background, url=url)
    if IMAGE_FIELD not in files:
        raise ApiError(
            400,
            f"no photo: send a multipart field '{IMAGE_FIELD}', a raw image body "
            f"(Content-Type image/...) or a '{URL_FIELD}'",
        )
    data, name = files[IMAGE_FIELD]
    if not data:
        raise ApiError(400, f"{name}: empty upload (0 bytes)")
    return RequestInput(image=data, name=name, fields=fields, background=background)
