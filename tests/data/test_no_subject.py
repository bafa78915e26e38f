"""Samples with no subject: the window comes from the background only; generated scenes have no subject."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from cutkit.data.no_subject import SCENES, NoSubject, background_window, plain_scene
from cutkit.data.transforms import AugmentConfig, build_train_transform

RED = (255, 0, 0)


def photo_with_subject(h: int = 120, w: int = 200) -> dict:
    """Grey-blue noise background, a pure red subject disc, and its mask."""
    rng = np.random.default_rng(0)
    image = np.stack([rng.integers(0, 120, (h, w)), rng.integers(60, 200, (h, w))] * 2, -1)[..., :3]
    image = image.astype(np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    inside = (yy - h / 2) ** 2 + (xx - w / 3) ** 2 < (h / 3) ** 2
    image[inside] = RED
    return {"image": image, "mask": inside.astype(np.float32), "name": "disc"}


def test_a_background_window_never_holds_the_subject() -> None:
    sample = photo_with_subject()
    for seed in range(40):
        window = background_window(sample["image"], sample["mask"], np.random.default_rng(seed))
        if window is not None:
            assert not (window == RED).all(axis=-1).any(), seed


def test_with_p_one_the_mask_is_empty_and_the_image_well_formed() -> None:
    op = NoSubject(p=1.0)
    for seed in range(20):
        out = op(photo_with_subject(), np.random.default_rng(seed))
        assert out["mask"].dtype == np.float32 and not out["mask"].any()
        assert out["image"].dtype == np.uint8 and out["image"].shape == (*out["mask"].shape, 3)
        assert not (out["image"] == RED).all(axis=-1).any()


def test_a_subject_filling_the_photo_gives_a_generated_scene() -> None:
    sample = photo_with_subject()
    full = {**sample, "mask": np.ones_like(sample["mask"])}
    assert background_window(full["image"], full["mask"], np.random.default_rng(0)) is None
    out = NoSubject(p=1.0, synthetic=0.0)(full, np.random.default_rng(0))
    assert out["image"].shape == full["image"].shape and not out["mask"].any()


@pytest.mark.parametrize("scene", SCENES, ids=lambda f: f.__name__)
def test_every_generated_scene_spans_its_colours(scene) -> None:
    t = scene((64, 96), np.random.default_rng(1))
    assert t.shape == (64, 96) and t.min() >= 0.0 and t.max() <= 1.0 and np.ptp(t) > 0.5
    assert plain_scene((64, 96), np.random.default_rng(2)).shape == (64, 96, 3)


def test_off_by_default_and_spends_no_random_draw() -> None:
    """p = 0 leaves the pipeline as it was: the same seed gives the same crop as before the option existed."""
    assert AugmentConfig().no_subject == 0.0
    plain = build_train_transform(AugmentConfig(), 64)
    with_op = build_train_transform(dataclasses.replace(AugmentConfig(), no_subject=1e-12), 64)
    a = plain(photo_with_subject(), np.random.default_rng(5))
    assert len(with_op.ops) == len(plain.ops) + 1
    assert np.array_equal(a["mask"], plain(photo_with_subject(), np.random.default_rng(5))["mask"])


def test_in_the_training_transform_it_comes_first_and_gives_empty_masks() -> None:
    cfg = AugmentConfig.from_dict({"no_subject": 1.0})
    out = build_train_transform(cfg, 64)(photo_with_subject(), np.random.default_rng(3))
    assert out["image"].shape == (64, 64, 3) and not out["mask"].any()


def test_a_probability_outside_zero_one_is_refused() -> None:
    with pytest.raises(ValueError, match="no_subject"):
        AugmentConfig.from_dict({"no_subject": 1.5})
