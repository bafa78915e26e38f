"""Composition options: the blurred-background portrait mode, cropping to the subject with a margin."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cutkit import options as opt
from cutkit.pipeline.blur import BlurBackground
from cutkit.pipeline.compose import compose, compose_output, output_has_alpha, parse_background
from cutkit.pipeline.crop import CROP_THRESHOLD, EmptySubjectError, Margin, parse_margin, subject_box

H, W = 120, 160
YY, XX = np.mgrid[0:H, 0:W]
STRIPES = (XX // 4) % 2 == 0  # 4-pixel green/blue stripes: a background whose blur is easy to measure
DISK = (XX - 80) ** 2 + (YY - 60) ** 2 < 30**2
RED = np.array([255, 0, 0], np.float64)


def _background() -> np.ndarray:
    bg = np.zeros((H, W, 3), np.uint8)
    bg[STRIPES], bg[~STRIPES] = (0, 255, 0), (0, 0, 255)
    return bg


def _photo(alpha: np.ndarray) -> np.ndarray:
    """A red subject laid over the stripes with ``alpha``: no red anywhere but in the subject."""
    a = alpha[..., None] / 255.0
    return np.round(RED * a + _background() * (1 - a)).astype(np.uint8)


# --- bg blur ------------------------------------------------------------------------------------------------


def test_blur_is_parsed_from_text() -> None:
    assert isinstance(parse_background("blur"), BlurBackground)
    assert isinstance(parse_background(" Blur "), BlurBackground)
    assert isinstance(opt.resolve(bg="blur").bg, BlurBackground)


def test_blur_keeps_the_subject_and_blurs_the_background() -> None:
    alpha = (DISK * 255).astype(np.uint8)
    rgb = _photo(alpha)
    out = np.asarray(compose(rgb, alpha, BlurBackground(), blur_sigma=3.0))
    assert out.shape == (H, W, 3)
    assert (out[DISK] == rgb[DISK]).all()  # the subject is untouched
    far = ~DISK & ((XX - 80) ** 2 + (YY - 60) ** 2 > 40**2)
    assert rgb[far][:, 1].std() > 120  # the stripes: green is 0 or 255
    assert out[far][:, 1].std() < 20  # blurred towards their average
    assert abs(out[far][:, 1].mean() - 127.5) < 10


def test_blur_lets_no_subject_colour_bleed_into_the_background() -> None:
    alpha = (DISK * 255).astype(np.uint8)
    rgb = _photo(alpha)
    out = np.asarray(compose(rgb, alpha, BlurBackground(), blur_sigma=3.0))
    ring = ~DISK & ((XX - 80) ** 2 + (YY - 60) ** 2 < 36**2)  # background just outside the subject
    plain = cv2.GaussianBlur(rgb.astype(np.float32), (0, 0), 0.03 * W)
    assert plain[ring][:, 0].max() > 100  # a plain blur smears the red subject into the background...
    assert out[~DISK][:, 0].max() == 0  # ...the normalised one adds not one level of red


def test_blur_with_soft_edges_bleeds_far_less_than_a_plain_blur() -> None:
    soft = cv2.GaussianBlur((DISK * 255).astype(np.float32), (0, 0), 3).round().astype(np.uint8)
    rgb = _photo(soft)
    out = np.asarray(compose(rgb, soft, BlurBackground(), blur_sigma=3.0)).astype(np.float64)
    plain = cv2.GaussianBlur(rgb.astype(np.float32), (0, 0), 0.03 * W)
    background = soft == 0
    # Measured: at most 6.6 red levels (normalised, weights (1-a)^2) against 14.2 for the plain blur.
    assert out[background][:, 0].max() < 8
    assert plain[background][:, 0].max() > 12


def test_blur_strength_follows_blur_sigma() -> None:
    alpha = (DISK * 255).astype(np.uint8)
    rgb = _photo(alpha)
    far = ~DISK & ((XX - 80) ** 2 + (YY - 60) ** 2 > 40**2)
    spread = [
        np.asarray(compose(rgb, alpha, BlurBackground(), blur_sigma=s))[far][:, 1].std() for s in (0.5, 3.0)
    ]
    assert spread[0] > 3 * spread[1]


def test_blur_of_a_large_photo_stays_fast_and_finite() -> None:
    # The blur runs at reduced resolution: a 2000x3000 photo with a huge sigma is quick and well defined,
    # even deep inside a subject that covers most of it.
    rgb = np.random.default_rng(0).integers(0, 256, (2000, 3000, 3), np.uint8)
    alpha = np.zeros((2000, 3000), np.uint8)
    alpha[100:1900, 100:2900] = 255
    out = np.asarray(compose(rgb, alpha, BlurBackground(), blur_sigma=20.0))
    assert out.shape == (2000, 3000, 3)
    assert (out[100:1900, 100:2900] == rgb[100:1900, 100:2900]).all()


def test_blur_needs_its_sigma() -> None:
    alpha = (DISK * 255).astype(np.uint8)
    with pytest.raises(ValueError, match="blur_sigma"):
        compose(_photo(alpha), alpha, BlurBackground())


@pytest.mark.parametrize("bad", [0, -1, 51, "strong"])
def test_bad_blur_sigma(bad: object) -> None:
    with pytest.raises(ValueError, match="blur_sigma"):
        opt.resolve(blur_sigma=bad)


# --- crop and margin ----------------------------------------------------------------------------------------


def _box_alpha() -> np.ndarray:
    alpha = np.zeros((50, 80), np.uint8)
    alpha[10:20, 30:50] = 255  # the subject: 20 wide, 10 high
    alpha[12, 29] = 40  # a soft edge pixel counts
    alpha[45, 2] = CROP_THRESHOLD  # faint noise at the threshold does not
    return alpha


@pytest.mark.parametrize(
    ("margin", "box"),
    [
        (0, (29, 10, 50, 20)),
        ("3", (26, 7, 53, 23)),
        (Margin(3), (26, 7, 53, 23)),
        ("10%", (27, 8, 52, 22)),  # 10 % of the longer side (21 px) → 2 px
        ("2.5", (27, 8, 52, 22)),
        (100, (0, 0, 80, 50)),  # clipped at the image's edges
    ],
)
def test_subject_box_with_margin(margin: object, box: tuple[int, int, int, int]) -> None:
    assert subject_box(_box_alpha(), margin) == box


def test_margin_parsing() -> None:
    assert parse_margin("5%") == Margin(5.0, percent=True)
    assert parse_margin(" 12 ") == Margin(12.0)
    assert str(parse_margin("7.5%")) == "7.5%"
    assert isinstance(opt.resolve(margin="4%").margin, Margin)


@pytest.mark.parametrize("bad", ["-3", "abc", "5px", "%", ""])
def test_bad_margins(bad: str) -> None:
    with pytest.raises(ValueError, match="margin"):
        opt.resolve(margin=bad)


@pytest.mark.parametrize(
    ("extra", "mode"),
    [({}, "RGBA"), ({"mask": True}, "L"), ({"bg": "white"}, "RGB"), ({"bg": "blur"}, "RGB")],
)
def test_crop_applies_to_every_kind_of_output(extra: dict[str, object], mode: str) -> None:
    alpha = _box_alpha()
    rgb = np.random.default_rng(1).integers(0, 256, (50, 80, 3), np.uint8)
    full = np.asarray(compose_output(rgb, alpha, opt.resolve(**extra)))
    out = compose_output(rgb, alpha, opt.resolve(crop=True, margin=3, **extra))
    assert out.mode == mode and out.size == (53 - 26, 23 - 7)
    assert (np.asarray(out) == full[7:23, 26:53]).all()


def test_crop_of_an_empty_mask_is_an_error() -> None:
    alpha = np.full((50, 80), CROP_THRESHOLD, np.uint8)
    rgb = np.zeros((50, 80, 3), np.uint8)
    with pytest.raises(EmptySubjectError, match="no subject"):
        compose_output(rgb, alpha, opt.resolve(crop=True))
    assert compose_output(rgb, alpha, opt.resolve()).size == (80, 50)  # without --crop: the full image


def test_output_has_alpha() -> None:
    assert output_has_alpha(None, mask_only=False)
    assert output_has_alpha(parse_background("0,0,255,128"), mask_only=False)
    assert not output_has_alpha(parse_background("white"), mask_only=False)
    assert not output_has_alpha(BlurBackground(), mask_only=False)
    assert not output_has_alpha(None, mask_only=True)
