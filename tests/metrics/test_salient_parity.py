"""Parity of ``cutkit.metrics.salient`` with pysodmetrics (the reference implementation) to 1e-3.

Predictions are made without a network: the ground truth blurred, shifted, stretched into a narrower range,
with noise and random blobs (seeded), so that every metric lands well inside (0, 1).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from _parity import find_shared
from cutkit.metrics.salient import SUMMARY_KEYS, SalientMetrics, plot_pr_curve

sod = pytest.importorskip("py_sod_metrics")

TOL = 1e-3
DATASETS = ("duts-te-mini", "ecssd-mini", "duts-tr-mini")
MAX_IMAGES = 50


def fake_prediction(gt: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A plausible, imperfect uint8 saliency map derived from ``gt``."""
    h, w = gt.shape
    pred = cv2.GaussianBlur(gt.astype(np.float32), (0, 0), rng.uniform(2, 8))
    pred = np.roll(pred, (int(rng.integers(-15, 16)), int(rng.integers(-15, 16))), axis=(0, 1))
    for _ in range(int(rng.integers(1, 4))):
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        cv2.circle(pred, centre, int(rng.integers(5, 40)), float(rng.uniform(60, 255)), -1)
    pred = np.clip(pred + rng.normal(0, 20, pred.shape), 0, 255)
    lo, hi = rng.uniform(0, 40), rng.uniform(200, 255)  # not always 0..255: exercises the min-max stretch
    return (lo + pred * (hi - lo) / 255).astype(np.uint8)


