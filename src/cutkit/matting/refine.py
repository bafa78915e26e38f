"""Refining a predicted alpha in its uncertain band with an alpha-matting solver (pymatting, lazy import).

1. A trimap at full size: the mask's soft zone plus a band on both sides of its edge is unknown
   (:func:`cutkit.matting.trimap.trimap`); the band's reach is relative to the image size.
2. The photo and the trimap go to a working size (long side at most ``max_side``): a matting solver's
   cost grows with the number of unknown pixels, so a large photo is solved smaller.
3. The solver runs on the bounding box of the unknown band only (plus a margin its windows need).
4. The matte comes back to full size along the photo's own edges (guided filter) and replaces the alpha
   inside the unknown band only: the sure regions keep exactly 0 and 255.
"""

from __future__ import annotations

import numpy as np

from cutkit.matting.solvers import solve_alpha
from cutkit.matting.trimap import BACKGROUND, FOREGROUND, UNKNOWN, band_radius, box_around, trimap
from cutkit.pipeline.scale import shrink

__all__ = ["refine_alpha", "trimap"]

# Known pixels kept around the band's bounding box. Closed-form matting couples pixels through 3×3
# windows, so two pixels of margin already give the same answer as the whole image; four cover LBDM's
# soft constraints too.
_MARGIN = 4
# The guided filter's regularisation when the matte goes back to full size. Smaller than the network
# mask's (1e-3): a matte's edges are fine colour edges (hair, fur) it should follow closely.
_UPSAMPLE_EPS = 1e-4


def refine_alpha(
    rgb: np.ndarray,
    alpha: np.ndarray,
    *,
    band: float,
    erode: float | None,
    fg_threshold: int,
    bg_threshold: int,
    solver: str,
    max_side: int,
) -> np.ndarray:
    """Solve ``alpha``'s uncertain band with alpha matting; returns the refined ``HxW`` uint8 alpha.

    Args:
        rgb: ``HxWx3`` uint8 photo.
        alpha: ``HxW`` uint8 predicted alpha.
        band: the unknown band's reach on each side of the edge, as a fraction of the short side.
        erode: the same reach in pixels; when given it replaces ``band`` (rembg's erode size).
        fg_threshold: alpha above which a pixel is on the foreground side before erosion.
        bg_threshold: alpha below which a pixel is on the background side before erosion.
        solver: ``cf`` (closed-form) or ``lbdm`` (learning-based), see :mod:`cutkit.matting.solvers`.
        max_side: the long side at which the solver runs at most.

    An alpha with no sure foreground or no sure background has no edge to refine and is returned as is.
    """
    if rgb.shape[:2] != alpha.shape:
        raise ValueError(f"photo of size {rgb.shape[:2]} for an alpha of size {alpha.shape}")
    tri = trimap(
        alpha, fg_threshold, bg_threshold, band_radius(alpha.shape, band) if erode is None else erode
    )
    if not _solvable(tri):
        return alpha
    scale = min(1.0, max_side / max(alpha.shape))
    small_rgb, small_tri = _working_size(rgb, tri, scale)
    if not _solvable(small_tri):  # a thin subject whose sure core does not survive shrinking
        small_rgb, small_tri, scale = rgb, tri, 1.0
    matte = _solve_in_box(small_rgb, small_tri, solver)
    if scale < 1.0:
        from cutkit.pipeline.guided import guided_upsample

        matte = guided_upsample(matte, rgb, eps=_UPSAMPLE_EPS)
    return np.where(tri == UNKNOWN, np.clip(matte * 255.0 + 0.5, 0, 255), tri).astype(np.uint8)


def _solvable(tri: np.ndarray) -> bool:
    """Whether the trimap has unknown pixels and both sure sides (a matting solver needs all three)."""
    return bool((tri == UNKNOWN).any() and (tri == FOREGROUND).any() and (tri == BACKGROUND).any())


def _working_size(rgb: np.ndarray, tri: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Photo and trimap at ``scale``; a shrunk pixel stays sure only if all it covers was sure."""
    if scale >= 1.0:
        return rgb, tri
    small_rgb, mixed = shrink(rgb, scale), shrink(tri.astype(np.float32), scale)
    small_tri = np.full(mixed.shape, UNKNOWN, np.uint8)
    small_tri[mixed >= FOREGROUND - 1e-3] = FOREGROUND
    small_tri[mixed <= BACKGROUND + 1e-3] = BACKGROUND
    return small_rgb, small_tri


def _solve_in_box(rgb: np.ndarray, tri: np.ndarray, solver: str) -> np.ndarray:
    """The float matte of the whole image: the trimap's values, solved inside the band's bounding box."""
    box = box_around(tri == UNKNOWN, _MARGIN)
    if not _solvable(tri[box]):  # the box holds only one sure side: solve with the whole image's context
        box = (slice(None), slice(None))
    matte = tri.astype(np.float32) / 255.0
    matte[box] = solve_alpha(rgb[box], tri[box], solver)
    return matte
