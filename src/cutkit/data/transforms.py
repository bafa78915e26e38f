"""Augmentation applied jointly to an image and its mask, for salient-object / background-removal training.

A sample is ``{"image": HxWx3 uint8 RGB, "mask": HxW float32 in [0, 1], "name": str}``. A transform is
called as ``t(sample, rng, background=None)`` and returns a new dict without writing into the input arrays.
Every random draw comes from ``rng``, so one seed gives one result (the trainer resumes exactly on it).
``background(rng)``, when given, returns another sample's RGB image for background swap.

:func:`build_train_transform` chains geometry (random resized crop, flip, one affine warp) that moves image
and mask together, then background swap, then photometric ops on the image only. Geometry draws from ``rng``
first, so the mask for a seed does not depend on which photometric ops are on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np

from cutkit.data._bounded import Bound, BoundedConfig

Sample = dict[str, Any]
Background = Callable[[np.random.Generator], np.ndarray]
Range = tuple[float, float]

__all__ = [
    "AugmentConfig",
    "BackgroundSwap",
    "ColorJitter",
    "Compose",
    "GaussianBlur",
    "GaussianNoise",
    "Grayscale",
    "JpegArtifacts",
    "RandomAffine",
    "RandomHFlip",
    "RandomResizedCrop",
    "Resize",
    "SaltPepper",
    "Transform",
    "build_eval_transform",
    "build_train_transform",
    "check_sample",
]


# --- configuration ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AugmentConfig(BoundedConfig):
    """Every augmentation knob for salient-object training. A probability of 0 turns its op off.

    Attributes:
        crop_p: probability of a random resized crop; otherwise the whole image is resized to the output.
        crop_scale: range of the crop's area as a fraction of the image's.
        crop_ratio: range of the crop's aspect ratio relative to the output's, i.e. how much the content may
            be stretched horizontally (``4/3``) or vertically (``3/4``).
        hflip: probability of a horizontal flip.
        rotate: largest rotation in degrees (either way).
        rotate_p: probability of rotating.
        scale: range of the zoom factor of the affine warp.
        translate: largest shift, as a fraction of the width (x) and of the height (y).
        affine_p: probability of zooming and shifting (rotation has its own ``rotate_p``; both are one warp).
        brightness: brightness factor drawn from ``[1 - brightness, 1 + brightness]``.
        contrast: contrast factor drawn from ``[1 - contrast, 1 + contrast]``.
        saturation: saturation factor drawn from ``[1 - saturation, 1 + saturation]``.
        hue: largest hue shift as a fraction of the colour wheel (0.5 = half a turn).
        jitter_p: probability of the colour jitter (all four factors together).
        grayscale: probability of turning the image to grey.
        blur: probability of a Gaussian blur.
        blur_sigma: range of the blur's sigma in pixels.
        noise: probability of additive Gaussian noise.
        noise_std: range of the noise's standard deviation as a fraction of full scale (1.0 = 255).
        salt_pepper: probability of salt-and-pepper noise.
        salt_pepper_amount: range of the fraction of pixels set to black or white.
        jpeg: probability of JPEG compression artifacts.
        jpeg_quality: range of the JPEG quality (0-100), ends included.
        background_swap: probability of putting the foreground (by the mask) onto another sample's image.
        no_subject: probability of replacing the sample by one with nothing salient and an empty mask (a
            window of its own background, or a generated gradient or texture), so plain scenes give
            empty masks (:mod:`cutkit.data.no_subject`).
    """

    crop_p: float = 1.0
    crop_scale: Range = (0.5, 1.0)
    crop_ratio: Range = (3 / 4, 4 / 3)
    hflip: float = 0.5
    rotate: float = 10.0
    rotate_p: float = 0.3
    scale: Range = (0.9, 1.1)
    translate: float = 0.05
    affine_p: float = 0.3
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    hue: float = 0.02
    jitter_p: float = 0.8
    grayscale: float = 0.05
    blur: float = 0.1
    blur_sigma: Range = (0.5, 1.5)
    noise: float = 0.1
    noise_std: Range = (0.01, 0.04)
    salt_pepper: float = 0.05
    salt_pepper_amount: Range = (0.001, 0.01)
    jpeg: float = 0.1
    jpeg_quality: tuple[int, int] = (30, 90)
    background_swap: float = 0.0
    no_subject: float = 0.0

    @classmethod
    def none(cls) -> AugmentConfig:
        """No augmentation: every image is only resized to the output size."""
        return cls(**{name: 0.0 for name in _PROBABILITIES})


_PROBABILITIES = (
    "crop_p",
    "hflip",
    "rotate_p",
    "affine_p",
    "jitter_p",
    "grayscale",
    "blur",
    "noise",
    "salt_pepper",
    "jpeg",
    "background_swap",
    "no_subject",
)
# For (lo, hi) range fields both ends must lie within.
AugmentConfig.BOUNDS = {
    **{name: Bound(0.0, 1.0) for name in _PROBABILITIES},
    "crop_scale": Bound(0.0, 1.0, low_open=True),
    "crop_ratio": Bound(0.0, math.inf, low_open=True),
    "rotate": Bound(0.0, 180.0),
    "scale": Bound(0.0, math.inf, low_open=True),
    "translate": Bound(0.0, 1.0),
    "brightness": Bound(0.0, 1.0),
    "contrast": Bound(0.0, 1.0),
    "saturation": Bound(0.0, 1.0),
    "hue": Bound(0.0, 0.5),
    "blur_sigma": Bound(0.0, math.inf, low_open=True),
    "noise_std": Bound(0.0, 1.0),
    "salt_pepper_amount": Bound(0.0, 1.0),
    "jpeg_quality": Bound(0, 100, whole=True),
}


# --- sample checks and shared helpers ----------------------------------------------------------------


class Transform(Protocol):
    """What every op and :class:`Compose` are: ``t(sample, rng, background=None) -> new sample``."""

    def __call__(
        self, sample: Sample, rng: np.random.Generator, background: Background | None = None
    ) -> Sample: ...


def check_sample(sample: Mapping[str, Any]) -> None:
    """Raise ValueError naming the sample unless it holds a uint8 RGB image and a matching [0, 1] mask."""
    name = sample.get("name", "<unnamed>")
    image, mask = sample.get("image"), sample.get("mask")
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"sample '{name}': image must be an HxWx3 uint8 array, got {_describe(image)}")
    if not isinstance(mask, np.ndarray) or mask.dtype != np.float32 or mask.shape != image.shape[:2]:
        raise ValueError(
            f"sample '{name}': mask must be a float32 array of shape {image.shape[:2]}, got {_describe(mask)}"
        )
    if mask.size and not (mask.min() >= 0.0 and mask.max() <= 1.0):
        raise ValueError(f"sample '{name}': mask values must lie in [0, 1], got [{mask.min()}, {mask.max()}]")


def _describe(a: Any) -> str:
    return f"{a.dtype} array of shape {a.shape}" if isinstance(a, np.ndarray) else type(a).__name__


def _size_hw(size: int | tuple[int, int]) -> tuple[int, int]:
    """``size`` (one side, or ``(height, width)``) as ``(height, width)``."""
    hw = (size, size) if isinstance(size, int) else tuple(size) if isinstance(size, (tuple, list)) else ()
    if len(hw) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in hw):
        raise ValueError(f"size must be a positive int or a (height, width) pair of them, got {size!r}")
    return hw  # type: ignore[return-value]


def _draw(rng: np.random.Generator, p: float) -> bool:
    """True with probability ``p``; spends no draw when ``p`` is 0 or 1."""
    return p >= 1.0 or (p > 0.0 and rng.random() < p)


def _resize_image(image: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Resize to ``size_hw``: area averaging when shrinking (no aliasing), bilinear when growing.

    The same rule as ``cutkit.pipeline.preprocess.resize``, kept here so the data layer does not pull in
    the inference pipeline and the model registry.
    """
    h, w = size_hw
    shrink = h * w < image.shape[0] * image.shape[1]
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def _resize_mask(mask: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Resize like the image (area when shrinking, see :func:`_resize_image`) and clip to [0, 1].

    Area averaging keeps each mask pixel the covered fraction of the same footprint the image pixel
    averages; bilinear shrinking by more than 2x would skip source pixels and lose thin strands.
    """
    out = _resize_image(mask, size_hw)
    return np.clip(out, 0.0, 1.0, out=out)


def _random_box(
    hw: tuple[int, int], out_hw: tuple[int, int], scale: Range, ratio: Range, rng: np.random.Generator
) -> tuple[int, int, int, int]:
    """A crop ``(y, x, h, w)`` of area fraction in ``scale`` and aspect ``ratio`` times the output's.

    As torchvision's RandomResizedCrop: ten tries, then a central crop with the ratio clamped into range.
    """
    height, width = hw
    out_aspect = out_hw[1] / out_hw[0]
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        area = height * width * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(*log_ratio)) * out_aspect
        w, h = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
        if 0 < w <= width and 0 < h <= height:
            return int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1)), h, w
    return _central_box(hw, out_aspect, ratio)


def _central_box(hw: tuple[int, int], out_aspect: float, ratio: Range) -> tuple[int, int, int, int]:
    height, width = hw
    relative = (width / height) / out_aspect
    if relative < ratio[0]:
        w, h = width, max(1, round(width / (ratio[0] * out_aspect)))
    elif relative > ratio[1]:
        w, h = max(1, round(height * ratio[1] * out_aspect)), height
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


# --- geometric ops: image and mask move together -------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Resize:
    """Resize image and mask to ``size`` ``(height, width)``; nothing random (evaluation)."""

    size: tuple[int, int]

    def __call__(
        self, sample: Sample, rng: np.random.Generator, background: Background | None = None
    ) -> Sample:
        return {
            **sample,
            "image": _resize_image(sample["image"], self.size),
            "mask": _resize_mask(sample["mask"], self.size),
        }


@dataclass(frozen=True, kw_only=True)
class RandomResizedCrop:
    """With probability ``p`` crop a random box (see :func:`_random_box`), else take the whole image; then
    resize it to ``size`` ``(height, width)``."""

    size: tuple[int, int]
    scale: Range = (0.5, 1.0)
    ratio: Range = (3 / 4, 4 / 3)
    p: float = 1.0

    def __call__(
        self, sample: Sample, rng: np.random.Generator, background: Background | None = None
    ) -> Sample:
        image, mask = sample["image"], sample["mask"]
        if _draw(rng, self.p):
            y, x, h, w = _random_box(image.shape[:2], self.size, self.scale, self.ratio, rng)
            image, mask = image[y : y + h, x : x + w], mask[y : y + h, x : x + w]
        return {**sample, "image": _resize_image(image, self.size), "mask": _resize_mask(mask, self.size)}


@dataclass(frozen=True, kw_only=True)
class RandomHFlip:
    """Mirror image and mask left-right with probability ``p``."""

    p: float = 0.5

    def __call__(
        self, sample: Sample, rng: np.random.Generator, background: Background | None = None
    ) -> Sample:
        if not _draw(rng, self.p):
            return dict(sample)
        return {**sample, "image": cv2.flip(sample["image"], 1), "mask": cv2.flip(sample["mask"], 1)}


@dataclass(frozen=True, kw_only=True)
class RandomAffine:
    """Rotate (probability ``rotate_p``) and zoom/shift (probability ``affine_p``) as one warp about the
    centre; the borders are filled by reflection, identically for image and mask."""

    rotate: float = 10.0
    rotate_p: float = 0.3
    scale: Range = (0.9, 1.1)
    translate: float = 0.05
    affine_p: float = 0.3

    def __call__(
        self, sample: Sample, rng: np.random.Generator, background: Background | None = None
    ) -> Sample:
        image, mask = sample["image"], sample["mask"]
        h, w = mask.shape
        m = self.matrix((h, w), rng)
        if m is None:
            return dict(sample)
        warp = dict(dsize=(w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        out_mask = cv2.warpAffine(mask, m, **warp)
        return {
            **sample,
            "image": cv2.warpAffine(image, m, **warp),
            "mask": np.clip(out_mask, 0, 1, out=out_mask),
        }

    def matrix(self, hw: tuple[int, int], rng: np.random.Generator) -> np.ndarray | None:
        """The 2x3 forward matrix for an image of size ``hw``, or None when this sample is not warped."""
        rotating, moving = _draw(rng, self.rotate_p), _draw(rng, self.affine_p)
        if not (rotating or moving):
            return None
        h, w = hw
        angle = rng.uniform(-self.rotate, self.rotate) if rotating else 0.0
        zoom = rng.uniform(*self.scale) if moving else 1.0
        shift = rng.uniform(-self.translate, self.translate, 2) * (w, h) if moving else (0.0, 0.0)
        m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, zoom)
        m[:, 2] += shift
        return m


# --- background swap ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class BackgroundSwap:
    """With probability ``p`` composite the image over another image: ``image * m + bg * (1 - m)``.

    ``bg`` is ``background(rng)`` random-resized-cropped (``scale``, ``ratio``) to this image's size; ``m``
    is the soft mask. The mask itself is unchanged: the foreground stays where it was.
    """

    p: float
    scale: Range = (0.5, 1.0)
    ratio: Range = (3 / 4, 4 / 3)

    def __call__(
        self, sample: Sample, rng: np.random.Generator, background: Background | None = None
    ) -> Sample:
        if background is None:
            raise ValueError("background swap is on but the transform was called without a background source")
        if not _draw(rng, self.p):
            return dict(sample)
        image, mask = sample["image"], sample["mask"]
        bg = background(rng)
        if not isinstance(bg, np.ndarray) or bg.dtype != np.uint8 or bg.ndim != 3 or bg.shape[2] != 3:
            raise ValueError(f"background source returned {_describe(bg)}, not an HxWx3 uint8 RGB image")
        y, x, h, w = _random_box(bg.shape[:2], mask.shape, self.scale, self.ratio, rng)
        bg = _resize_image(bg[y : y + h, x : x + w], mask.shape)
        # blendLinear computes (a*wa + b*wb) / (wa + wb) per pixel in one pass, rounding to uint8.
        return {**sample, "image": cv2.blendLinear(image, bg, mask, 1.0 - mask)}


# --- photometric ops: image only -------------------------------------------------------------------

# ITU-R BT.601 luma, as torchvision's rgb_to_grayscale and OpenCV's RGB2GRAY.
_LUMA = np.array([0.299, 0.587, 0.114])


def _hue_rotation(turns: float) -> np.ndarray:
    """3x3 rotation of RGB about the grey axis by ``turns`` of a full circle: a hue shift keeping greys."""
    k = np.full(3, 1 / math.sqrt(3))
    cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    theta = 2 * math.pi * turns
    return math.cos(theta) * np.eye(3) + math.sin(theta) * cross + (1 - math.cos(theta)) * np.outer(k, k)


@dataclass(frozen=True, kw_only=True)
class ColorJitter:
    """With probability ``p`` change brightness, contrast, saturation and hue by random factors.

    All four are linear in RGB, so they fold into one 3x4 matrix applied by a single ``cv2.transform``
    (float arithmetic inside, rounded and saturated to uint8 once at the end, not after each step).
    """

    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    hue: float = 0.02
    p: float = 0.8

    def __call__(
        self, sample: Sample, rng: np.random.Generator, background: Background | None = None
    ) -> Sample:
        if not _draw(rng, self.p):
            return dict(sample)
        image = sample["image"]
        return {**sample, "image": cv2.transform(image, self.matrix(image, rng).astype(np.float32))}

    def matrix(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The 3x4 matrix for ``image``: brightness, then contrast about the mean grey, saturation, hue."""
        b = rng.uniform(1 - self.brightness, 1 + self.brightness)
        c = rng.uniform(1 - self.contrast, 1 + self.contrast)
        s = rng.uniform(1 - self.saturation, 1 + self.saturation)
        turns = rng.uniform(-self.hue, self.hue)
        mean_grey = float(_LUMA @ cv2.mean(image)[:3])
        saturate = s * np.eye(3) + (1 - s) * np.outer(np.ones(3), _LUMA)
        # Contrast blends with the mean grey of the brightened image (b * mean_grey); saturation and the
        # hue rotation leave greys unchanged, so that offset passes through them as is.
        linear = c * b * _hue_rotation(turns) @ saturate
        return np.hstack([linear, np.full((3, 1), (1 - c) * b * mean_grey)])


@dataclass(frozen=True, kw_only=True)
class Grayscale:
    """With probability ``p`` replace the image by its grey (kept 3-channel)."""

    p: float = 0.05

    def __call__(
        self, sample: Sample, rng: np.random.Generator, background: Background | None = None
    ) -> Sample:
        if not _draw(rng, self.p):
            return dict(sample)
        grey = cv2.cvtColor(sample["image"], cv2.COLOR_RGB2GRAY)
        return {**sample, "image": cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)}


