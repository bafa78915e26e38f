"""One removal as a job for the worker pool: photo bytes + options → encoded cutout bytes."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from cutkit import options as opt
from cutkit.io.decode import ImageError, PixelLimitError, open_image
from cutkit.serve.errors import ApiError
from cutkit.serve.inputs import RequestInput, fetch_photo
from cutkit.serve.limits import check_pixels
from cutkit.serve.pool import PoolFull, PoolTimeout
from cutkit.serve.sessions import SessionCache

MEDIA_TYPES = {"png": "image/png", "webp": "image/webp", "jpg": "image/jpeg", "tif": "image/tiff"}


async def remove_response(state: Any, given: RequestInput, options: opt.RemoveOptions) -> Response:
    """Fetch a URL's photo, check the images' sizes from their headers, remove on a worker, answer the bytes.

    Raises:
        ApiError: 413 too many pixels, 400 a bad image or option, 429 the pool is full, 504 too slow,
            and the URL fetcher's errors.
    """
    given = await fetch_photo(given, state.config)
    assert given.image is not None
    check_pixels(given.image, given.name, options.max_pixels)
    if given.background is not None:
        check_pixels(given.background, "bg_file", options.max_pixels)
    fmt = options.format or "png"
    try:
        data = await state.pool.run(lambda: run_removal(state.sessions, given, options), state.config.timeout)
    except PoolFull as exc:
        raise ApiError(429, str(exc), {"Retry-After": str(exc.retry_after)}) from None
    except PoolTimeout as exc:
        raise ApiError(504, f"removal {exc}; try a smaller image or a lighter model") from None
    return Response(data, media_type=MEDIA_TYPES[fmt])


def run_removal(sessions: SessionCache, given: RequestInput, options: opt.RemoveOptions) -> bytes:
    """The job: get the model (loading it on first use), decode, remove, encode. Runs on a worker thread."""
    from cutkit.engine.device import DeviceError
    from cutkit.zoo.weights import WeightsError

    try:
        remover = sessions.get(options)
        output = {**options.group("output"), "format": options.format or "png"}
        if given.background is not None:
            output["bg"] = open_image(given.background, "bg_file", max_pixels=options.max_pixels)
        return remover.remove(given.image, **output)
    except PixelLimitError as exc:
        raise ApiError(413, str(exc)) from None
    except (ImageError, ValueError, DeviceError) as exc:  # a bad photo or option, a device not here
        raise ApiError(400, str(exc)) from None
    except WeightsError as exc:
        raise ApiError(503, f"model unavailable: {exc}") from None
