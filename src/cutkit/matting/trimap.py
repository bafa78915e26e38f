"""Trimaps from a predicted alpha: sure foreground, sure background and the unknown band between them."""

from __future__ import annotations

import cv2
import numpy as np

FOREGROUND, UNKNOWN, BACKGROUND = 255, 128, 0


def box_around(mask: np.ndarray, margin: int) -> tuple[slice, slice]:
    """The bounding box of ``mask``'s true pixels, widened by ``margin`` and clipped to the image."""
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    return (
        slice(max(0, ys.min() - margin), min(h, ys.max() + margin + 1)),
        slice(max(0, xs.min() - margin), min(w, xs.max() + margin + 1)),
    )


def band_radius(shape_hw: tuple[int, int], band: float) -> float:
    """The band's reach in pixels on each side of the edge: ``band`` times the image's short side."""
    return band * min(shape_hw)


def trimap(alpha: np.ndarray, fg_threshold: int, bg_threshold: int, erode: float) -> np.ndarray:
    """``255`` sure foreground, ``0`` sure background, ``128`` unknown.

    A pixel is foreground-side where ``alpha > fg_threshold`` and background-side where
    ``alpha < bg_threshold``; each side is then eroded by ``erode`` pixels (a disc: a pixel stays sure
    when it lies more than ``erode`` pixels from the other side), so the unknown band is the mask's soft
    zone widened by ``erode`` into both sides. With ``fg_threshold = 127`` and ``bg_threshold = 128`` every
    pixel is on one side, and the band is ``erode`` pixels on each side of the mask's 0.5 contour.

    The erosion is capped at half the thickness of each side's thickest part, so a subject thinner than
    the band keeps a sure core instead of vanishing from the trimap.
    """
    fg = _eroded(alpha > fg_threshold, erode)
    bg = _eroded(alpha < bg_threshold, erode)
    out = np.full(alpha.shape, UNKNOWN, np.uint8)
    out[fg] = FOREGROUND
    out[bg] = BACKGROUND
    return out


def _eroded(side: np.ndarray, erode: float) -> np.ndarray:
    if erode <= 0 or not side.any():
        return side
    # The distance of each pixel of the side to the nearest pixel off it (pixels beyond the image border
    # do not count as off it: a subject cut by the border has no edge there).
    inner = cv2.distanceTransform(side.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return inner > min(erode, float(inner.max()) / 2)
