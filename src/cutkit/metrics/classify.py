"""Classification metrics: accuracy, top-k accuracy, per-class precision/recall/F1 with macro, micro and
weighted averages, and the confusion matrix.

Conventions are scikit-learn's (``labels=range(K)``, ``zero_division=0``), so the numbers agree with
``sklearn.metrics``: the confusion matrix has true classes as rows and predictions as columns; a class
never predicted has precision 0, a class never present has recall 0, and its F1 is 0 when both are
undefined. Macro averages are plain means over all K classes (absent ones included), micro averages pool
the counts (for single-label data they all equal the accuracy), weighted averages weigh by support.
The prediction is the arg-max score, the first on ties; top-k breaks ties the same way (lower index first).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "ClassificationMetrics",
    "accuracy",
    "averages",
    "confusion_csv",
    "confusion_matrix",
    "precision_recall_f1",
    "top_k_accuracy",
    "top_k_hits",
]


def _numpy(x: Any) -> np.ndarray:
    """An array from a NumPy array, a list or a (CPU or GPU) torch tensor, without importing torch."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _labels(y: Any, num_classes: int, what: str) -> np.ndarray:
    arr = _numpy(y)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{what} must be a 1-D array of integer class indices, got {arr.dtype} {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
        raise ValueError(f"{what} must lie in [0, {num_classes}), got [{arr.min()}, {arr.max()}]")
    return arr.astype(np.int64)


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int) -> np.ndarray:
    """``K x K`` int64 counts: entry ``[t, p]`` is how many samples of class ``t`` were predicted ``p``."""
    t, p = _labels(y_true, num_classes, "y_true"), _labels(y_pred, num_classes, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length: {len(t)} and {len(p)}")
    return np.bincount(t * num_classes + p, minlength=num_classes**2).reshape(num_classes, num_classes)


def accuracy(y_true: Any, y_pred: Any) -> float:
    """The fraction of samples predicted right."""
    t, p = _numpy(y_true), _numpy(y_pred)
    if t.shape != p.shape or t.ndim != 1 or not len(t):
        raise ValueError(f"accuracy needs two equal non-empty 1-D label arrays, got {t.shape} and {p.shape}")
    return float(np.mean(t == p))


def top_k_hits(y_true: Any, scores: Any, k: int) -> np.ndarray:
    """Per sample, whether the true class is among the ``k`` highest scores (ties: lower index first)."""
    s = _numpy(scores)
    if s.ndim != 2:
        raise ValueError(f"scores must be N x K, got shape {s.shape}")
    t = _labels(y_true, s.shape[1], "y_true")
    if len(t) != len(s):
        raise ValueError(f"{len(t)} labels for {len(s)} score rows")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    true_score = s[np.arange(len(s)), t][:, None]
    lower_index = np.arange(s.shape[1])[None, :] < t[:, None]
    rank = (s > true_score).sum(1) + ((s == true_score) & lower_index).sum(1)
    return rank < k


def top_k_accuracy(y_true: Any, scores: Any, k: int = 5) -> float:
    """The fraction of samples whose true class is among the ``k`` highest scores."""
    return float(np.mean(top_k_hits(y_true, scores, k)))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros(num.shape, np.float64), where=den > 0)


def precision_recall_f1(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall and F1 from a confusion matrix (0 where undefined)."""
    cm = np.asarray(confusion, dtype=np.int64)
    tp = np.diag(cm).astype(np.float64)
    predicted, actual = cm.sum(0), cm.sum(1)
    return _ratio(tp, predicted), _ratio(tp, actual), _ratio(2 * tp, predicted + actual)


def averages(confusion: np.ndarray) -> dict[str, float]:
    """Macro, micro and support-weighted precision, recall and F1 (keys ``macro_f1``, ``micro_recall``, …)."""
    cm = np.asarray(confusion, dtype=np.int64)
    per_class = dict(zip(("precision", "recall", "f1"), precision_recall_f1(cm), strict=True))
    support = cm.sum(1)
    tp, total = float(np.trace(cm)), float(cm.sum())
    # pooled: every false positive of one class is a false negative of another
    micro = tp / total if total else 0.0
    out: dict[str, float] = {}
    for name, values in per_class.items():
        out[f"macro_{name}"] = float(values.mean())
        out[f"micro_{name}"] = micro
        out[f"weighted_{name}"] = float(values @ support / support.sum()) if support.sum() else 0.0
    return out


def confusion_csv(confusion: np.ndarray, classes: Sequence[str]) -> str:
    """The confusion matrix as CSV text: a header of predicted classes, one row per true class."""
    import csv
    import io

    cm = np.asarray(confusion)
    if cm.shape != (len(classes), len(classes)):
        raise ValueError(f"a {cm.shape} confusion matrix for {len(classes)} classes")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["true \\ predicted", *classes])
    writer.writerows([name, *map(int, row)] for name, row in zip(classes, cm, strict=True))
    return buf.getvalue()


class ClassificationMetrics:
    """Accumulates scores and labels batch by batch; summarises without keeping the scores.

    Args:
        num_classes: K.
        top_k: the k of the top-k accuracy (reported as ``top{k}``; with K <= k it is trivially 1).
    """

    def __init__(self, num_classes: int, *, top_k: int = 5) -> None:
        if num_classes < 1 or top_k < 1:
            raise ValueError(f"num_classes and top_k must be at least 1, got {num_classes} and {top_k}")
        self.num_classes, self.top_k = num_classes, top_k
        self.confusion = np.zeros((num_classes, num_classes), np.int64)
        self.top_k_correct = 0

    @property
    def count(self) -> int:
        """Samples seen."""
        return int(self.confusion.sum())

    def update(self, scores: Any, labels: Any) -> None:
        """Add a batch: ``N x K`` scores (logits or probabilities) and ``N`` true labels."""
        s = _numpy(scores)
        if s.ndim != 2 or s.shape[1] != self.num_classes:
            raise ValueError(f"scores must be N x {self.num_classes}, got shape {s.shape}")
        hits = top_k_hits(labels, s, self.top_k)
        self.confusion += confusion_matrix(labels, s.argmax(1), self.num_classes)
        self.top_k_correct += int(hits.sum())

    def summary(self) -> dict[str, float]:
        """``accuracy``, ``top{k}``, macro/micro/weighted precision, recall and F1."""
        if self.count == 0:
            raise ValueError("no samples were added to the metrics")
        return {
            "accuracy": float(np.trace(self.confusion)) / self.count,
            f"top{self.top_k}": self.top_k_correct / self.count,
            **averages(self.confusion),
        }

    def per_class(self, classes: Sequence[str]) -> dict[str, dict[str, float]]:
        """``class name -> {precision, recall, f1, support}``."""
        if len(classes) != self.num_classes:
            raise ValueError(f"{len(classes)} class names for {self.num_classes} classes")
        p, r, f = precision_recall_f1(self.confusion)
        support = self.confusion.sum(1)
        return {
            name: {
                "precision": float(p[i]),
                "recall": float(r[i]),
                "f1": float(f[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(classes)
        }

    def report(self, classes: Sequence[str]) -> dict[str, Any]:
        """Everything as JSON-ready data: the summary, ``per_class``, ``classes`` and ``confusion``."""
        return {
            **self.summary(),
            "count": self.count,
            "per_class": self.per_class(classes),
            "classes": list(classes),
            "confusion": self.confusion.tolist(),
        }
