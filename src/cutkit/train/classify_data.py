"""A seeded, stratified validation split of a classification set."""

from __future__ import annotations

import numpy as np


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train, val)`` sorted indices: ``fraction`` of each class held out.

    Stratified, so a rare class is in both parts (one sample at least, when it has two or more); the result
    depends only on ``labels``, ``fraction`` and ``seed``.
    """
    if not 0 <= fraction < 1:
        raise ValueError(f"the validation fraction must be in [0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels, dtype=np.int64)
    train, val = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        k = round(len(idx) * fraction)
        if fraction > 0 and len(idx) > 1:
            k = min(max(k, 1), len(idx) - 1)  # never a class missing from either part
        val.append(idx[:k])
        train.append(idx[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))