@dataclass(frozen=True, kw_only=True)
class GaussianBlur:
    """With probability ``p`` blur with a Gaussian of sigma drawn from ``sigma`` (pixels)."""

    p: float = 0.1
    sigma: Range = (0.5, 1.5)

    def __call__(
        self, sample: Sample, rng: np.random.Generator, background: Background | None = None
    ) -> Sample:
        if not _draw(rng, self.p):
            return dict(sample)
        sigma = rng.uniform(*self.sigma)
        return {**sample, "image": cv2.GaussianBlur(sample["image"], (0, 0), sigmaX=sigma)}


@dataclass(frozen=True, kw_only=True)
class GaussianNoise:
    """With probability ``p`` add per-channel Gaussian noise, std drawn from ``std`` (fraction of 255)."""

    p: float = 0.1
    std: Range = (0.01, 0.04)

    def __call__(
        self, sample: Sample, rng: np.random.Generator, background: Background | None = None
    ) -> Sample:
        if not _draw(rng, self.p):
            return dict(sample)
        image = sample["image"]
        noise = rng.standard_normal(image.shape, dtype=np.float32)
        noise *= np.float32(rng.uniform(*self.std) * 255)
        return {**sample, "image": cv2.add(image, noise, dtype=cv2.CV_8U)}  # rounds and saturates


