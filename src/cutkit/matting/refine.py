"""Refining a predicted alpha with closed-form matting in the uncertain band (pymatting, lazy import)."""

from __future__ import annotations

import cv2
import numpy as np

# Closed-form matting solves a sparse system over the unknown pixels; its cost grows quickly with size,
# so it runs at this long side at most and the result is upsampled inside the unknown band only.
MAX_SIDE = 640


def trimap(alpha: np.ndarray, fg_threshold: int, bg_threshold: int, erode: int) -> np.ndarray:
    """``0`` sure background, ``255`` sure foreground, ``128`` unknown; sure regions eroded by ``erode``."""
    kernel = np.ones((3, 3), np.uint8)
    fg = (alpha > fg_threshold).astype(np.uint8)
    bg = (alpha < bg_threshold).astype(np.uint8)
    if erode > 0:
        fg, bg = (cv2.erode(m, kernel, iterations=erode) for m in (fg, bg))
    out = np.full(alpha.shape, 128, np.uint8)
    out[fg == 1] = 255
    out[bg == 1] = 0
    return out


def refine_alpha(
    rgb: np.ndarray, alpha: np.ndarray, *, fg_threshold: int = 240, bg_threshold: int = 10, erode: int = 10
) -> np.ndarray:
    """Closed-form matting of ``alpha``'s uncertain band; returns the refined uint8 alpha."""
    try:
        from pymatting import estimate_alpha_cf
    except ImportError as exc:
        raise ImportError("matting needs pymatting: pip install 'cutkit[matting]'") from exc
    tri = trimap(alpha, fg_threshold, bg_threshold, erode)
    if not (tri == 128).any():
        return alpha
    small_rgb, small_tri = _shrink(rgb, tri)
    solved = estimate_alpha_cf(small_rgb.astype(np.float64) / 255.0, small_tri.astype(np.float64) / 255.0)
    full = cv2.resize(
        solved.astype(np.float32), (alpha.shape[1], alpha.shape[0]), interpolation=cv2.INTER_LINEAR
    )
    out = np.where(tri == 128, np.clip(full * 255 + 0.5, 0, 255), tri).astype(np.uint8)
    return out


def _shrink(rgb: np.ndarray, tri: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = MAX_SIDE / max(rgb.shape[:2])
    if scale >= 1:
        return rgb, tri
    size = (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), cv2.resize(
        tri, size, interpolation=cv2.INTER_NEAREST
    )
