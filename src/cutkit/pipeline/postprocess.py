"""Network probability → alpha at the photo's size, with optional mask clean-up."""

from __future__ import annotations

import cv2
import numpy as np

# Probabilities this close to 0 or 1 are taken as certain: a sigmoid never reaches 0 or 1, and without the
# snap the whole background of a cutout would be 1/255 opaque (a faint ghost, larger PNGs, colour work).
SNAP = 0.01


def to_alpha(prob: np.ndarray, size_hw: tuple[int, int], *, guide: np.ndarray | None = None) -> np.ndarray:
    """Resize a probability map (``hxw`` in [0, 1], covering the photo) to ``size_hw``; uint8 alpha.

    The probability is used as is: no per-image min-max stretch, so an image without a subject stays
    (almost) empty instead of being stretched to a full-range mask. Values within :data:`SNAP` of 0 or 1
    become exactly 0 or 255.

    Args:
        prob: the network's probability, the padding already cut off (:meth:`Placement.crop`).
        size_hw: the photo's size.
        guide: the ``HxWx3`` uint8 photo for edge-aware (guided filter) upsampling; ``None``: bilinear.
    """
    if guide is None:
        up = resize_map(prob, size_hw)
    elif guide.shape[:2] != tuple(size_hw):
        raise ValueError(f"guide of size {guide.shape[:2]} for an alpha of size {tuple(size_hw)}")
    else:
        from cutkit.pipeline.guided import guided_upsample

        up = guided_upsample(prob, guide)
    up = np.where(up < SNAP, 0.0, np.where(up > 1.0 - SNAP, 1.0, up))
    return np.clip(up * 255.0 + 0.5, 0, 255).astype(np.uint8)


def resize_map(prob: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a float map (area averaging when it shrinks, so a tiny photo is not aliased)."""
    h, w = size_hw
    shrink = h * w < prob.shape[0] * prob.shape[1]
    return cv2.resize(
        prob.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    )


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