class Reference:
    """pysodmetrics' evaluators fed the same pairs; ``summary`` gives our keys."""

    def __init__(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Fmeasure warns that FmeasureV2 will replace it
            self.fm = sod.Fmeasure()
        self.mae, self.sm = sod.MAE(), sod.Smeasure()
        self.em, self.wfm = sod.Emeasure(), sod.WeightedFmeasure()
        handler = sod.IOUHandler(with_dynamic=False, with_adaptive=False, with_binary=True, sample_based=True)
        self.iou = sod.FmeasureV2({"iou": handler})
        self.ious: list[float] = []

    def step(self, pred: np.ndarray, gt: np.ndarray) -> None:
        for metric in (self.fm, self.mae, self.sm, self.em, self.wfm, self.iou):
            metric.step(pred, gt)
        # IoU written out as well, independently of pysodmetrics' handler.
        p, g = pred / 255.0, gt > 128
        if p.max() != p.min():
            p = (p - p.min()) / (p.max() - p.min())
        union = np.count_nonzero((p > 0.5) | g)
        self.ious.append(np.count_nonzero((p > 0.5) & g) / union if union else 0.0)

    def summary(self) -> dict[str, float]:
        f, e = self.fm.get_results()["fm"], self.em.get_results()["em"]
        return {
            "mae": self.mae.get_results()["mae"],
            "max_f": f["curve"].max(),
            "mean_f": f["curve"].mean(),
            "adp_f": f["adp"],
            "s_measure": self.sm.get_results()["sm"],
            "e_measure": e["curve"].mean(),
            "max_e": e["curve"].max(),
            "adp_e": e["adp"],
            "weighted_f": self.wfm.get_results()["wfm"],
            "iou": self.iou.get_results()["iou"]["binary"],
        }


def _sod_dir(name: str) -> Path:
    shared = find_shared()
    folder = shared / "data" / "sod" / name if shared else None
    if folder is None or not folder.is_dir():
        pytest.skip(f"shared/data/sod/{name} not found")
    return folder


def _assert_close(ours: dict[str, float], ref: dict[str, float]) -> None:
    for key, value in ref.items():
        assert abs(ours[key] - value) <= TOL, f"{key}: ours {ours[key]:.6f}, pysodmetrics {value:.6f}"


@pytest.mark.parametrize("dataset", DATASETS)
def test_summary_matches_pysodmetrics(dataset: str) -> None:
    masks = sorted((_sod_dir(dataset) / "masks").glob("*.png"))[:MAX_IMAGES]
    rng = np.random.default_rng(0)
    ours, ref, own_ious = SalientMetrics(), Reference(), []
    for path in masks:
        gt = np.asarray(Image.open(path).convert("L"))
        pred = fake_prediction(gt, rng)
        own_ious.append(ours.update(pred, gt, name=path.stem)["iou"])
        ref.step(pred, gt)
    summary, expected = ours.summary(extended=True), ref.summary()
    assert set(ours.summary()) == set(SUMMARY_KEYS)
    _assert_close(summary, expected)
    np.testing.assert_allclose(own_ious, ref.ious, atol=TOL)
    for key in SUMMARY_KEYS:  # the data is hard enough that no metric is trivially 0 or 1
        assert 0.05 < summary[key] < 0.95, (key, summary[key])
    _check_curves(ours, ref)


def _check_curves(ours: SalientMetrics, ref: Reference) -> None:
    precision, recall, f = ours.pr_curve()
    pr = ref.fm.get_results()["pr"]
    # pysodmetrics orders its curves from threshold 255 down to 0; ours go up from 0.
    np.testing.assert_allclose(precision[::-1], pr["p"], atol=TOL)
    np.testing.assert_allclose(recall[::-1], pr["r"], atol=TOL)
    np.testing.assert_allclose(f[::-1], ref.fm.get_results()["fm"]["curve"], atol=TOL)
    assert recall[0] == pytest.approx(1.0) and recall[-1] < recall[0]


# --- edge cases: each compared with the reference on the same single pair -----------------------------------


def _ellipse_gt(h: int = 120, w: int = 160) -> np.ndarray:
    gt = np.zeros((h, w), np.uint8)
    cv2.ellipse(gt, (w // 2, h // 2), (w // 4, h // 3), 0, 0, 360, 255, -1)
    return gt


def _soft_pred(h: int = 120, w: int = 160, seed: int = 1) -> np.ndarray:
    return fake_prediction(_ellipse_gt(h, w), np.random.default_rng(seed))


def _one_pair(pred: np.ndarray, gt: np.ndarray) -> tuple[dict[str, float], dict[str, float]]:
    ours, ref = SalientMetrics(), Reference()
    ours.update(pred, gt)
    ref.step(pred, gt)
    return ours.summary(extended=True), ref.summary()


@pytest.mark.parametrize(
    ("pred", "gt"),
    [
        pytest.param(_soft_pred(), np.zeros((120, 160), np.uint8), id="empty-gt"),
        pytest.param(_soft_pred(), np.full((120, 160), 255, np.uint8), id="full-gt"),
        pytest.param(np.zeros((120, 160), np.uint8), _ellipse_gt(), id="zero-pred"),
        pytest.param(np.full((120, 160), 255, np.uint8), _ellipse_gt(), id="full-pred"),
        pytest.param(np.zeros((120, 160), np.uint8), np.zeros((120, 160), np.uint8), id="both-empty"),
        pytest.param(_soft_pred(), _ellipse_gt(), id="plain"),
    ],
)
def test_edge_cases_match_pysodmetrics(pred: np.ndarray, gt: np.ndarray) -> None:
    ours, ref = _one_pair(pred, gt)
    _assert_close(ours, ref)
    assert all(np.isfinite(v) for v in ours.values())


def test_prediction_is_resized_to_the_ground_truth() -> None:
    gt, pred = _ellipse_gt(120, 160), _soft_pred(60, 80)
    ours = SalientMetrics()
    ours.update(pred, gt)
    ref = Reference()
    ref.step(cv2.resize(pred, (160, 120), interpolation=cv2.INTER_LINEAR), gt)
    _assert_close(ours.summary(extended=True), ref.summary())


def test_float_inputs_follow_the_unnormalised_reference() -> None:
    """A float map is used as is (pysodmetrics' ``normalize=False``); a float mask is read as ``x 255``."""
    gt, pred = _ellipse_gt(), _soft_pred()
    p = pred / 255.0 * 0.8  # not stretched: the uint8 path would give other numbers
    ours = SalientMetrics()
    ours.update(p, gt.astype(np.float32) / 255.0)
    ref = SalientMetrics()
    ref.update(p, gt > 128)
    assert ours.summary() == ref.summary()
    mae = sod.MAE()
    mae.step(p, gt > 128, normalize=False)
    assert ours.summary()["mae"] == pytest.approx(mae.get_results()["mae"], abs=TOL)
    assert ours.summary()["mae"] != pytest.approx(_one_pair(pred, gt)[0]["mae"], abs=TOL)


def test_gt_binarised_above_128_like_the_reference() -> None:
    gt = np.full((40, 40), 128, np.uint8)
    gt[10:30, 10:30] = 129
    pred = np.zeros((40, 40), np.uint8)
    pred[10:30, 10:30] = 255
    values = SalientMetrics().update(pred, gt)
    assert values["iou"] == 1.0 and values["mae"] == 0.0
    values_float = SalientMetrics().update(pred, gt.astype(np.float32) / 255.0)
    assert values_float == values


def test_s_measure_stays_finite_when_the_object_touches_the_last_column() -> None:
    # The centroid lands on the border: one quadrant is empty (weight 0), where the reference gives NaN.
    gt = np.zeros((50, 60), np.uint8)
    gt[:, -1] = 255
    values = SalientMetrics().update(_soft_pred(50, 60), gt)
    assert np.isfinite(values["s_measure"]) and 0 <= values["s_measure"] <= 1


def test_bad_inputs_name_the_image() -> None:
    m = SalientMetrics()
    with pytest.raises(ValueError, match=r"cat: prediction must be in \[0, 1\]"):
        m.update(np.full((8, 8), 2.0), np.zeros((8, 8), np.uint8), name="cat")
    with pytest.raises(ValueError, match="dog: prediction must be a 2-D"):
        m.update(np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.uint8), name="dog")
    with pytest.raises(ValueError, match="ground truth must be uint8, float or bool"):
        m.update(np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.int32))
    with pytest.raises(ValueError, match="no images"):
        m.summary()
    assert len(m) == 0


def test_per_image_and_summary_agree() -> None:
    m = SalientMetrics()
    rng = np.random.default_rng(3)
    for i in range(3):
        gt = _ellipse_gt()
        m.update(fake_prediction(gt, rng), gt, name=f"img{i}")
    rows = m.per_image()
    assert [r["name"] for r in rows] == ["img0", "img1", "img2"]
    summary = m.summary()
    assert list(summary) == list(SUMMARY_KEYS)
    for key in ("mae", "mean_f", "adp_f", "s_measure", "e_measure", "weighted_f", "iou"):
        assert summary[key] == pytest.approx(np.mean([r[key] for r in rows]))
    # max-F is taken on the averaged curve, so it cannot exceed the mean of the per-image maxima.
    assert summary["max_f"] <= np.mean([r["max_f"] for r in rows]) + 1e-12


def test_plot_pr_curve_writes_a_png(tmp_path: Path) -> None:
    m = SalientMetrics()
    m.update(_soft_pred(), _ellipse_gt())
    precision, recall, _ = m.pr_curve()
    path = tmp_path / "sub" / "pr.png"
    plot_pr_curve(precision, recall, path, label="fake")
    with Image.open(path) as img:
        assert img.format == "PNG" and img.width > 100
    assert [p.name for p in path.parent.iterdir()] == ["pr.png"]  # no temporary file left behind
