"""Augmentation of classification samples: crop with padding, flip, rotation, translation, colour jitter,
cutout, Gaussian and salt-and-pepper noise, and normalisation.

A sample is ``{"image": HxW (grey) or HxWx3 (RGB) uint8, "label": int, "name": str}``. An op is called as
``op(sample, rng)`` and returns a new dict without writing into the input's arrays; every random draw
comes from ``rng``, so one seed gives one result. Ops work on grey and RGB images alike (saturation and hue
need colour and leave grey images alone). :class:`Normalize`, last if used, turns the image into a
float32 C x H x W array.

Mixup and cutmix mix whole batches: :func:`cutkit.data.classify.batch.mix_batch`. Normalisation
statistics of a dataset: :func:`compute_stats`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np

from cutkit.data._bounded import Bound, BoundedConfig
from cutkit.data.classify.stats import compute_stats
from cutkit.data.transforms import ColorJitter as _RgbJitter
from cutkit.data.transforms import GaussianNoise as _Noise
from cutkit.data.transforms import _draw, _size_hw

Sample = dict[str, Any]
Range = tuple[float, float]

__all__ = [
    "ClassifyAugment",
    "ColorJitter",
    "Compose",
    "Cutout",
    "GaussianNoise",
    "Normalize",
    "RandomAffine",
    "RandomCrop",
    "RandomHFlip",
    "Resize",
    "SaltPepper",
    "build_eval_transform",
    "build_train_transform",
    "check_sample",
    "compute_stats",
]


class Op(Protocol):
    """What every op and :class:`Compose` are: ``op(sample, rng) -> new sample``."""

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample: ...


def check_sample(sample: Mapping[str, Any]) -> None:
    """Raise ValueError naming the sample unless its image is HxW or HxWx3 uint8 and its label an int."""
    name, image = sample.get("name", "<unnamed>"), sample.get("image")
    ok = isinstance(image, np.ndarray) and image.dtype == np.uint8
    if not (ok and (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3))):
        got = f"{image.dtype} array of shape {image.shape}" if isinstance(image, np.ndarray) else type(image)
        raise ValueError(f"sample '{name}': image must be an HxW or HxWx3 uint8 array, got {got}")
    if isinstance(sample.get("label"), bool) or not isinstance(sample.get("label"), (int, np.integer)):
        raise ValueError(f"sample '{name}': label must be an int, got {sample.get('label')!r}")


# --- geometry ---------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Resize:
    """Resize to ``size`` ``(height, width)`` (area averaging when shrinking, bilinear when growing)."""

    size: tuple[int, int]

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        image = sample["image"]
        h, w = self.size
        if image.shape[:2] == (h, w):
            return dict(sample)
        shrink = h * w < image.shape[0] * image.shape[1]
        interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        return {**sample, "image": cv2.resize(image, (w, h), interpolation=interpolation)}


@dataclass(frozen=True, kw_only=True)
class RandomCrop:
    """Pad each side by ``padding`` pixels of value ``fill``, then crop a random window of the original
    size: a shift of up to ``padding`` pixels either way (the CIFAR standard is 4)."""

    padding: int = 4
    fill: int = 0

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        image, p = sample["image"], self.padding
        if p <= 0:
            return dict(sample)
        h, w = image.shape[:2]
        padded = cv2.copyMakeBorder(image, p, p, p, p, cv2.BORDER_CONSTANT, value=(self.fill,) * 3)
        y, x = int(rng.integers(0, 2 * p + 1)), int(rng.integers(0, 2 * p + 1))
        return {**sample, "image": np.ascontiguousarray(padded[y : y + h, x : x + w])}


@dataclass(frozen=True, kw_only=True)
class RandomHFlip:
    """Mirror left-right with probability ``p`` (off for digits and text, whose meaning a flip changes)."""

    p: float = 0.5

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        if not _draw(rng, self.p):
            return dict(sample)
        return {**sample, "image": cv2.flip(sample["image"], 1)}


@dataclass(frozen=True, kw_only=True)
class RandomAffine:
    """Rotate by up to ``rotate`` degrees (probability ``rotate_p``) and shift by up to ``translate`` of
    the width/height (probability ``translate_p``), as one warp about the centre; uncovered corners get
    ``fill``."""

    rotate: float = 0.0
    rotate_p: float = 0.5
    translate: float = 0.0
    translate_p: float = 0.5
    fill: int = 0

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        image = sample["image"]
        m = self.matrix(image.shape[:2], rng)
        if m is None:
            return dict(sample)
        h, w = image.shape[:2]
        out = cv2.warpAffine(
            image,
            m,
            (w, h),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(self.fill,) * 3,
        )
        return {**sample, "image": out}

    def matrix(self, hw: tuple[int, int], rng: np.random.Generator) -> np.ndarray | None:
        """The 2x3 matrix for an image of size ``hw``, or None when this sample is not warped."""
        rotating = self.rotate > 0 and _draw(rng, self.rotate_p)
        moving = self.translate > 0 and _draw(rng, self.translate_p)
        if not (rotating or moving):
            return None
        h, w = hw
        angle = rng.uniform(-self.rotate, self.rotate) if rotating else 0.0
        shift = rng.uniform(-self.translate, self.translate, 2) * (w, h) if moving else (0.0, 0.0)
        m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, 1.0)
        m[:, 2] += shift
        return m


# --- pixels -----------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ColorJitter:
    """With probability ``p`` scale brightness and contrast (and, for RGB, saturation and hue) by random
    factors from ``[1 - x, 1 + x]`` (hue: a shift of up to ``hue`` of a turn)."""

    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    hue: float = 0.02
    p: float = 0.8

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        if not _draw(rng, self.p):
            return dict(sample)
        image = sample["image"]
        if image.ndim == 3:  # the salient jitter's one-matrix colour transform, always applied here
            rgb = _RgbJitter(
                brightness=self.brightness,
                contrast=self.contrast,
                saturation=self.saturation,
                hue=self.hue,
                p=1.0,
            )
            return rgb(sample, rng)
        b = rng.uniform(1 - self.brightness, 1 + self.brightness)
        c = rng.uniform(1 - self.contrast, 1 + self.contrast)
        mean = float(image.mean())
        # brightness, then contrast about the brightened mean; rounded and saturated to uint8 once
        out = image.astype(np.float32) * np.float32(c * b) + np.float32((1 - c) * b * mean)
        return {**sample, "image": np.clip(np.rint(out), 0, 255).astype(np.uint8)}


@dataclass(frozen=True, kw_only=True)
class Cutout:
    """With probability ``p`` fill a square of side ``size`` x the shorter side with ``fill``; its centre
    is uniform over the image, so it may hang over an edge (DeVries & Taylor, 2017)."""

    size: float = 0.5
    p: float = 0.5
    fill: int = 0

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        if not _draw(rng, self.p):
            return dict(sample)
        out = sample["image"].copy()
        h, w = out.shape[:2]
        side = max(1, round(self.size * min(h, w)))
        cy, cx = int(rng.integers(0, h)), int(rng.integers(0, w))
        y0, x0 = max(0, cy - side // 2), max(0, cx - side // 2)
        out[y0 : min(h, cy - side // 2 + side), x0 : min(w, cx - side // 2 + side)] = self.fill
        return {**sample, "image": out}


@dataclass(frozen=True, kw_only=True)
class GaussianNoise:
    """With probability ``p`` add Gaussian noise, std drawn from ``std`` (a fraction of 255)."""

    p: float = 0.5
    std: Range = (0.01, 0.05)

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        return _Noise(p=self.p, std=self.std)(sample, rng)  # channel-agnostic already


@dataclass(frozen=True, kw_only=True)
class SaltPepper:
    """With probability ``p`` set a fraction (drawn from ``amount``) of the pixels to black or white."""

    p: float = 0.5
    amount: Range = (0.001, 0.01)

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        if not _draw(rng, self.p):
            return dict(sample)
        out = sample["image"].copy()
        h, w = out.shape[:2]
        pixels = out.reshape(h * w, -1)  # one row per pixel, grey or RGB
        count = rng.binomial(h * w, rng.uniform(*self.amount))
        # Positions with replacement are far cheaper than a permutation; repeats are rare and harmless.
        where = rng.integers(0, h * w, count)
        pixels[where] = rng.integers(0, 2, (count, 1), dtype=np.uint8) * np.uint8(255)
        return {**sample, "image": out}


@dataclass(frozen=True, kw_only=True)
class Normalize:
    """The image as float32 C x H x W: ``(pixel / 255 - mean) / std`` per channel (one value per
    channel, as :func:`compute_stats` returns)."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "mean", tuple(float(m) for m in self.mean))
        object.__setattr__(self, "std", tuple(float(s) for s in self.std))
        if len(self.mean) not in (1, 3) or len(self.std) != len(self.mean):
            raise ValueError(f"mean and std need one value per channel (1 or 3), got {self.mean}, {self.std}")
        if not all(s > 0 and math.isfinite(s) for s in self.std):
            raise ValueError(f"std values must be finite and > 0, got {self.std}")

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        image = sample["image"]
        chw = image[None] if image.ndim == 2 else image.transpose(2, 0, 1)
        if len(chw) != len(self.mean):
            raise ValueError(
                f"sample '{sample.get('name')}': {len(chw)}-channel image, "
                f"but {len(self.mean)}-channel mean/std"
            )
        mean = np.asarray(self.mean, np.float32).reshape(-1, 1, 1)
        scale = (1.0 / (255.0 * np.asarray(self.std, np.float32))).reshape(-1, 1, 1)
        return {**sample, "image": (chw.astype(np.float32) - mean * 255.0) * scale}


