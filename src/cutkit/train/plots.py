"""PNG plots of a run: loss and metric curves, and sample predictions next to the ground truth."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cutkit._util.figures import new_figure, save_png


def plot_curves(rows: Sequence[dict[str, float]], path: Path) -> Path:
    """One panel per logged quantity (``train/*`` losses, ``val/*`` metrics, ``lr``) against the epoch."""
    keys = list(dict.fromkeys(k for r in rows for k in r if k not in ("epoch", "time")))
    cols = min(4, max(1, len(keys)))
    nrows = max(1, -(-len(keys) // cols))
    fig = new_figure(figsize=(3.2 * cols, 2.6 * nrows), dpi=100)
    axes = fig.subplots(nrows, cols, squeeze=False)
    for ax, key in zip(axes.flat, keys, strict=False):
        xs = [r["epoch"] for r in rows if key in r]
        ax.plot(xs, [r[key] for r in rows if key in r], marker="o", markersize=3)
        ax.set_title(key, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    fig.tight_layout()
    return save_png(fig, path)


def prediction_grid(
    images: Sequence[np.ndarray], truths: Sequence[np.ndarray], preds: Sequence[np.ndarray], path: Path
) -> Path:
    """Rows of (image, ground truth, prediction); images uint8 HxWx3, maps float HxW in [0, 1]."""
    n = len(images)
    fig = new_figure(figsize=(6, 2 * n), dpi=100)
    axes = fig.subplots(n, 3, squeeze=False)
    for row, (img, gt, pr) in enumerate(zip(images, truths, preds, strict=True)):
        for ax, (title, data) in zip(
            axes[row], (("image", img), ("truth", gt), ("prediction", pr)), strict=True
        ):
            ax.imshow(
                data, cmap=None if data.ndim == 3 else "gray", vmin=0, vmax=1 if data.ndim == 2 else None
            )
            ax.set_title(title if row == 0 else "", fontsize=8)
            ax.axis("off")
    fig.tight_layout()
    return save_png(fig, path)
