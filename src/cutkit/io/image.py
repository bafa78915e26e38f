"""Decoding and encoding images, with errors that name the file and the problem."""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PIL import Image

# The decode side lives in decode.py; these names stay importable from here.
from cutkit.io.decode import ImageError as ImageError
from cutkit.io.decode import ImageWarning as ImageWarning
from cutkit.io.decode import open_image as open_image
from cutkit.io.decode import to_rgb_array as to_rgb_array

FORMATS = {"png": "PNG", "webp": "WEBP", "jpg": "JPEG", "tif": "TIFF"}
SUFFIX_FORMAT = {".png": "png", ".webp": "webp", ".jpg": "jpg", ".jpeg": "jpg", ".tif": "tif", ".tiff": "tif"}
LOSSY_FORMATS = ("jpg", "webp")
JPEG_QUALITY = 95  # the JPEG encoder's quality when none is asked for: no visible loss, a third of 100's size
# zlib level of PNG output: level 1 writes a 1024×768 cutout 4× as fast as Pillow's default 6 for a file
# about 12 % larger (benchmarks/encode_speed.py, docs/benchmarks.md); encoding was most of a removal's time.
PNG_LEVEL = 1


def encode(img: Image.Image, fmt: str, quality: int | None = None) -> bytes:
    """Encode to ``png``/``webp``/``jpg``/``tif`` bytes, embedding the image's ICC profile if it has one.

    Args:
        img: the image; an ``icc_profile`` in ``img.info`` is written for colour (RGB/RGBA) images.
        fmt: a key of :data:`FORMATS`.
        quality: lossy quality 1-100 for ``jpg`` (default :data:`JPEG_QUALITY`) and ``webp`` (default:
            lossless); an error for the lossless formats.

    Raises:
        ValueError: an unknown format, transparency for JPEG, or a quality for a lossless format.
    """
    from cutkit.io.icc import output_profile

    check_encodable(fmt, alpha=img.mode in ("RGBA", "LA"), quality=quality)
    buf = io.BytesIO()
    img.save(buf, format=FORMATS[fmt], icc_profile=output_profile(img), **_save_params(fmt, quality))
    return buf.getvalue()


def check_encodable(fmt: str, *, alpha: bool, quality: int | None = None) -> None:
    """Raise ``ValueError`` if an image (with ``alpha`` or not) cannot be saved as ``fmt`` at ``quality``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format '{fmt}'; choose from {', '.join(FORMATS)}")
    if fmt == "jpg" and alpha:
        raise ValueError(
            "JPEG has no transparency: pass an opaque background (--bg white, --bg blur, --bg IMAGE) "
            "or choose png, webp or tif"
        )
    if quality is not None and fmt not in LOSSY_FORMATS:
        raise ValueError(f"quality applies to jpg and webp only; {fmt} is always lossless")


def _save_params(fmt: str, quality: int | None) -> dict[str, Any]:
    if fmt == "webp":
        # exact: keep the colours under fully transparent pixels, as PNG does, so the alpha can be edited
        return {"lossless": True, "exact": True} if quality is None else {"quality": quality}
    if fmt == "jpg":
        return {"quality": JPEG_QUALITY if quality is None else quality}
    if fmt == "tif":
        return {"compression": "tiff_adobe_deflate"}
    return {"compress_level": PNG_LEVEL}


TEMP_SUFFIX = ".part"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: never a half-written file.

    The temporary file is hidden (``.NAME.RANDOM.part``, beside ``path``) and removed if writing fails; only
    a killed process leaves one behind (see :func:`remove_stale_temps`). The data is flushed to disk before
    the rename, so a crash cannot leave an empty file under the final name. The file gets the usual
    permissions (``0o666`` less the umask), not the owner-only ones of :func:`tempfile.mkstemp`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _create_temp(path: Path) -> tuple[int, Path]:
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            continue


def remove_stale_temps(paths: Iterable[Path]) -> int:
    """Delete the temporary files a killed :func:`write_atomic` left for any of ``paths``; returns how many.

    Each folder is listed once, so this stays fast for many thousands of outputs.
    """
    names: dict[Path, set[str]] = {}
    for path in paths:
        names.setdefault(path.parent, set()).add(path.name)
    removed = 0
    for folder, wanted in names.items():
        if not folder.is_dir():
            continue
        for entry in os.scandir(folder):
            if _temp_owner(entry.name) in wanted:
                Path(entry.path).unlink(missing_ok=True)
                removed += 1
    return removed


def _temp_owner(name: str) -> str | None:
    """``NAME`` for a temporary file name ``.NAME.RANDOM.part``, else ``None``."""
    if not (name.startswith(".") and name.endswith(TEMP_SUFFIX)):
        return None
    owner, dot, _random = name[1 : -len(TEMP_SUFFIX)].rpartition(".")
    return owner if dot else None
