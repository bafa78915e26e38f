"""Classification metrics against scikit-learn on fixed predictions."""

from __future__ import annotations

import csv
import io
import warnings

import numpy as np
import pytest

from cutkit.metrics.classify import (
    ClassificationMetrics,
    accuracy,
    averages,
    confusion_csv,
    confusion_matrix,
    precision_recall_f1,
    top_k_accuracy,
)

sk = pytest.importorskip("sklearn.metrics")

K = 7


def predictions(seed: int = 0, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Labels and scores where class 6 never occurs and is never predicted, and class 5 is never predicted."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 6, n)
    scores = g.normal(size=(n, K))
    scores[np.arange(n), y] += g.uniform(0, 2.5, n)  # better than chance, far from perfect
    scores[:, 5:] -= 10.0
    return y, scores


@pytest.fixture
def fixed() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y, scores = predictions()
    return y, scores, scores.argmax(1)


def sklearn_prf(y: np.ndarray, pred: np.ndarray, average: str | None) -> tuple:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undefined precision of never-predicted classes
        return sk.precision_recall_fscore_support(y, pred, labels=range(K), average=average, zero_division=0)


def test_confusion_and_accuracy_match_sklearn(fixed) -> None:
    y, _, pred = fixed
    cm = confusion_matrix(y, pred, K)
    np.testing.assert_array_equal(cm, sk.confusion_matrix(y, pred, labels=range(K)))
    assert cm[:, 5].sum() == 0 and cm[6].sum() == 0
    assert accuracy(y, pred) == pytest.approx(sk.accuracy_score(y, pred))
    assert 0.4 < accuracy(y, pred) < 0.95


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_top_k_matches_sklearn(fixed, k: int) -> None:
    y, scores, _ = fixed
    expected = sk.top_k_accuracy_score(y, scores, k=k, labels=range(K))
    assert top_k_accuracy(y, scores, k) == pytest.approx(expected)
    if k == 1:
        assert top_k_accuracy(y, scores, 1) == accuracy(y, scores.argmax(1))


def test_top_k_breaks_ties_by_lower_index() -> None:
    scores = np.zeros((3, 4))
    assert top_k_accuracy([0, 1, 3], scores, k=1) == pytest.approx(1 / 3)  # argmax of a tie is class 0
    assert top_k_accuracy([0, 1, 3], scores, k=2) == pytest.approx(2 / 3)


def test_per_class_and_averages_match_sklearn(fixed) -> None:
    y, _, pred = fixed
    cm = confusion_matrix(y, pred, K)
    p, r, f = precision_recall_f1(cm)
    sp, sr, sf, _ = sklearn_prf(y, pred, None)
    np.testing.assert_allclose(p, sp)
    np.testing.assert_allclose(r, sr)
    np.testing.assert_allclose(f, sf)
    got = averages(cm)
    for average in ("macro", "micro", "weighted"):
        ep, er, ef, _ = sklearn_prf(y, pred, average)
        assert got[f"{average}_precision"] == pytest.approx(ep)
        assert got[f"{average}_recall"] == pytest.approx(er)
        assert got[f"{average}_f1"] == pytest.approx(ef)
    assert got["micro_f1"] == pytest.approx(accuracy(y, pred))
    assert got["macro_f1"] < got["micro_f1"]  # two empty classes pull the macro mean down


def test_accumulator_over_batches_matches_sklearn_on_the_whole() -> None:
    y, scores = predictions(seed=3, n=257)
    metrics = ClassificationMetrics(K, top_k=5)
    for start in range(0, len(y), 64):
        metrics.update(scores[start : start + 64], y[start : start + 64])
    pred = scores.argmax(1)
    summary = metrics.summary()
    assert metrics.count == 257
    assert summary["accuracy"] == pytest.approx(sk.accuracy_score(y, pred))
    assert summary["top5"] == pytest.approx(sk.top_k_accuracy_score(y, scores, k=5, labels=range(K)))
    assert summary["macro_f1"] == pytest.approx(
        sk.f1_score(y, pred, labels=range(K), average="macro", zero_division=0)
    )
    assert summary["micro_f1"] == pytest.approx(
        sk.f1_score(y, pred, labels=range(K), average="micro", zero_division=0)
    )
    classes = [f"c{i}" for i in range(K)]
    report = metrics.report(classes)
    sp, sr, sf, ss = sklearn_prf(y, pred, None)
    assert report["per_class"]["c2"] == pytest.approx(
        {"precision": sp[2], "recall": sr[2], "f1": sf[2], "support": ss[2]}
    )
    assert report["confusion"] == sk.confusion_matrix(y, pred, labels=range(K)).tolist()
    assert {"accuracy", "top5", "macro_f1", "micro_f1", "per_class"} <= set(report)


def test_accumulator_takes_torch_tensors() -> None:
    torch = pytest.importorskip("torch")
    y, scores = predictions(seed=5, n=40)
    a, b = ClassificationMetrics(K), ClassificationMetrics(K)
    a.update(scores, y)
    b.update(torch.from_numpy(scores).float(), torch.from_numpy(y))
    np.testing.assert_array_equal(a.confusion, b.confusion)
    assert a.summary() == pytest.approx(b.summary())


def test_bad_inputs_are_refused() -> None:
    metrics = ClassificationMetrics(3)
    with pytest.raises(ValueError, match="no samples were added"):
        metrics.summary()
    with pytest.raises(ValueError, match=r"scores must be N x 3"):
        metrics.update(np.zeros((2, 4)), [0, 1])
    with pytest.raises(ValueError, match=r"y_true must lie in \[0, 3\)"):
        metrics.update(np.zeros((2, 3)), [0, 3])
    with pytest.raises(ValueError, match="integer class indices"):
        confusion_matrix([0.5], [0], 3)
    with pytest.raises(ValueError, match="differ in length"):
        confusion_matrix([0, 1], [0], 3)
    with pytest.raises(ValueError, match="2 class names for 3 classes"):
        metrics.update(np.eye(3), [0, 1, 2])
        metrics.per_class(["a", "b"])


def test_confusion_csv_round_trips() -> None:
    cm = np.array([[3, 1], [0, 2]])
    rows = list(csv.reader(io.StringIO(confusion_csv(cm, ["cat", "dog, big"]))))
    assert rows == [["true \\ predicted", "cat", "dog, big"], ["cat", "3", "1"], ["dog, big", "0", "2"]]
    with pytest.raises(ValueError, match="for 3 classes"):
        confusion_csv(cm, ["a", "b", "c"])
