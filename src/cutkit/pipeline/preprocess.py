"""Photo → network input, following the model's own preprocessing (its spec)."""

from __future__ import annotations

import cv2
import numpy as np

from cutkit.zoo.spec import ModelSpec


def resize(rgb: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Resize ``HxWxC`` to ``size_hw``: area averaging when shrinking (no aliasing), bilinear when growing."""
    h, w = size_hw
    shrink = h * w < rgb.shape[0] * rgb.shape[1]
    return cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def normalise(rgb: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """``HxWx3`` uint8 RGB at network size → ``3xHxW`` float32, as ``(pixel/255 - mean) / std``."""
    x = rgb.astype(np.float32) * np.float32(1 / 255)
    if spec.channel_order == "BGR":
        x = x[..., ::-1]
    x = (x - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def to_input(rgb: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """One photo → ``3xHxW`` float32 at the model's input size."""
    return normalise(resize(rgb, spec.input_size), spec)
