"""Shrinking images and maps by area averaging, for steps that work at a reduced size."""

from __future__ import annotations

import cv2
import numpy as np


def shrink(x: np.ndarray, scale: float) -> np.ndarray:
    """``x`` (``HxW`` or ``HxWxC``) area-averaged to ``scale`` of its size; ``scale >= 1`` returns it as is.

    Each side keeps at least one pixel, and a trailing channel axis of size 1 is kept (OpenCV drops it).
    """
    if scale >= 1.0:
        return x
    size = (max(1, round(x.shape[1] * scale)), max(1, round(x.shape[0] * scale)))
    small = cv2.resize(x, size, interpolation=cv2.INTER_AREA)
    return small.reshape(size[1], size[0], *x.shape[2:])
