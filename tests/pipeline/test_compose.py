"""Composition of photo + alpha: transparent, colour, image (cover), mask; background parsing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cutkit.pipeline.compose import ImageBackground, compose, parse_background
from cutkit.pipeline.postprocess import clean_mask, to_alpha

RGB = np.full((4, 6, 3), 200, np.uint8)
ALPHA = np.array([[0, 255, 128, 64, 255, 0]] * 4, np.uint8)


def test_transparent_and_mask() -> None:
    rgba = np.asarray(compose(RGB, ALPHA))
    assert rgba.shape == (4, 6, 4) and (rgba[..., 3] == ALPHA).all() and (rgba[..., :3] == RGB).all()
    mask = compose(RGB, ALPHA, mask_only=True)
    assert mask.mode == "L" and (np.asarray(mask) == ALPHA).all()


def test_colour_background_blends_by_alpha() -> None:
    out = np.asarray(compose(RGB, ALPHA, parse_background("black"))).astype(int)
    assert out.shape == (4, 6, 3)
    expected = np.round(200 * ALPHA.astype(float) / 255).astype(int)
    assert np.abs(out[..., 0] - expected).max() <= 1


def test_translucent_colour_keeps_an_alpha_channel() -> None:
    out = np.asarray(compose(RGB, ALPHA, parse_background("0,0,255,128")))
    assert out.shape == (4, 6, 4)
    assert out[0, 0, 3] == 128 and out[0, 1, 3] == 255  # background alpha where the photo is transparent


def test_image_background_covers_and_is_centred(tmp_path: Path) -> None:
    back = np.zeros((10, 40, 3), np.uint8)
    back[:, 15:25] = 255  # a white band in the middle: the centre crop must show it
    path = tmp_path / "back.png"
    Image.fromarray(back).save(path)
    bg = parse_background(str(path))
    assert isinstance(bg, ImageBackground)
    out = np.asarray(compose(RGB, np.zeros_like(ALPHA), bg))
    assert out.shape == (4, 6, 3)
    assert out[:, 2:4].min() > 200 and out[:, 0].max() < 60


@pytest.mark.parametrize("bad", ["not-a-colour", "missing.jpg", "1,2", "300,0,0"])
def test_bad_backgrounds(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_background(bad)


def test_probability_is_not_stretched() -> None:
    # A faint prediction stays faint: no per-image min-max normalisation.
    alpha = to_alpha(np.full((8, 8), 0.05, np.float32), (16, 16))
    assert alpha.shape == (16, 16) and alpha.max() <= 13


def test_clean_mask_keeps_largest_object_and_fills_holes() -> None:
    alpha = np.zeros((20, 20), np.uint8)
    alpha[2:12, 2:12] = 255
    alpha[5:8, 5:8] = 0  # a hole
    alpha[15:17, 15:17] = 200  # a speck
    out = clean_mask(alpha)
    assert set(np.unique(out)) == {0, 255}
    assert out[6, 6] == 255 and out[16, 16] == 0 and out[2:12, 2:12].min() == 255