@dataclass(frozen=True, kw_only=True)
class Compose:
    """Check the sample once, then run ``ops`` in order with the same ``rng``."""

    ops: tuple[Op, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "ops", tuple(self.ops))

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        check_sample(sample)
        out = dict(sample)
        for op in self.ops:
            out = op(out, rng)
        return out


# --- configuration and builders -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ClassifyAugment(BoundedConfig):
    """Every augmentation knob of classification training. A probability or size of 0 turns its op off.

    The defaults are the CIFAR/ImageNet standard (4-pixel crop padding, horizontal flip); turn ``hflip``
    off for digits and text.

    Attributes:
        crop_padding: pixels of padding around the image before a random crop back to its size.
        hflip: probability of a horizontal flip.
        rotate: largest rotation in degrees (either way); rotate_p: probability of rotating.
        translate: largest shift as a fraction of width/height; translate_p: probability of shifting.
        brightness, contrast, saturation: factors drawn from ``[1 - x, 1 + x]``.
        hue: largest hue shift as a fraction of the colour wheel.
        jitter_p: probability of the colour jitter (when any of its four factors is on).
        cutout: probability of cutout; cutout_size: its square's side as a fraction of the shorter side.
        noise: probability of Gaussian noise; noise_std: range of its std (fraction of 255).
        salt_pepper: probability of salt-and-pepper noise; salt_pepper_amount: range of the pixel fraction.
        fill: the grey value (0-255) of padding, uncovered corners and cutout squares.
    """

    crop_padding: int = 4
    hflip: float = 0.5
    rotate: float = 0.0
    rotate_p: float = 0.5
    translate: float = 0.0
    translate_p: float = 0.5
    brightness: float = 0.0
    contrast: float = 0.0
    saturation: float = 0.0
    hue: float = 0.0
    jitter_p: float = 0.8
    cutout: float = 0.0
    cutout_size: float = 0.5
    noise: float = 0.0
    noise_std: Range = (0.01, 0.05)
    salt_pepper: float = 0.0
    salt_pepper_amount: Range = (0.001, 0.01)
    fill: int = 0

    @classmethod
    def none(cls) -> ClassifyAugment:
        """No augmentation at all."""
        return cls(crop_padding=0, hflip=0.0)


