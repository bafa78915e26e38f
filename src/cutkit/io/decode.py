"""Decoding inputs into images: pixel limits, formats Pillow lacks, animations, and every mode → RGB.

Each problem with an input becomes an :class:`ImageError` whose message names the source; something worth
knowing that does not stop the input (an animation's later frames dropped) is an :class:`ImageWarning`.
"""

from __future__ import annotations

import functools
import io
import os
import struct
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError, features

from cutkit.options import OPTIONS_BY_NAME

DEFAULT_MAX_PIXELS: int = OPTIONS_BY_NAME["max_pixels"].default  # declared once, in cutkit.options

# Pillow raises these (and not only OSError) on malformed files: a bad file, never a bug of ours.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError)
_DEEP_GREY_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_SIGNATURES = {b"\x89PNG": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF8": "GIF", b"BM": "BMP"}
# ISO base media "ftyp" brands of HEIF still images (HEIC is HEIF with HEVC inside).
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}


class ImageError(ValueError):
    """An input that is not a readable image; the message names the source and the problem."""


class PixelLimitError(ImageError):
    """An image with more pixels than allowed, refused from its header before decoding."""


class ImageWarning(UserWarning):
    """An input that was read, with something worth knowing (e.g. only an animation's first frame used)."""


def open_image(src: Any, name: str | None = None, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Open a path, bytes, PIL image or ndarray as a PIL image, EXIF orientation applied.

    Files and bytes are decoded now (a truncated file fails here, not half-way through a pipeline), after
    their header's size is checked against ``max_pixels``. Animated images give their first frame, with an
    :class:`ImageWarning` naming the source. HEIC/HEIF needs the optional ``pillow-heif``.

    Args:
        src: ``str``/``Path``, ``bytes``, ``PIL.Image.Image`` or ``numpy.ndarray`` (HxW, HxWx3, HxWx4).
        name: what to call the source in error messages (default: the path, or the kind of object).
        max_pixels: refuse files and bytes with more pixels than this, before decoding them. Pillow's own
            limit (``Image.MAX_IMAGE_PIXELS``) is raised to it when lower, never lowered.

    Raises:
        ImageError: the source cannot be read as an image; the message says which and why.
    """
    if isinstance(src, Image.Image):
        return src
    if isinstance(src, np.ndarray):
        return _from_array(src)
    if isinstance(src, (bytes, bytearray, memoryview)):
        return _decode(bytes(src), name or "<bytes>", max_pixels)
    if isinstance(src, (str, os.PathLike)):
        return _decode(_read(Path(src)), name or str(src), max_pixels)
    raise ImageError(f"{name or type(src).__name__}: cannot read an image from a {type(src).__name__}")


def to_rgb_array(img: Image.Image) -> np.ndarray:
    """The image as ``HxWx3`` uint8 RGB, whatever its mode.

    - 16-bit grey is scaled to 8 bits (``/257``, so 65535 → 255), never clipped; Pillow itself reduces
      16-bit colour to 8 bits. Mode ``I`` counts as 16-bit when a value exceeds 255.
    - Transparency (RGBA, LA, palettes with a transparent index) is composited over white, as a viewer
      shows the picture: the colours hidden under transparent pixels (often black, or whatever was cut
      away) would otherwise show the network a background the user never saw.
    - CMYK, palettes, 1-bit and YCbCr go through Pillow's conversion.
    """
    if img.mode in _DEEP_GREY_MODES:
        return _deep_grey(img)
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in _ALPHA_MODES:
        return _over_white(np.asarray(img.convert("RGBA"), dtype=np.float32))
    return np.asarray(img.convert("RGB"))


def _deep_grey(img: Image.Image) -> np.ndarray:
    arr = np.asarray(img, dtype=np.float64)
    sixteen = img.mode != "I" or arr.max(initial=0) > 255
    grey = np.clip(np.rint(arr / 257.0 if sixteen else arr), 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def _over_white(rgba: np.ndarray) -> np.ndarray:
    alpha = rgba[..., 3:] / 255.0
    return np.rint(rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)


def _read(path: Path) -> bytes:
    if not path.exists():
        raise ImageError(f"{path}: file not found")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    if not data:
        raise ImageError(f"{path}: empty file (0 bytes)")
    return data


def check_header(data: bytes, name: str, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Read only the header of ``data`` and check its size against ``max_pixels``; nothing is decoded.

    Returns the opened (not yet loaded) image.

    Raises:
        PixelLimitError: more pixels than ``max_pixels``.
        ImageError: empty, or not a readable image.
    """
    if not data:
        raise ImageError(f"{name}: empty input (0 bytes)")
    _allow_in_pillow(max_pixels)
    img = _open_header(data, name)
    _check_pixels(img, name, max_pixels)
    return img


def _decode(data: bytes, name: str, max_pixels: int) -> Image.Image:
    img = check_header(data, name, max_pixels=max_pixels)
    try:
        if getattr(img, "is_animated", False):  # looks for a second frame: may hit a broken file's end
            warnings.warn(f"{name}: animated image: only its first frame is used", ImageWarning, stacklevel=3)
        img.load()
        return ImageOps.exif_transpose(img)
    except _DECODE_ERRORS as exc:
        raise ImageError(f"{name}: corrupt or truncated image ({exc})") from exc


def _allow_in_pillow(max_pixels: int) -> None:
    # Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that, inside Image.open: raised to our
    # limit, it never warns about or refuses an image cutkit allows; ours refuses the rest.
    if Image.MAX_IMAGE_PIXELS is not None and max_pixels > Image.MAX_IMAGE_PIXELS:
        Image.MAX_IMAGE_PIXELS = max_pixels


def _open_header(data: bytes, name: str) -> Image.Image:
    """``Image.open``: reads the header only; the pixels are decoded by ``load``."""
    if _sniff(data) == "HEIF":
        _register_heif(name)
    try:
        return Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise _unreadable(data, name) from None
    except Image.DecompressionBombError as exc:
        raise PixelLimitError(f"{name}: too many pixels, refused before decoding ({exc})") from None
    except _DECODE_ERRORS as exc:
        raise ImageError(f"{name}: corrupt or truncated image ({exc})") from exc


def _check_pixels(img: Image.Image, name: str, max_pixels: int) -> None:
    w, h = img.size
    if w * h > max_pixels:
        raise PixelLimitError(
            f"{name}: {w}×{h} = {w * h:,} pixels, more than the limit of {max_pixels:,}; refused before "
            "decoding (raise it with --max-pixels / max_pixels if the file is trusted)"
        )


def _sniff(data: bytes) -> str | None:
    """The kind of ``data`` from its first bytes, for the formats that get their own message."""
    for signature, kind in _SIGNATURES.items():
        if data.startswith(signature):
            return kind
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "HEIF"
    if data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis"):
        return "AVIF"
    if data.startswith(b"%PDF"):
        return "PDF"
    head = data[:1024].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml")) and b"<svg" in head:
        return "SVG"
    return None


def _unreadable(data: bytes, name: str) -> ImageError:
    kind = _sniff(data)
    if kind == "AVIF" and not features.check("avif"):
        return ImageError(f"{name}: AVIF image: this Pillow was built without AVIF support")
    if kind in (*_SIGNATURES.values(), "AVIF", "HEIF"):
        return ImageError(f"{name}: corrupt or truncated {kind} image (its header cannot be read)")
    if kind == "PDF":
        return ImageError(f"{name}: not an image but a PDF document (export its pages as PNG or JPEG)")
    if kind == "SVG":
        return ImageError(f"{name}: not an image cutkit reads: SVG is vector graphics (rasterise it first)")
    if _is_text(data):
        preview = data[:40].decode("utf-8", "replace").strip()
        return ImageError(f"{name}: not an image: the file holds text ({preview!r})")
    return ImageError(f"{name}: not an image, or a format Pillow cannot read")


def _is_text(data: bytes) -> bool:
    try:
        head = data[:512].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\t\r\n" for ch in head)


@functools.cache
def _heif_opener() -> bool:
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()  # a Pillow plugin: Image.open reads HEIF from now on
    return True


def _register_heif(name: str) -> None:
    if not _heif_opener():
        raise ImageError(
            f"{name}: HEIC/HEIF image: reading it needs the optional pillow-heif "
            "(pip install 'cutkit[heif]'), or convert it to JPEG or PNG"
        )


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
