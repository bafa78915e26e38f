"""Training samples with no salient subject: the network learns that a plain scene gives an empty mask.

Salient-object datasets (DUTS, ECSSD, ...) have a subject in every image, so a network trained on them
alone finds one everywhere: a gradient or a texture comes out a third foreground. :class:`NoSubject` replaces
a sample, with probability ``p``, by one whose mask is all zero and whose image is either a window of the
sample's own background (a part of the photo the mask leaves empty: real walls, sky, grass) or, when the
subject leaves no such window, a generated plain scene (a gradient, a smooth or a fine texture, stripes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

Sample = dict[str, Any]

EMPTY = 1e-3  # a window whose mask sum stays below this fraction of its area holds no subject
WINDOW = (0.25, 0.6)  # a background window's side, as a fraction of the photo's side
TRIES = 12


@dataclass(frozen=True, kw_only=True)
class NoSubject:
    """With probability ``p``: a background window of the photo, or a generated plain scene, mask all 0.

    Attributes:
        p: probability of replacing the sample.
        synthetic: probability of a generated scene even when a background window exists.
    """

    p: float
    synthetic: float = 0.3

    def __call__(self, sample: Sample, rng: np.random.Generator, background: Any = None) -> Sample:
        if not (self.p >= 1.0 or (self.p > 0.0 and rng.random() < self.p)):
            return dict(sample)
        image, mask = sample["image"], sample["mask"]
        window = None if rng.random() < self.synthetic else background_window(image, mask, rng)
        if window is None:
            window = plain_scene(image.shape[:2], rng)
        return {**sample, "image": window, "mask": np.zeros(window.shape[:2], np.float32)}


def background_window(image: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """A random window of ``image`` where ``mask`` is (all but) empty, or None if none was found."""
    h, w = mask.shape
    table = cv2.integral(mask.astype(np.float64))
    for _ in range(TRIES):
        wh, ww = (max(8, round(side * rng.uniform(*WINDOW))) for side in (h, w))
        if wh > h or ww > w:
            return None
        y, x = int(rng.integers(0, h - wh + 1)), int(rng.integers(0, w - ww + 1))
        inside = table[y + wh, x + ww] - table[y, x + ww] - table[y + wh, x] + table[y, x]
        if inside <= EMPTY * wh * ww:
            return np.ascontiguousarray(image[y : y + wh, x : x + ww])
    return None


def plain_scene(hw: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A generated ``HxWx3`` uint8 image with nothing salient: one of :data:`SCENES`, in random colours."""
    t = SCENES[int(rng.integers(len(SCENES)))](hw, rng)
    low, high = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    rgb = low + (high - low) * t[..., None]
    return np.clip(rgb + rng.normal(0, rng.uniform(0, 6), rgb.shape), 0, 255).astype(np.uint8)


def _linear(hw: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    angle = rng.uniform(0, 2 * np.pi)
    y, x = np.mgrid[0 : hw[0], 0 : hw[1]].astype(np.float32)
    t = np.cos(angle) * x / hw[1] + np.sin(angle) * y / hw[0]
    return (t - t.min()) / max(float(np.ptp(t)), 1e-6)


def _radial(hw: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    cy, cx = rng.uniform(-0.5, 1.5) * hw[0], rng.uniform(-0.5, 1.5) * hw[1]
    y, x = np.mgrid[0 : hw[0], 0 : hw[1]].astype(np.float32)
    r = np.hypot((y - cy) / hw[0], (x - cx) / hw[1])
    return (r - r.min()) / max(float(np.ptp(r)), 1e-6)


def _texture(hw: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Filtered noise: from fine grain (sigma 0.5 px) to soft clouds (5 % of the side)."""
    sigma = float(np.exp(rng.uniform(np.log(0.5), np.log(0.05 * max(hw)))))
    noise = cv2.GaussianBlur(rng.random(hw, dtype=np.float32), (0, 0), sigma)
    return np.clip(cv2.normalize(noise, None, 0, 1, cv2.NORM_MINMAX), 0, 1)  # normalize can undershoot 0


def _stripes(hw: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Stripes or checks at a random angle and period (2-20 % of the side)."""
    angle, period = rng.uniform(0, np.pi), rng.uniform(0.02, 0.2) * max(hw)
    y, x = np.mgrid[0 : hw[0], 0 : hw[1]].astype(np.float32)
    u = np.cos(angle) * x + np.sin(angle) * y
    wave = 0.5 + 0.5 * np.sin(2 * np.pi * u / period)
    if rng.random() < 0.5:
        v = -np.sin(angle) * x + np.cos(angle) * y
        wave = wave * (0.5 + 0.5 * np.sin(2 * np.pi * v / period))
    return wave


SCENES: tuple[Callable[[tuple[int, int], np.random.Generator], np.ndarray], ...] = (
    _linear,
    _radial,
    _texture,
    _stripes,
)
