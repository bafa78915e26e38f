"""Salient-object metrics: MAE, F-measures, S-measure, E-measure, weighted F-measure and IoU.

The definitions and conventions are those of pysodmetrics (``py_sod_metrics`` 1.6, itself a port of the
MATLAB toolboxes the papers report with), so numbers are comparable with published tables:

- ``pred``: a uint8 map is divided by 255 and then min-max stretched to [0, 1] when it is not constant
  (MATLAB's ``mapminmax(im2double(pred))``, pysodmetrics' ``normalize=True``); a float map must already be
  in [0, 1] and is used as is (pysodmetrics' ``normalize=False``). A map whose size differs from the
  ground truth is first resized to it (bilinear), as PySODEvalToolkit does.
- ``gt``: a uint8 mask is binarised as ``gt > 128``; a float mask in [0, 1] is read as ``gt * 255`` rounded
  and binarised the same way (so a mask loaded as ``uint8 / 255`` gives the same result); bool is used as is.
- Thresholded curves use 256 thresholds on ``floor(pred * 255)``: index ``t`` means ``pred >= t / 255``.
- Per-image values are averaged over images; max-F and mean-F are the max and mean over thresholds of the
  F curve averaged over images (not the mean of per-image maxima).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

EPS = np.spacing(1)  # MATLAB's eps, as in the reference implementations
F_BETA2 = 0.3  # β² of the F-measure (Achanta et al.)
WF_BETA2 = 1.0  # β² of the weighted F-measure (Margolin et al.), as in pysodmetrics
S_ALPHA = 0.5  # object vs region weight of the S-measure
THRESHOLDS = 256
SUMMARY_KEYS = ("mae", "max_f", "mean_f", "adp_f", "s_measure", "e_measure", "weighted_f", "iou")


# --- inputs -----------------------------------------------------------------------------------------------


def prepare(pred: np.ndarray, gt: np.ndarray, name: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Normalise one pair as described in the module docstring: float64 ``pred`` in [0, 1], bool ``gt``.

    Raises:
        ValueError: naming ``name`` when an array is not 2-D, has an unsupported dtype or a value
            out of range.
    """
    where = f"{name}: " if name else ""
    mask = binarise_gt(gt, where)
    if pred.ndim != 2:
        raise ValueError(f"{where}prediction must be a 2-D (HxW) map, got shape {pred.shape}")
    if pred.shape != mask.shape:
        pred = cv2.resize(pred, (mask.shape[1], mask.shape[0]), interpolation=cv2.INTER_LINEAR)
    return normalise_pred(pred, where), mask


def binarise_gt(gt: np.ndarray, where: str = "") -> np.ndarray:
    """A boolean foreground mask from a uint8 (``> 128``), float ([0, 1], read as ``x 255``) or bool mask."""
    if gt.ndim != 2:
        raise ValueError(f"{where}ground truth must be a 2-D (HxW) mask, got shape {gt.shape}")
    if gt.dtype == bool:
        return gt
    if gt.dtype == np.uint8:
        return gt > 128
    if np.issubdtype(gt.dtype, np.floating):
        _check_unit_range(gt, f"{where}ground truth")
        return np.rint(gt * 255.0) > 128
    raise ValueError(f"{where}ground truth must be uint8, float or bool, got {gt.dtype}")


def normalise_pred(pred: np.ndarray, where: str = "") -> np.ndarray:
    """A float64 map in [0, 1]: uint8 is scaled by 1/255 and min-max stretched, float is checked."""
    if pred.dtype == np.uint8:
        out = pred / 255.0
        lo, hi = out.min(), out.max()
        return (out - lo) / (hi - lo) if hi != lo else out
    if np.issubdtype(pred.dtype, np.floating):
        _check_unit_range(pred, f"{where}prediction")
        return pred.astype(np.float64)
    raise ValueError(f"{where}prediction must be uint8 or float in [0, 1], got {pred.dtype}")


def _check_unit_range(arr: np.ndarray, what: str) -> None:
    lo, hi = float(arr.min(initial=0.0)), float(arr.max(initial=0.0))
    if not (lo >= 0.0 and hi <= 1.0):  # also false for NaN
        raise ValueError(f"{what} must be in [0, 1] as a float array, got values in [{lo}, {hi}]")


