"""Encoding outputs: PNG, WebP (lossless and lossy), JPEG, TIFF; alpha kept; ICC profile carried."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageCms

from cutkit import options as opt
from cutkit.io.icc import rgb_profile, with_profile
from cutkit.io.image import FORMATS, SUFFIX_FORMAT, check_encodable, encode

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
LAB = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()


def _photo_rgba(h: int = 96, w: int = 128) -> np.ndarray:
    """A photo-like RGBA image: smooth gradients with mild noise, an elliptic subject with soft alpha."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.dstack([xx * 255 / w, yy * 255 / h, np.full((h, w), 120.0)]) + rng.normal(0, 4, (h, w, 3))
    r = np.hypot((xx - w / 2) / (w / 3), (yy - h / 2) / (h / 3))
    alpha = np.clip((1.2 - r) * 5, 0, 1) * 255
    return np.dstack([rgb, alpha]).clip(0, 255).round().astype(np.uint8)


def _decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


@pytest.mark.parametrize(("fmt", "pil"), [("png", "PNG"), ("webp", "WEBP"), ("tif", "TIFF")])
def test_lossless_formats_round_trip_with_alpha(fmt: str, pil: str) -> None:
    arr = _photo_rgba()
    out = _decode(encode(Image.fromarray(arr), fmt))
    assert (out.format, out.mode) == (pil, "RGBA")
    assert (np.asarray(out) == arr).all()  # every pixel, colours under full transparency included


def test_tiff_keeps_a_translucent_alpha() -> None:
    arr = _photo_rgba()
    alpha = np.asarray(_decode(encode(Image.fromarray(arr), "tif")))[..., 3]
    assert (alpha % 255 != 0).mean() > 0 and (alpha == arr[..., 3]).all()


def test_lossy_webp_keeps_alpha_and_is_smaller_than_lossless() -> None:
    arr = _photo_rgba()
    lossless = encode(Image.fromarray(arr), "webp")
    lossy = encode(Image.fromarray(arr), "webp", quality=80)
    out = np.asarray(_decode(lossy)).astype(int)
    assert out.shape == arr.shape
    assert len(lossy) < len(lossless) / 2
    assert np.abs(out[..., 3] - arr[..., 3]).max() <= 8  # alpha is encoded at full quality
    visible = arr[..., 3] == 255
    assert np.abs(out[..., :3] - arr[..., :3].astype(int))[visible].mean() < 6


def test_jpeg_round_trips_an_opaque_image_and_quality_matters() -> None:
    rgb = _photo_rgba()[..., :3]
    best = encode(Image.fromarray(rgb), "jpg")
    low = encode(Image.fromarray(rgb), "jpg", quality=30)
    out = _decode(best)
    assert (out.format, out.mode) == ("JPEG", "RGB")
    error = [np.abs(np.asarray(_decode(d)).astype(int) - rgb).mean() for d in (best, low)]
    assert error[0] < 4 and error[0] < error[1]  # the default 95 measured 3.0 on this noisy photo
    assert len(low) < len(best)


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_jpeg_refuses_transparency(mode: str) -> None:
    img = Image.fromarray(_photo_rgba()).convert(mode)
    with pytest.raises(ValueError, match=r"JPEG has no transparency.*--bg"):
        encode(img, "jpg")


@pytest.mark.parametrize("fmt", ["png", "tif"])
def test_quality_for_a_lossless_format_is_an_error(fmt: str) -> None:
    with pytest.raises(ValueError, match=f"quality applies to jpg and webp only; {fmt}"):
        encode(Image.fromarray(_photo_rgba()), fmt, quality=80)


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown output format 'bmp'"):
        check_encodable("bmp", alpha=False)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_icc_profile_bytes_are_kept(fmt: str) -> None:
    arr = _photo_rgba()
    img = Image.fromarray(arr if fmt != "jpg" else arr[..., :3])
    img.info["icc_profile"] = SRGB
    assert _decode(encode(img, fmt)).info.get("icc_profile") == SRGB


def test_a_mask_gets_no_profile() -> None:
    mask = with_profile(Image.fromarray(_photo_rgba()[..., 3]), SRGB)
    assert "icc_profile" not in mask.info
    assert _decode(encode(mask, "png")).info.get("icc_profile") is None


def test_only_rgb_profiles_are_carried() -> None:
    img = Image.new("RGB", (4, 4))
    assert rgb_profile(img) is None
    img.info["icc_profile"] = LAB  # describes Lab data: wrong for the RGB pixels of the output
    assert rgb_profile(img) is None
    img.info["icc_profile"] = SRGB
    assert rgb_profile(img) == SRGB


def test_suffixes_and_format_names() -> None:
    assert SUFFIX_FORMAT[".tif"] == SUFFIX_FORMAT[".tiff"] == "tif"
    assert SUFFIX_FORMAT[".jpeg"] == "jpg"
    assert set(SUFFIX_FORMAT.values()) == set(FORMATS)
    assert opt.resolve(format="TIFF").format == "tif"
    assert opt.resolve(format="jpeg").format == "jpg"
    assert opt.resolve(format=".webp").format == "webp"
    with pytest.raises(ValueError, match="format"):
        opt.resolve(format="gif")


@pytest.mark.parametrize("bad", [0, 101, "high"])
def test_bad_quality(bad: object) -> None:
    with pytest.raises(ValueError, match="quality"):
        opt.resolve(quality=bad)
