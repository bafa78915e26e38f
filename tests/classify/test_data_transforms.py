"""Classification augmentation ops, their configuration, normalisation statistics and seeded epochs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from _parity import find_shared
from cutkit.data.classify import open_classification
from cutkit.data.classify.augmented import TransformedSet
from cutkit.data.classify.transforms import (
    ClassifyAugment,
    ColorJitter,
    Compose,
    Cutout,
    GaussianNoise,
    Normalize,
    RandomAffine,
    RandomCrop,
    RandomHFlip,
    Resize,
    SaltPepper,
    build_eval_transform,
    build_train_transform,
    compute_stats,
)


def sample(channels: int = 3, size: int = 32, seed: int = 0) -> dict:
    shape = (size, size, 3) if channels == 3 else (size, size)
    image = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    return {"image": image, "label": 3, "name": "s"}


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.mark.parametrize("channels", [1, 3])
def test_random_crop_is_a_shift_within_the_padding(channels: int) -> None:
    s = sample(channels, size=16)
    offsets = set()
    for seed in range(200):
        out = RandomCrop(padding=3, fill=7)(s, rng(seed))["image"]
        assert out.shape == s["image"].shape
        padded = np.pad(s["image"], [(3, 3), (3, 3)] + [(0, 0)] * (channels == 3), constant_values=7)
        windows = {(y, x): padded[y : y + 16, x : x + 16] for y in range(7) for x in range(7)}
        found = [yx for yx, window in windows.items() if np.array_equal(window, out)]
        assert found, "the output is not a window of the padded image"
        offsets.add(found[0])
    assert offsets == {(y, x) for y in range(7) for x in range(7)}  # every shift in [-3, 3]² occurs
    assert RandomCrop(padding=0)(s, rng())["image"] is s["image"]


@pytest.mark.parametrize("channels", [1, 3])
def test_hflip(channels: int) -> None:
    s = sample(channels)
    np.testing.assert_array_equal(RandomHFlip(p=1.0)(s, rng())["image"], s["image"][:, ::-1])
    np.testing.assert_array_equal(RandomHFlip(p=0.0)(s, rng())["image"], s["image"])
    flips = sum(not np.array_equal(RandomHFlip(p=0.5)(s, rng(i))["image"], s["image"]) for i in range(400))
    assert 150 < flips < 250


def test_rotation_fills_the_corners_and_keeps_the_centre() -> None:
    white = {"image": np.full((33, 33), 255, np.uint8), "label": 0, "name": "w"}
    out = RandomAffine(rotate=45, rotate_p=1.0, fill=0)
    angles = []
    for seed in range(20):
        m = out.matrix((33, 33), rng(seed))
        angles.append(np.degrees(np.arctan2(m[1, 0], m[0, 0])))
        np.testing.assert_allclose(m[:, :2] @ m[:, :2].T, np.eye(2), atol=1e-9)  # a pure rotation
    assert max(abs(a) for a in angles) <= 45 and max(angles) - min(angles) > 30
    image = RandomAffine(rotate=45, rotate_p=1.0)(white, rng(3))["image"]
    angle = abs(np.degrees(np.arctan2(*out.matrix((33, 33), rng(3))[1::-1, 0])))
    assert image[16, 16] == 255 and (image[0, 0] == 0) == (angle > 2)


def test_translation_moves_content_by_at_most_the_fraction() -> None:
    s = {"image": np.zeros((40, 40), np.uint8), "label": 0, "name": "dot"}
    s["image"][20, 20] = 255
    for seed in range(30):
        out = RandomAffine(translate=0.1, translate_p=1.0)(s, rng(seed))["image"]
        ys, xs = np.nonzero(out)
        assert len(ys) and np.all(np.abs(ys - 20) <= 5) and np.all(np.abs(xs - 20) <= 5)
    assert RandomAffine(translate=0.1, translate_p=0.0)(s, rng())["image"] is s["image"]


def test_grey_jitter_scales_brightness_and_contrast() -> None:
    s = {"image": np.full((8, 8), 100, np.uint8), "label": 0, "name": "g"}
    s["image"][:4] = 50
    out = ColorJitter(brightness=0.5, contrast=0.0, saturation=0, hue=0, p=1.0)(s, rng(1))["image"]
    b = rng(1).uniform(0.5, 1.5)
    np.testing.assert_array_equal(out, np.clip(np.rint(s["image"] * b), 0, 255).astype(np.uint8))
    out = ColorJitter(brightness=0.0, contrast=0.9, saturation=0, hue=0, p=1.0)(s, rng(2))["image"]
    g = rng(2)
    g.uniform(1.0, 1.0)  # the brightness draw comes first even when brightness is off
    c = g.uniform(0.1, 1.9)
    np.testing.assert_allclose(out.astype(float), np.clip(75 + c * (s["image"] - 75.0), 0, 255), atol=0.51)


def test_rgb_jitter_changes_colour_reproducibly() -> None:
    s = sample(3)
    jitter = ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3, hue=0.1, p=1.0)
    a, b = jitter(s, rng(5))["image"], jitter(s, rng(5))["image"]
    np.testing.assert_array_equal(a, b)
    assert a.shape == s["image"].shape and not np.array_equal(a, s["image"])
    assert jitter.__class__(p=0.0)(s, rng())["image"] is s["image"]


def test_cutout_fills_one_square() -> None:
    s = {"image": np.full((32, 32, 3), 200, np.uint8), "label": 0, "name": "c"}
    areas = []
    for seed in range(50):
        out = Cutout(size=0.25, p=1.0, fill=0)(s, rng(seed))["image"]
        ys, xs = np.nonzero(out[..., 0] == 0)
        assert np.all(out[ys, xs] == 0) and np.all(out[out[..., 0] != 0] == 200)
        assert len(ys) == (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)  # a rectangle
        areas.append(len(ys))
    assert max(areas) == 64 and min(areas) < 64  # a full 8x8 square, clipped at the edges sometimes
    assert s["image"].min() == 200  # the input is not written into


@pytest.mark.parametrize("channels", [1, 3])
def test_gaussian_noise_has_the_drawn_std(channels: int) -> None:
    s = {"image": np.full((64, 64, 3)[: 2 + (channels == 3)], 128, np.uint8), "label": 0, "name": "n"}
    out = GaussianNoise(p=1.0, std=(0.04, 0.04))(s, rng())["image"]
    assert out.shape == s["image"].shape
    assert abs((out.astype(float) - 128).std() - 0.04 * 255) < 0.5


@pytest.mark.parametrize("channels", [1, 3])
def test_salt_and_pepper_sets_whole_pixels_black_or_white(channels: int) -> None:
    s = {"image": np.full((100, 100, 3)[: 2 + (channels == 3)], 128, np.uint8), "label": 0, "name": "n"}
    out = SaltPepper(p=1.0, amount=(0.05, 0.05))(s, rng())["image"]
    changed = out != 128
    if channels == 3:
        assert np.all(changed.all(-1) == changed.any(-1))  # all channels of a pixel together
        changed = changed[..., 0]
    assert set(np.unique(out[changed]).tolist()) == {0, 255}
    assert 0.04 < changed.mean() < 0.06


def test_normalize_matches_the_formula() -> None:
    s = sample(3, size=4)
    out = Normalize(mean=(0.5, 0.4, 0.3), std=(0.2, 0.25, 0.5))(s, rng())["image"]
    expected = (s["image"].transpose(2, 0, 1) / 255.0 - np.array([0.5, 0.4, 0.3])[:, None, None]) / np.array(
        [0.2, 0.25, 0.5]
    )[:, None, None]
    assert out.dtype == np.float32 and out.shape == (3, 4, 4)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    grey = Normalize(mean=(0.1307,), std=(0.3081,))(sample(1, size=4), rng())["image"]
    assert grey.shape == (1, 4, 4)
    with pytest.raises(ValueError, match="1-channel image, but 3-channel mean/std"):
        Normalize(mean=(0.5,) * 3, std=(0.5,) * 3)(sample(1), rng())
    with pytest.raises(ValueError, match="std values must be finite and > 0"):
        Normalize(mean=(0.5,), std=(0.0,))


def test_resize_only_when_needed() -> None:
    s = sample(3, size=16)
    assert Resize(size=(16, 16))(s, rng())["image"] is s["image"]
    assert Resize(size=(8, 12))(s, rng())["image"].shape == (8, 12, 3)


def test_config_validation_and_round_trip() -> None:
    with pytest.raises(ValueError, match="unknown augmentation option 'hflp' \\(did you mean 'hflip'\\?\\)"):
        ClassifyAugment.from_dict({"hflp": 0})
    with pytest.raises(ValueError, match=r"ClassifyAugment.cutout must lie in \[0, 1\]"):
        ClassifyAugment(cutout=1.5)
    with pytest.raises(ValueError, match=r"ClassifyAugment.crop_padding must be an int"):
        ClassifyAugment(crop_padding=2.5)
    with pytest.raises(ValueError, match="must be ordered"):
        ClassifyAugment(noise_std=(0.2, 0.1))
    cfg = ClassifyAugment.from_dict({"rotate": 10, "noise_std": [0.02, 0.03], "hflip": 0})
    assert cfg.noise_std == (0.02, 0.03)
    assert ClassifyAugment.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.hflip = 1.0  # type: ignore[misc]


def test_builders_pick_the_ops_that_are_on() -> None:
    default = build_train_transform(ClassifyAugment())
    assert [type(op) for op in default.ops] == [RandomCrop, RandomHFlip]
    everything = ClassifyAugment(
        rotate=10, translate=0.1, brightness=0.2, cutout=0.5, noise=0.2, salt_pepper=0.1
    )
    ops = build_train_transform(everything, 24, mean=(0.5,) * 3, std=(0.25,) * 3).ops
    geometry = [Resize, RandomCrop, RandomHFlip, RandomAffine]
    assert [type(op) for op in ops] == [*geometry, ColorJitter, GaussianNoise, SaltPepper, Cutout, Normalize]
    s = sample(3)
    plain = build_train_transform(ClassifyAugment.none())
    np.testing.assert_array_equal(plain(s, rng())["image"], s["image"])
    assert build_eval_transform(8, mean=(0.0,), std=(1.0,))(sample(1), rng())["image"].shape == (1, 8, 8)
    with pytest.raises(ValueError, match="give both mean and std"):
        build_eval_transform(mean=(0.5,))


def test_train_transform_is_reproducible_per_seed() -> None:
    cfg = ClassifyAugment(rotate=15, cutout=0.5, noise=0.5, salt_pepper=0.5, brightness=0.3)
    tf = build_train_transform(cfg)
    s = sample(3)
    a, b, c = (tf(s, rng(seed))["image"] for seed in (1, 1, 2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    with pytest.raises(ValueError, match="sample 's': image must be an HxW or HxWx3 uint8 array"):
        Compose(ops=())({**s, "image": s["image"].astype(np.float32)}, rng())
    with pytest.raises(ValueError, match="label must be an int"):
        Compose(ops=())({**s, "label": "cat"}, rng())


# --- statistics --------------------------------------------------------------------------------------


class ListSet:
    def __init__(self, images: list[np.ndarray]) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict:
        return {"image": self.images[i], "label": 0, "name": str(i)}


def test_compute_stats_weighs_every_pixel_equally() -> None:
    g = rng(4)
    images = [g.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in ((5, 7), (12, 3), (9, 9))]
    mean, std = compute_stats(ListSet(images))
    pixels = np.concatenate([im.reshape(-1, 3) for im in images]).astype(np.float64) / 255
    np.testing.assert_allclose(mean, pixels.mean(0), rtol=1e-12)
    np.testing.assert_allclose(std, pixels.std(0), rtol=1e-10)
    grey_mean, grey_std = compute_stats(ListSet([np.full((4, 4), 51, np.uint8)] * 3))
    assert grey_mean == pytest.approx((0.2,)) and grey_std == (0.0,)
    first = compute_stats(ListSet(images), limit=1)
    np.testing.assert_allclose(first[0], images[0].reshape(-1, 3).mean(0) / 255)
    with pytest.raises(ValueError, match="image 1 has 1 channels, the first had 3"):
        compute_stats(ListSet([images[0], np.zeros((2, 2), np.uint8)]))


def test_mnist_statistics_are_the_familiar_ones() -> None:
    shared = find_shared()
    folder = shared / "data" / "classification" / "mnist" if shared else None
    if folder is None or not folder.is_dir():
        pytest.skip("shared/data/classification/mnist not found")
    mean, std = compute_stats(open_classification(folder, "train"))
    assert mean[0] == pytest.approx(0.1307, abs=5e-5) and std[0] == pytest.approx(0.3081, abs=5e-5)


# --- seeded epochs --------------------------------------------------------------------------------------


def test_transformed_set_is_seeded_by_seed_epoch_and_index(tmp_path) -> None:
    from test_data_readers import make_cifar

    base = open_classification(make_cifar(tmp_path / "c"), "train")
    tf = build_train_transform(ClassifyAugment(noise=1.0))
    data = TransformedSet(base, transform=tf, seed=7)
    assert len(data) == len(base) and data.classes == base.classes and data.labels is base.labels
    first = data[2]["image"]
    np.testing.assert_array_equal(first, TransformedSet(base, transform=tf, seed=7)[2]["image"])
    assert not np.array_equal(first, TransformedSet(base, transform=tf, seed=8)[2]["image"])
    data.set_epoch(1)
    assert data.epoch == 1 and not np.array_equal(first, data[2]["image"])
    data.set_epoch(0)
    np.testing.assert_array_equal(first, data[-6]["image"])
    with pytest.raises(ValueError, match="seed must be an integer"):
        TransformedSet(base, transform=tf, seed=-1)
