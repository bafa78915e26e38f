"""ICC colour profiles, carried from the input photo to the cutout so its colours look the same."""

from __future__ import annotations

from PIL import Image

# Bytes 16-19 of an ICC header name the colour space the profile describes.
_RGB_SPACE = b"RGB "
_COLOUR_MODES = ("RGB", "RGBA")


def rgb_profile(img: Image.Image) -> bytes | None:
    """The ICC profile embedded in ``img`` if it describes RGB colours, else ``None``.

    The pipeline works on RGB pixels: a CMYK or grey profile no longer describes them once the photo is
    converted, and labelling the output with it would shift every colour.
    """
    icc = img.info.get("icc_profile")
    return icc if isinstance(icc, bytes) and icc[16:20] == _RGB_SPACE else None


def with_profile(out: Image.Image, icc: bytes | None) -> Image.Image:
    """``out`` labelled with ``icc`` when it holds colours; a greyscale mask is left unlabelled."""
    if icc and out.mode in _COLOUR_MODES:
        out.info["icc_profile"] = icc
    return out


def output_profile(img: Image.Image) -> bytes | None:
    """The profile an encoder should embed for ``img``: its own, if it holds colours."""
    icc = img.info.get("icc_profile")
    return icc if icc and img.mode in _COLOUR_MODES else None