_PROBABILITIES = ("hflip", "rotate_p", "translate_p", "jitter_p", "cutout", "noise", "salt_pepper")
ClassifyAugment.BOUNDS = {
    **{name: Bound(0.0, 1.0) for name in _PROBABILITIES},
    "crop_padding": Bound(0, 1024, whole=True),
    "rotate": Bound(0.0, 180.0),
    "translate": Bound(0.0, 1.0),
    "brightness": Bound(0.0, 1.0),
    "contrast": Bound(0.0, 1.0),
    "saturation": Bound(0.0, 1.0),
    "hue": Bound(0.0, 0.5),
    "cutout_size": Bound(0.0, 1.0),
    "noise_std": Bound(0.0, 1.0),
    "salt_pepper_amount": Bound(0.0, 1.0),
    "fill": Bound(0, 255, whole=True),
}


def _tail(mean: Sequence[float] | None, std: Sequence[float] | None) -> list[Op]:
    if (mean is None) != (std is None):
        raise ValueError("give both mean and std for normalisation, or neither")
    return [] if mean is None or std is None else [Normalize(mean=tuple(mean), std=tuple(std))]


def build_train_transform(
    cfg: ClassifyAugment,
    size: int | Sequence[int] | None = None,
    *,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> Compose:
    """Training augmentation; ops turned off are left out.

    Order: resize to ``size`` (when given), crop with padding, flip, rotation/translation, colour jitter,
    Gaussian noise, salt and pepper, cutout, then :class:`Normalize` when ``mean`` and ``std`` are given.
    """
    ops: list[Op] = [Resize(size=_size_hw(size))] if size is not None else []
    if cfg.crop_padding > 0:
        ops.append(RandomCrop(padding=cfg.crop_padding, fill=cfg.fill))
    if cfg.hflip > 0:
        ops.append(RandomHFlip(p=cfg.hflip))
    if (cfg.rotate > 0 and cfg.rotate_p > 0) or (cfg.translate > 0 and cfg.translate_p > 0):
        ops.append(
            RandomAffine(
                rotate=cfg.rotate,
                rotate_p=cfg.rotate_p,
                translate=cfg.translate,
                translate_p=cfg.translate_p,
                fill=cfg.fill,
            )
        )
    if cfg.jitter_p > 0 and any((cfg.brightness, cfg.contrast, cfg.saturation, cfg.hue)):
        ops.append(
            ColorJitter(
                brightness=cfg.brightness,
                contrast=cfg.contrast,
                saturation=cfg.saturation,
                hue=cfg.hue,
                p=cfg.jitter_p,
            )
        )
    if cfg.noise > 0:
        ops.append(GaussianNoise(p=cfg.noise, std=cfg.noise_std))
    if cfg.salt_pepper > 0:
        ops.append(SaltPepper(p=cfg.salt_pepper, amount=cfg.salt_pepper_amount))
    if cfg.cutout > 0 and cfg.cutout_size > 0:
        ops.append(Cutout(size=cfg.cutout_size, p=cfg.cutout, fill=cfg.fill))
    return Compose(ops=(*ops, *_tail(mean, std)))


def build_eval_transform(
    size: int | Sequence[int] | None = None,
    *,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> Compose:
    """Evaluation: resize to ``size`` (when given) and normalise (when ``mean``/``std`` are given)."""
    ops: list[Op] = [Resize(size=_size_hw(size))] if size is not None else []
    return Compose(ops=(*ops, *_tail(mean, std)))