@dataclass(frozen=True, kw_only=True)
class SaltPepper:
    """With probability ``p`` set a fraction (drawn from ``amount``) of the pixels to black or white."""

    p: float = 0.05
    amount: Range = (0.001, 0.01)

    def __call__(
        self, sample: Sample, rng: np.random.Generator, background: Background | None = None
    ) -> Sample:
        if not _draw(rng, self.p):
            return dict(sample)
        out = sample["image"].copy()
        pixels = out.reshape(-1, 3)
        count = rng.binomial(len(pixels), rng.uniform(*self.amount))
        # Drawing positions with replacement is far cheaper than a permutation; repeats are rare and harmless.
        where = rng.integers(0, len(pixels), count)
        pixels[where] = rng.integers(0, 2, (count, 1), dtype=np.uint8) * np.uint8(255)
        return {**sample, "image": out}


@dataclass(frozen=True, kw_only=True)
class JpegArtifacts:
    """With probability ``p`` round-trip the image through JPEG at a quality drawn from ``quality``."""

    p: float = 0.1
    quality: tuple[int, int] = (30, 90)

    def __call__(
        self, sample: Sample, rng: np.random.Generator, background: Background | None = None
    ) -> Sample:
        if not _draw(rng, self.p):
            return dict(sample)
        quality = int(rng.integers(self.quality[0], self.quality[1] + 1))
        bgr = cv2.cvtColor(sample["image"], cv2.COLOR_RGB2BGR)
        ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise RuntimeError(f"sample '{sample.get('name')}': OpenCV could not JPEG-encode the image")
        decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
        return {**sample, "image": cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)}


