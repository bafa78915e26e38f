"""Normalisation statistics of a classification dataset: per-channel pixel mean and standard deviation."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["compute_stats"]


def _sample_indices(n: int, limit: int | None) -> np.ndarray:
    """All of ``range(n)``, or ``limit`` indices spread evenly over it (deterministic)."""
    if limit is None or limit >= n:
        return np.arange(n)
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    return np.linspace(0, n - 1, limit).round().astype(np.int64)


def compute_stats(dataset: Any, *, limit: int | None = None) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """``(mean, std)`` per channel over every pixel of the dataset's images, on a 0-1 scale.

    Pixels are counted equally whatever the image sizes, and the population std is used (MNIST's training
    set gives the familiar 0.1307 and 0.3081). Sums are exact integers, so the result does not depend on
    the order of the images.

    Args:
        dataset: anything whose items are samples with a uint8 ``"image"`` (HxW or HxWx3), e.g. a
            :class:`~cutkit.data.classify.base.ClassificationSet`, not augmented.
        limit: use at most this many images, spread evenly over the dataset (for large file datasets).
    """
    if len(dataset) == 0:
        raise ValueError("cannot compute statistics of an empty dataset")
    total = square = None
    count = 0
    for i in _sample_indices(len(dataset), limit):
        image = np.asarray(dataset[int(i)]["image"])
        if image.dtype != np.uint8:
            raise ValueError(f"compute_stats needs uint8 images (before normalisation), got {image.dtype}")
        pixels = image.reshape(image.shape[0] * image.shape[1], -1).astype(np.int64)
        if total is not None and pixels.shape[1] != len(total):
            raise ValueError(f"image {int(i)} has {pixels.shape[1]} channels, the first had {len(total)}")
        s, q = pixels.sum(0), np.einsum("ij,ij->j", pixels, pixels)
        total, square = (s, q) if total is None else (total + s, square + q)
        count += len(pixels)
    # Python integers: count * square and total**2 overflow int64 on a dataset of MNIST's size
    mean = tuple(int(t) / count / 255 for t in total)
    var = [(count * int(q) - int(t) ** 2) / count**2 for t, q in zip(total, square, strict=True)]
    return mean, tuple(float(np.sqrt(v)) / 255 for v in var)
