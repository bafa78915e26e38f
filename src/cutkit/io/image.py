"""Decoding and encoding images, with errors that name the file and the problem."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = {"png": "PNG", "webp": "WEBP", "jpg": "JPEG"}
SUFFIX_FORMAT = {".png": "png", ".webp": "webp", ".jpg": "jpg", ".jpeg": "jpg"}


class ImageError(ValueError):
    """An input that is not a readable image; the message names the source and the problem."""


def open_image(src: Any, name: str | None = None) -> Image.Image:
    """Open a path, bytes, PIL image or ndarray as an RGB(A)-capable PIL image, EXIF orientation applied.

    Args:
        src: ``str``/``Path``, ``bytes``, ``PIL.Image.Image`` or ``numpy.ndarray`` (HxW, HxWx3, HxWx4).
        name: what to call the source in error messages (default: the path, or the kind of object).
    """
    if isinstance(src, Image.Image):
        return src
    if isinstance(src, np.ndarray):
        return _from_array(src)
    if isinstance(src, (bytes, bytearray, memoryview)):
        return _decode(bytes(src), name or "<bytes>")
    if isinstance(src, (str, os.PathLike)):
        return _decode(_read(Path(src)), name or str(src))
    raise ImageError(f"{name or type(src).__name__}: cannot read an image from a {type(src).__name__}")


def to_rgb_array(img: Image.Image) -> np.ndarray:
    """The image as ``HxWx3`` uint8 RGB (alpha dropped, 16-bit and palette modes converted)."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        scale = 257.0 if arr.max() > 255 else 1.0
        return np.repeat((arr / scale).clip(0, 255).astype(np.uint8)[..., None], 3, axis=2)
    return np.asarray(img.convert("RGB"))


def _read(path: Path) -> bytes:
    if not path.exists():
        raise ImageError(f"{path}: file not found")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image")
    data = path.read_bytes()
    if not data:
        raise ImageError(f"{path}: empty file (0 bytes)")
    return data


def _decode(data: bytes, name: str) -> Image.Image:
    if not data:
        raise ImageError(f"{name}: empty input (0 bytes)")
    try:
        img = Image.open(io.BytesIO(data))
        img.load()  # decode now, so a truncated file fails here and not half-way through a pipeline
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not an image, or a format Pillow cannot read") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{name}: corrupt or truncated image ({exc})") from exc
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{name}: too many pixels ({exc})") from exc
    return ImageOps.exif_transpose(img)


def _from_array(arr: np.ndarray) -> Image.Image:
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ImageError(f"ndarray: expected HxW, HxWx3 or HxWx4, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.floating) and arr.max(initial=0) <= 1.0:
            arr = arr * 255.0
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(arr))


def encode(img: Image.Image, fmt: str) -> bytes:
    """Encode to ``png``/``webp``/``jpg`` bytes; JPEG cannot hold transparency, so RGBA is an error."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format '{fmt}'; choose from {', '.join(FORMATS)}")
    if fmt == "jpg" and img.mode in ("RGBA", "LA"):
        raise ValueError("JPEG has no transparency: pass a background (--bg) or choose png/webp")
    buf = io.BytesIO()
    params = {"lossless": True} if fmt == "webp" else {"quality": 95} if fmt == "jpg" else {}
    img.save(buf, format=FORMATS[fmt], **params)
    return buf.getvalue()


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
