"""Alpha-matting errors: SAD, MSE, gradient and connectivity (Rhemann et al., CVPR 2009).

The definitions follow the evaluation code of alphamatting.com and of Deep Image Matting (Xu et al. 2017),
which most published tables use:

- ``pred`` and ``gt`` are alphas in [0, 1] (uint8 maps are divided by 255); errors count only in the
  trimap's unknown region: every pixel that is neither 0 nor 255 in a uint8 trimap (the DIM code tests
  ``== 128``; some trimaps, such as pymatting's lemur, mark it with another grey), or a boolean mask.
- SAD: ``sum |pred - gt|`` over the region, divided by 1000 (reported "in thousands").
- MSE: ``mean (pred - gt)²`` over the region (tables often show it ×10³).
- Gradient: ``sum (|∇pred| - |∇gt|)²`` over the region / 1000, the gradients taken with first-order
  Gaussian derivative filters, σ = 1.4 (MATLAB ``gaussgradient``: kernel half-size
  ``ceil(σ √(-2 ln(√(2π) σ 0.01)))``, normalised to unit L2 norm, replicate borders).
- Connectivity: ``sum |φ(pred) - φ(gt)|`` over the region / 1000, with ``φ = 1 - d·[d ≥ 0.15]``,
  ``d = α - l`` and ``l`` the highest threshold (steps of 0.1) at which the pixel still belongs to the
  largest 4-connected component of ``pred ≥ t  and  gt ≥ t`` (1 where it always does). As in the MATLAB
  original, the largest component is one of the foreground's (some Python ports let the background's
  label win); a threshold with no common foreground at all sends every remaining pixel to its level.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np

GRADIENT_SIGMA = 1.4
CONNECTIVITY_STEP = 0.1
CONNECTIVITY_MIN_DISTANCE = 0.15  # the d ≥ θ of Rhemann et al.: smaller drops do not break connectivity
KEYS = ("sad", "mse", "gradient", "connectivity")


@dataclass(frozen=True, kw_only=True)
class MattingErrors:
    """The four errors of one prediction (definitions in the module docstring)."""

    sad: float
    mse: float
    gradient: float
    connectivity: float

    def as_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in KEYS}


def matting_errors(pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray) -> MattingErrors:
    """SAD, MSE, gradient and connectivity errors of ``pred`` against ``gt`` in the unknown region."""
    p, g, region = prepare(pred, gt, trimap)
    return MattingErrors(
        sad=_sad(p, g, region),
        mse=_mse(p, g, region),
        gradient=_gradient(p, g, region),
        connectivity=_connectivity(p, g, region),
    )


def sad(pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray) -> float:
    """Sum of absolute differences over the unknown region, in thousands."""
    return _sad(*prepare(pred, gt, trimap))


def mse(pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray) -> float:
    """Mean squared error over the unknown region (0 when the region is empty)."""
    return _mse(*prepare(pred, gt, trimap))


def gradient_error(pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray) -> float:
    """Squared difference of Gaussian gradient magnitudes (σ 1.4) over the unknown region, in thousands."""
    return _gradient(*prepare(pred, gt, trimap))


def connectivity_error(pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray) -> float:
    """Connectivity error (threshold step 0.1) over the unknown region, in thousands."""
    return _connectivity(*prepare(pred, gt, trimap))


# --- inputs -----------------------------------------------------------------------------------------------


def prepare(
    pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """float64 ``pred`` and ``gt`` in [0, 1] and the boolean unknown region; ``ValueError`` on bad input."""
    p, g = _unit(pred, "prediction"), _unit(gt, "ground truth")
    region = unknown_region(trimap)
    if not p.shape == g.shape == region.shape:
        raise ValueError(
            f"prediction {p.shape}, ground truth {g.shape} and trimap {region.shape} must have one size"
        )
    return p, g, region


def unknown_region(trimap: np.ndarray) -> np.ndarray:
    """The pixels where errors count: a boolean mask as is, else a uint8 trimap's values other than 0/255."""
    if trimap.ndim != 2:
        raise ValueError(f"trimap must be a 2-D (HxW) map, got shape {trimap.shape}")
    if trimap.dtype == bool:
        return trimap
    if trimap.dtype != np.uint8:
        raise ValueError(f"trimap must be uint8 (0 / unknown / 255) or bool, got {trimap.dtype}")
    return (trimap != 0) & (trimap != 255)


