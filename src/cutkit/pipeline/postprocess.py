"""Network probability → alpha at the photo's size, with optional mask clean-up."""

from __future__ import annotations

import cv2
import numpy as np


def to_alpha(prob: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Resize a probability map (``hxw`` in [0, 1]) to ``size_hw`` and quantise to uint8 alpha.

    The probability is used as is: no per-image min-max stretch, so an image without a subject stays
    (almost) empty instead of being stretched to a full-range mask.
    """
    h, w = size_hw
    up = cv2.resize(prob.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(up * 255.0 + 0.5, 0, 255).astype(np.uint8)


def clean_mask(alpha: np.ndarray, threshold: int = 128) -> np.ndarray:
    """Binarise at ``threshold``, keep the largest connected object, fill its holes."""
    binary = (alpha >= threshold).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count <= 1:
        return np.zeros_like(alpha)
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    obj = (labels == largest).astype(np.uint8)
    return _fill_holes(obj) * 255


def _fill_holes(obj: np.ndarray) -> np.ndarray:
    # Flood the background from the border; whatever background it cannot reach is a hole.
    padded = np.pad(obj, 1)
    flood = padded.copy()
    mask = np.zeros((padded.shape[0] + 2, padded.shape[1] + 2), np.uint8)
    cv2.floodFill(flood, mask, (0, 0), 1)
    holes = (flood == 0)[1:-1, 1:-1]
    return (obj | holes).astype(np.uint8)