# --- thresholded measures: F and E from per-threshold counts ----------------------------------------------


def threshold_counts(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each threshold ``t`` in 0..255: true positives and predicted positives of ``pred >= t / 255``."""
    levels = (pred * 255).astype(np.uint8)  # truncation, as the reference histograms do
    fg_hist = np.bincount(levels[gt], minlength=THRESHOLDS)
    all_hist = np.bincount(levels.ravel(), minlength=THRESHOLDS)
    tp = np.cumsum(fg_hist[::-1])[::-1]
    positives = np.cumsum(all_hist[::-1])[::-1]
    return tp.astype(np.float64), positives.astype(np.float64)


def f_from_counts(tp: np.ndarray, positives: np.ndarray, n_fg: int) -> tuple[np.ndarray, ...]:
    """Precision, recall and F (β² = 0.3) for arrays of counts; 0/0 counts as 0."""
    precision = tp / np.where(positives == 0, 1, positives)
    recall = tp / max(n_fg, 1)
    numerator = (1 + F_BETA2) * precision * recall
    denominator = np.where(numerator == 0, 1, F_BETA2 * precision + recall)
    return precision, recall, numerator / denominator


def adaptive_f(pred: np.ndarray, gt: np.ndarray) -> float:
    """F-measure of ``pred >= min(2 * mean(pred), 1)``; 0 when nothing of the object is found."""
    binary = pred >= min(2 * pred.mean(), 1.0)
    hit = np.count_nonzero(binary & gt)
    if hit == 0:
        return 0.0
    precision, recall = hit / np.count_nonzero(binary), hit / np.count_nonzero(gt)
    return float((1 + F_BETA2) * precision * recall / (F_BETA2 * precision + recall))


def e_from_counts(tp: np.ndarray, positives: np.ndarray, n_fg: int, size: int) -> np.ndarray:
    """Enhanced-alignment measure (Fan et al. 2018) of binary maps given by their counts (scalars or arrays).

    The alignment matrix takes one value in each of the four (prediction, truth) regions, so the sum over
    pixels is a sum over regions weighted by their pixel counts.
    """
    tp, positives = np.asarray(tp, np.float64), np.asarray(positives, np.float64)
    if n_fg == 0:
        return (size - positives) / (size - 1 + EPS)
    if n_fg == size:
        return positives / (size - 1 + EPS)
    mean_pred, mean_gt = positives / size, n_fg / size
    fn = n_fg - tp
    parts = (
        (tp, 1 - mean_pred, 1 - mean_gt),
        (positives - tp, 1 - mean_pred, -mean_gt),
        (fn, -mean_pred, 1 - mean_gt),
        (size - positives - fn, -mean_pred, -mean_gt),
    )
    total = np.zeros_like(positives)
    for count, a, b in parts:
        align = 2 * a * b / (a**2 + b**2 + EPS)
        total = total + count * (align + 1) ** 2 / 4
    return total / (size - 1 + EPS)


def adaptive_e(pred: np.ndarray, gt: np.ndarray) -> float:
    """E-measure of ``pred >= min(2 * mean(pred), 1)``."""
    binary = pred >= min(2 * pred.mean(), 1.0)
    tp, positives = np.count_nonzero(binary & gt), np.count_nonzero(binary)
    return float(e_from_counts(tp, positives, int(np.count_nonzero(gt)), gt.size))


# --- pixel-wise measures ----------------------------------------------------------------------------------


def mae(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean absolute error between the map and the binary truth."""
    return float(np.mean(np.abs(pred - gt)))


def iou(pred: np.ndarray, gt: np.ndarray) -> float:
    """Intersection over union of ``pred > 0.5`` and the truth; 0 when both are empty (as pysodmetrics)."""
    binary = pred > 0.5
    union = np.count_nonzero(binary | gt)
    return np.count_nonzero(binary & gt) / union if union else 0.0


# --- S-measure (Fan et al., ICCV 2017) --------------------------------------------------------------------


def s_measure(pred: np.ndarray, gt: np.ndarray, alpha: float = S_ALPHA) -> float:
    """Structure measure: ``alpha`` x object-aware + (1 - ``alpha``) x region-aware similarity."""
    y = gt.mean()
    if y == 0:
        return float(1 - pred.mean())
    if y == 1:
        return float(pred.mean())
    score = alpha * _object_score(pred, gt) + (1 - alpha) * _region_score(pred, gt)
    return float(max(0.0, score))


def _object_score(pred: np.ndarray, gt: np.ndarray) -> float:
    y = gt.mean()
    return _object_similarity(pred[gt]) * y + _object_similarity(1 - pred[~gt]) * (1 - y)


def _object_similarity(x: np.ndarray) -> float:
    mean = x.mean()
    std = x.std(ddof=1) if x.size > 1 else 0.0
    return 2 * mean / (mean**2 + 1 + std + EPS)


def _region_score(pred: np.ndarray, gt: np.ndarray) -> float:
    """SSIM of the four blocks cut at the truth's centroid, weighted by their areas.

    A block is empty only when its weight is 0; it is skipped (the reference returns NaN there).
    """
    h, w = gt.shape
    cy, cx = _centroid(gt)
    score = 0.0
    for rows in (slice(0, cy), slice(cy, h)):
        for cols in (slice(0, cx), slice(cx, w)):
            block_gt = gt[rows, cols]
            if block_gt.size:
                score += _ssim(pred[rows, cols], block_gt) * (block_gt.size / gt.size)
    return score


def _centroid(gt: np.ndarray) -> tuple[int, int]:
    """The foreground centroid, rounded (half to even, as numpy), plus one as MATLAB's ``1:X`` indexing."""
    n = np.count_nonzero(gt)
    cy = np.round(np.dot(np.arange(gt.shape[0]), np.count_nonzero(gt, axis=1)) / n)
    cx = np.round(np.dot(np.arange(gt.shape[1]), np.count_nonzero(gt, axis=0)) / n)
    return int(cy) + 1, int(cx) + 1


def _ssim(pred: np.ndarray, gt: np.ndarray) -> float:
    n = pred.size
    x, y = pred.mean(), gt.mean()
    dx, dy = pred - x, gt - y
    sigma_x, sigma_y = np.sum(dx**2) / (n - 1 + EPS), np.sum(dy**2) / (n - 1 + EPS)
    sigma_xy = np.sum(dx * dy) / (n - 1 + EPS)
    alpha = 4 * x * y * sigma_xy
    beta = (x**2 + y**2) * (sigma_x + sigma_y)
    if alpha != 0:
        return alpha / (beta + EPS)
    return 1.0 if beta == 0 else 0.0


# --- weighted F-measure (Margolin et al., CVPR 2014) ------------------------------------------------------


def weighted_f(pred: np.ndarray, gt: np.ndarray, beta2: float = WF_BETA2) -> float:
    """Weighted F-measure: errors spread by pixel dependency and weighted by distance to the object.

    Returns 0 for an empty truth, as pysodmetrics does.
    """
    from scipy.ndimage import distance_transform_edt

    if not gt.any():
        return 0.0
    dist, (iy, ix) = distance_transform_edt(~gt, return_indices=True)
    error = np.abs(pred - gt)
    # Background pixels take the error of their nearest object pixel, so edges are handled correctly.
    spread = error[iy, ix]
    smoothed = cv2.filter2D(spread, -1, _gauss_kernel(7, 5.0), borderType=cv2.BORDER_CONSTANT)
    min_error = np.where(gt & (smoothed < error), smoothed, error)
    importance = np.where(gt, 1.0, 2 - np.exp(np.log(0.5) / 5 * dist))
    weighted = min_error * importance
    tp = np.count_nonzero(gt) - weighted[gt].sum()
    fp = weighted[~gt].sum()
    recall = 1 - weighted[gt].mean()
    precision = tp / (tp + fp + EPS)
    return float((1 + beta2) * recall * precision / (recall + beta2 * precision + EPS))


def _gauss_kernel(size: int, sigma: float) -> np.ndarray:
    """MATLAB's ``fspecial('gaussian', size, sigma)``."""
    r = (size - 1) / 2
    y, x = np.ogrid[-r : r + 1, -r : r + 1]
    h = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    h[h < np.finfo(h.dtype).eps * h.max()] = 0
    return h / h.sum()


# --- accumulation over a dataset --------------------------------------------------------------------------


class SalientMetrics:
    """Accumulates the salient-object metrics over images; see the module docstring for the conventions.

    Example:
        >>> m = SalientMetrics()
        >>> for pred, gt in pairs:
        ...     m.update(pred, gt)
        >>> m.summary()["max_f"]
    """

    def __init__(self) -> None:
        self._rows: list[dict[str, float | str]] = []
        self._precision: list[np.ndarray] = []
        self._recall: list[np.ndarray] = []
        self._f: list[np.ndarray] = []
        self._e: list[np.ndarray] = []
        self._adp_e: list[float] = []

    def __len__(self) -> int:
        return len(self._rows)

    def update(self, pred: np.ndarray, gt: np.ndarray, name: str | None = None) -> dict[str, float]:
        """Add one image; returns its own values (``max_f``/``mean_f`` over its own F curve).

        Args:
            pred: the predicted map, uint8 or float in [0, 1], HxW (resized to ``gt`` if needed).
            gt: the ground-truth mask, uint8, float in [0, 1] or bool, HxW.
            name: a label for :meth:`per_image` and error messages (default: the image's index).
        """
        name = name if name is not None else str(len(self._rows))
        p, g = prepare(pred, gt, name)
        n_fg = int(np.count_nonzero(g))
        tp, positives = threshold_counts(p, g)
        precision, recall, f = f_from_counts(tp, positives, n_fg)
        e = e_from_counts(tp, positives, n_fg, g.size)
        values = {
            "mae": mae(p, g),
            "max_f": float(f.max()),
            "mean_f": float(f.mean()),
            "adp_f": adaptive_f(p, g),
            "s_measure": s_measure(p, g),
            "e_measure": float(e.mean()),
            "weighted_f": weighted_f(p, g),
            "iou": iou(p, g),
        }
        self._precision.append(precision)
        self._recall.append(recall)
        self._f.append(f)
        self._e.append(e)
        self._adp_e.append(adaptive_e(p, g))
        self._rows.append({"name": name, **values})
        return values

    def summary(self, *, extended: bool = False) -> dict[str, float]:
        """The dataset's values, keys :data:`SUMMARY_KEYS`; ``extended`` adds ``max_e`` and ``adp_e``.

        ``e_measure`` is the mean E-measure (over thresholds), ``max_f``/``mean_f`` the max/mean of the
        averaged F curve, every other value the mean of the per-image values.

        Raises:
            ValueError: when no image was added.
        """
        if not self._rows:
            raise ValueError("no images were evaluated: call update() first")
        f_curve, e_curve = np.mean(self._f, axis=0), np.mean(self._e, axis=0)
        out = {k: float(np.mean([row[k] for row in self._rows])) for k in SUMMARY_KEYS}
        out.update(max_f=float(f_curve.max()), mean_f=float(f_curve.mean()), e_measure=float(e_curve.mean()))
        if extended:
            out.update(max_e=float(e_curve.max()), adp_e=float(np.mean(self._adp_e)))
        return out

    def per_image(self) -> list[dict[str, float | str]]:
        """One dict per image, in the order added: ``name`` and the values :meth:`update` returned."""
        return [dict(row) for row in self._rows]

    def pr_curve(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Image-averaged precision, recall and F at 256 thresholds (index ``t``: ``pred >= t / 255``)."""
        if not self._rows:
            raise ValueError("no images were evaluated: call update() first")
        return tuple(np.mean(curves, axis=0) for curves in (self._precision, self._recall, self._f))


def plot_pr_curve(precision: np.ndarray, recall: np.ndarray, path: Path, label: str) -> None:
    """Draw the precision-recall curve and write it as a PNG to ``path`` (atomically)."""
    from cutkit._util.figures import new_figure, save_png

    fig = new_figure(figsize=(5, 5), dpi=100)
    ax = fig.add_subplot()
    ax.plot(recall, precision, label=label, linewidth=1.5)
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.01), title="precision-recall")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    save_png(fig, path, bbox_inches="tight")