# --- composition and builders --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Compose:
    """Check the sample once, then run ``ops`` in order with the same ``rng`` and ``background``."""

    ops: tuple[Transform, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "ops", tuple(self.ops))

    def __call__(
        self, sample: Sample, rng: np.random.Generator, background: Background | None = None
    ) -> Sample:
        check_sample(sample)
        out = dict(sample)
        for op in self.ops:
            out = op(out, rng, background)
        return out


def build_train_transform(cfg: AugmentConfig, size: int | tuple[int, int]) -> Compose:
    """Training augmentation to ``size`` (one side, or ``(height, width)``); ops turned off are left out.

    Order: a sample with no subject (if drawn), crop to size, flip, one affine warp, background swap (on the
    final-size image), then photometric ops, so a swapped background gets the same colour jitter, blur and
    noise as the foreground.
    """
    from cutkit.data.no_subject import NoSubject

    hw = _size_hw(size)
    ops: list[Transform] = [NoSubject(p=cfg.no_subject)] if cfg.no_subject > 0 else []
    ops.append(RandomResizedCrop(size=hw, scale=cfg.crop_scale, ratio=cfg.crop_ratio, p=cfg.crop_p))
    if cfg.hflip > 0:
        ops.append(RandomHFlip(p=cfg.hflip))
    if _affine_on(cfg):
        ops.append(
            RandomAffine(
                rotate=cfg.rotate,
                rotate_p=cfg.rotate_p if cfg.rotate > 0 else 0.0,
                scale=cfg.scale,
                translate=cfg.translate,
                affine_p=cfg.affine_p if cfg.scale != (1.0, 1.0) or cfg.translate > 0 else 0.0,
            )
        )
    if cfg.background_swap > 0:
        ops.append(BackgroundSwap(p=cfg.background_swap, scale=cfg.crop_scale, ratio=cfg.crop_ratio))
    return Compose(ops=(*ops, *_photometric_ops(cfg)))


