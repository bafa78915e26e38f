"""Fixtures for the server tests: apps built in-process, small photos, a local HTTP server."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from cutkit.serve.app import create_app
from cutkit.serve.config import ServeConfig


def photo(width: int = 64, height: int = 48, fmt: str = "PNG") -> bytes:
    """A small photo-like image: a bright disc on a gradient."""
    yy, xx = np.mgrid[0:height, 0:width]
    rgb = np.stack([xx * 255 // width, yy * 255 // height, np.full_like(xx, 90)], axis=-1)
    disc = (xx - width / 2) ** 2 + (yy - height / 2) ** 2 < (min(width, height) / 3) ** 2
    rgb[disc] = (240, 200, 40)
    buf = io.BytesIO()
    Image.fromarray(rgb.astype(np.uint8)).save(buf, fmt)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width``×``height`` pixels and that holds no pixel data (a bomb's shape)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(b""))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def decoded(content: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(content))
    img.load()
    return img


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """One app with the default settings, shared by a module's tests (building one loads a model)."""
    with TestClient(create_app(ServeConfig())) as c:
        yield c


@pytest.fixture
def make_client() -> Iterator[Callable[..., TestClient]]:
    """Build a client for an app with the given ServeConfig fields; closed after the test."""
    opened: list[TestClient] = []

    def make(raise_server_exceptions: bool = True, **fields: Any) -> TestClient:
        c = TestClient(create_app(ServeConfig(**fields)), raise_server_exceptions=raise_server_exceptions)
        opened.append(c.__enter__())
        return c

    yield make
    for c in opened:
        c.__exit__(None, None, None)


def upload(data: bytes, name: str = "photo.png", kind: str = "image/png") -> dict[str, Any]:
    return {"file": (name, data, kind)}
