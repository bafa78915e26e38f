"""A heatmap drawn over its image (JET colours, as the Grad-CAM papers show them)."""

from __future__ import annotations

import numpy as np


def overlay(image: np.ndarray, heat: np.ndarray, *, alpha: float = 0.5) -> np.ndarray:
    """Blend the JET-coloured ``heat`` over ``image``.

    Args:
        image: ``HxW`` grey or ``HxWx3`` RGB uint8.
        heat: ``hxw`` float map in ``[0, 1]``; resized (bilinear) to the image when sizes differ.
        alpha: the heatmap's weight in the blend.

    Returns:
        ``HxWx3`` uint8 RGB.
    """
    import cv2

    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"expected an HxW or HxWx3 uint8 image, got {image.dtype} {image.shape}")
    rgb = np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image[..., :3]
    if rgb.shape[2] == 1:
        rgb = np.repeat(rgb, 3, axis=2)
    heat = np.asarray(heat, dtype=np.float32)
    if heat.shape != rgb.shape[:2]:
        heat = cv2.resize(heat, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
    levels = (np.clip(heat, 0, 1) * 255 + 0.5).astype(np.uint8)
    colour = cv2.cvtColor(cv2.applyColorMap(levels, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    blend = (1 - alpha) * rgb.astype(np.float32) + alpha * colour.astype(np.float32)
    return (blend + 0.5).astype(np.uint8)