def _affine_on(cfg: AugmentConfig) -> bool:
    rotates = cfg.rotate_p > 0 and cfg.rotate > 0
    moves = cfg.affine_p > 0 and (cfg.scale != (1.0, 1.0) or cfg.translate > 0)
    return rotates or moves


def _photometric_ops(cfg: AugmentConfig) -> list[Transform]:
    ops: list[Transform] = []
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
    if cfg.grayscale > 0:
        ops.append(Grayscale(p=cfg.grayscale))
    if cfg.blur > 0:
        ops.append(GaussianBlur(p=cfg.blur, sigma=cfg.blur_sigma))
    if cfg.noise > 0:
        ops.append(GaussianNoise(p=cfg.noise, std=cfg.noise_std))
    if cfg.salt_pepper > 0:
        ops.append(SaltPepper(p=cfg.salt_pepper, amount=cfg.salt_pepper_amount))
    if cfg.jpeg > 0:
        ops.append(JpegArtifacts(p=cfg.jpeg, quality=cfg.jpeg_quality))
    return ops


def build_eval_transform(size: int | tuple[int, int]) -> Compose:
    """Evaluation: resize image and mask to ``size`` (one side, or ``(height, width)``), nothing random."""
    return Compose(ops=(Resize(size=_size_hw(size)),))
