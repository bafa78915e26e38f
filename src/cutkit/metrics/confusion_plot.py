"""The confusion matrix of a classifier as a PNG heat map (rows: true class, columns: predicted class)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cutkit._util.figures import new_figure, save_png

# Past this many classes the cells are too small for their counts and names to be read.
_ANNOTATE_MAX = 20


def plot_confusion(matrix: np.ndarray, classes: Sequence[str], path: Path, *, title: str = "") -> Path:
    """Draw ``matrix`` (counts, ``classes x classes``) coloured by row-normalised recall, counts written in.

    Args:
        matrix: ``matrix[t, p]`` counts samples of true class ``t`` predicted as ``p``.
        classes: the class names, in index order.
        path: the PNG to write.
        title: shown above the plot.
    """
    matrix = np.asarray(matrix)
    n = len(classes)
    if matrix.shape != (n, n):
        raise ValueError(f"confusion matrix of shape {matrix.shape} for {n} classes")
    rows = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, rows, out=np.zeros(matrix.shape, dtype=float), where=rows > 0)
    side = min(16.0, 2.5 + 0.45 * n)
    fig = new_figure(figsize=(side, side * 0.9), dpi=100)
    ax = fig.subplots()
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    _label_axes(ax, classes)
    if n <= _ANNOTATE_MAX:
        for t in range(n):
            for p in range(n):
                colour = "white" if share[t, p] > 0.5 else "black"
                ax.text(p, t, str(int(matrix[t, p])), ha="center", va="center", fontsize=7, color=colour)
    ax.set_title(title or f"confusion matrix ({int(matrix.sum())} samples)", fontsize=10)
    fig.tight_layout()
    return save_png(fig, path)


def _label_axes(ax: object, classes: Sequence[str]) -> None:
    n = len(classes)
    ticks = range(n) if n <= _ANNOTATE_MAX * 3 else range(0, n, max(1, n // 30))
    ax.set_xticks(list(ticks), [classes[i] for i in ticks], rotation=90, fontsize=7)
    ax.set_yticks(list(ticks), [classes[i] for i in ticks], fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