def _unit(alpha: np.ndarray, what: str) -> np.ndarray:
    if alpha.ndim != 2:
        raise ValueError(f"{what} must be a 2-D (HxW) alpha, got shape {alpha.shape}")
    if alpha.dtype == np.uint8:
        return alpha.astype(np.float64) / 255.0
    if not np.issubdtype(alpha.dtype, np.floating):
        raise ValueError(f"{what} must be uint8 or float in [0, 1], got {alpha.dtype}")
    if alpha.size and (np.nanmin(alpha) < 0 or np.nanmax(alpha) > 1 or np.isnan(alpha).any()):
        raise ValueError(f"{what}: float alpha must lie in [0, 1]")
    return alpha.astype(np.float64)


# --- the errors -------------------------------------------------------------------------------------------


def _sad(p: np.ndarray, g: np.ndarray, region: np.ndarray) -> float:
    return float(np.abs(p - g)[region].sum() / 1000.0)


def _mse(p: np.ndarray, g: np.ndarray, region: np.ndarray) -> float:
    count = int(region.sum())
    return float(((p - g) ** 2)[region].sum() / count) if count else 0.0


def _gradient(p: np.ndarray, g: np.ndarray, region: np.ndarray) -> float:
    diff = (gradient_magnitude(p) - gradient_magnitude(g)) ** 2
    return float(diff[region].sum() / 1000.0)


def gaussian_derivative_kernel(sigma: float = GRADIENT_SIGMA) -> np.ndarray:
    """MATLAB ``gaussgradient``'s x-kernel ``g(y)·g'(x)``, unit L2 norm (rows: y, columns: x)."""
    half = int(np.ceil(sigma * np.sqrt(-2.0 * np.log(np.sqrt(2.0 * np.pi) * sigma * 1e-2))))
    u = np.arange(-half, half + 1, dtype=np.float64)
    gauss = np.exp(-(u**2) / (2.0 * sigma**2)) / (sigma * np.sqrt(2.0 * np.pi))
    kernel = np.outer(gauss, -u * gauss / sigma**2)
    return kernel / np.sqrt((kernel**2).sum())


def gradient_magnitude(alpha: np.ndarray, sigma: float = GRADIENT_SIGMA) -> np.ndarray:
    """``sqrt(gx² + gy²)`` with Gaussian derivative filters (convolution, replicated borders)."""
    hx = gaussian_derivative_kernel(sigma)
    # cv2.filter2D correlates; flipping the kernel makes it MATLAB's imfilter(..., 'conv').
    gx = cv2.filter2D(alpha, cv2.CV_64F, hx[::-1, ::-1].copy(), borderType=cv2.BORDER_REPLICATE)
    gy = cv2.filter2D(alpha, cv2.CV_64F, hx.T[::-1, ::-1].copy(), borderType=cv2.BORDER_REPLICATE)
    return np.sqrt(gx**2 + gy**2)


def _connectivity(p: np.ndarray, g: np.ndarray, region: np.ndarray) -> float:
    level = connectivity_levels(p, g)
    phi_p, phi_g = (1.0 - d * (d >= CONNECTIVITY_MIN_DISTANCE) for d in (p - level, g - level))
    return float(np.abs(phi_p - phi_g)[region].sum() / 1000.0)


def connectivity_levels(p: np.ndarray, g: np.ndarray, step: float = CONNECTIVITY_STEP) -> np.ndarray:
    """``l``: per pixel, the last threshold before it left the largest common 4-connected component."""
    steps = np.round(np.arange(0.0, 1.0 + step / 2, step), 10)  # 0.3, not 0.30000000000000004
    level = np.full(p.shape, -1.0)
    for previous, threshold in itertools.pairwise(steps):
        omega = _largest_component((p >= threshold) & (g >= threshold))
        level[(level == -1) & ~omega] = previous
    level[level == -1] = 1.0
    return level


def _largest_component(binary: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary.astype(np.uint8), connectivity=4)
    if count <= 1:
        return np.zeros(binary.shape, bool)
    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
