"""Matting errors on synthetic alphas whose values can be worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from cutkit.metrics.matting import (
    connectivity_error,
    gaussian_derivative_kernel,
    gradient_error,
    matting_errors,
    mse,
    sad,
    unknown_region,
)

SIZE = (40, 50)


def _trimap(unknown: tuple[slice, slice]) -> np.ndarray:
    tri = np.zeros(SIZE, np.uint8)
    tri[unknown] = 128
    return tri


def test_sad_and_mse_count_the_unknown_region_only() -> None:
    gt = np.zeros(SIZE)
    pred = np.full(SIZE, 0.5)
    tri = _trimap((slice(0, 20), slice(0, 50)))  # 1000 unknown pixels, each off by 0.5
    assert sad(pred, gt, tri) == pytest.approx(0.5)  # 1000 × 0.5 / 1000
    assert mse(pred, gt, tri) == pytest.approx(0.25)
    pred[20:] = 1.0  # errors outside the unknown region do not count
    assert sad(pred, gt, tri) == pytest.approx(0.5)
    assert mse(pred, gt, tri) == pytest.approx(0.25)


def test_uint8_alphas_are_divided_by_255() -> None:
    gt = np.zeros(SIZE, np.uint8)
    pred = np.full(SIZE, 51, np.uint8)  # 0.2
    tri = _trimap((slice(0, 10), slice(0, 50)))  # 500 pixels
    assert sad(pred, gt, tri) == pytest.approx(0.1)
    assert mse(pred, gt, tri) == pytest.approx(0.04)


def test_any_grey_of_a_trimap_is_unknown_and_bool_masks_work() -> None:
    tri = np.array([[0, 102, 128, 255]], np.uint8)  # pymatting's lemur marks its unknown pixels with 102
    assert unknown_region(tri).tolist() == [[False, True, True, False]]
    region = np.zeros(SIZE, bool)
    region[:4, :5] = True
    assert sad(np.ones(SIZE), np.zeros(SIZE), region) == pytest.approx(0.02)


def test_gradient_error_of_a_ramp_against_a_flat_alpha() -> None:
    slope = 0.005
    ramp = np.tile(0.2 + slope * np.arange(SIZE[1]), (SIZE[0], 1))
    flat = np.full(SIZE, 0.5)
    tri = _trimap((slice(10, 30), slice(10, 40)))  # away from the borders: the filter sees the pure ramp
    # On a linear ramp the x-filter gives slope · Σ_ij h(i, j)·(-j) (a convolution flips the kernel), the
    # y-filter gives 0; the flat alpha has no gradient. Error: 600 px × (that)² / 1000.
    h = gaussian_derivative_kernel(1.4)
    half = h.shape[1] // 2
    gx = slope * float(np.sum(h * -np.arange(-half, half + 1)[None, :]))
    assert gradient_error(ramp, flat, tri) == pytest.approx(600 * gx**2 / 1000, rel=1e-9)
    assert gradient_error(ramp, ramp, tri) == 0.0
    # Twice the slope, four times the error.
    assert gradient_error(2 * ramp - 0.2, flat, tri) == pytest.approx(4 * gradient_error(ramp, flat, tri))


def test_gaussian_derivative_kernel_follows_gaussgradient() -> None:
    h = gaussian_derivative_kernel(1.4)
    # half size ceil(1.4·sqrt(-2·ln(sqrt(2π)·1.4·0.01))) = ceil(1.4·2.5883) = ceil(3.62) = 4, so 9×9
    assert h.shape == (9, 9)
    assert np.sum(h**2) == pytest.approx(1.0)
    assert np.allclose(h, -h[:, ::-1]) and np.allclose(h, h[::-1, :])  # odd in x, even in y
    assert h[4, 3] > 0 > h[4, 5]  # g'(x) = -x·g(x)/σ²: positive left of centre


def test_connectivity_error_of_a_detached_island() -> None:
    gt = np.zeros(SIZE)
    gt[5:25, 5:25] = 1.0  # the subject
    pred = gt.copy()
    pred[30:35, 35:45] = 1.0  # 50 px of foreground that is not connected to it (and not in gt)
    tri = _trimap((slice(0, 40), slice(0, 50)))
    # The island leaves the largest common component at the first threshold: l = 0, so d = 1 - 0 and
    # φ(pred) = 0 while φ(gt) = 1 - 0 = 1 there; everywhere else φ agrees. Error: 50 × 1 / 1000.
    assert connectivity_error(pred, gt, tri) == pytest.approx(0.05)
    assert connectivity_error(gt, gt, tri) == 0.0


def test_connectivity_ignores_drops_below_the_threshold_distance() -> None:
    gt = np.zeros(SIZE)
    gt[5:25, 5:25] = 1.0
    pred = gt.copy()
    pred[30:35, 35:45] = 0.1  # a faint island: d = 0.1 < 0.15, so it counts as connected
    tri = _trimap((slice(0, 40), slice(0, 50)))
    assert connectivity_error(pred, gt, tri) == 0.0
    pred[30:35, 35:45] = 0.2  # d = 0.2 ≥ 0.15: φ(pred) = 0.8 against φ(gt) = 1 on 50 px
    assert connectivity_error(pred, gt, tri) == pytest.approx(50 * 0.2 / 1000)


def test_matting_errors_bundles_the_four() -> None:
    rng = np.random.default_rng(0)
    gt, pred = rng.random(SIZE), rng.random(SIZE)
    tri = _trimap((slice(5, 35), slice(5, 45)))
    errors = matting_errors(pred, gt, tri)
    assert errors.as_dict() == pytest.approx(
        {
            "sad": sad(pred, gt, tri),
            "mse": mse(pred, gt, tri),
            "gradient": gradient_error(pred, gt, tri),
            "connectivity": connectivity_error(pred, gt, tri),
        }
    )
    assert all(v > 0 for v in errors.as_dict().values())


@pytest.mark.parametrize(
    ("pred", "gt", "tri", "message"),
    [
        (np.zeros((4, 5)), np.zeros((4, 6)), np.zeros((4, 5), np.uint8), "one size"),
        (np.zeros((4, 5, 3)), np.zeros((4, 5)), np.zeros((4, 5), np.uint8), "2-D"),
        (np.full((4, 5), 2.0), np.zeros((4, 5)), np.zeros((4, 5), np.uint8), r"\[0, 1\]"),
        (np.zeros((4, 5), np.int32), np.zeros((4, 5)), np.zeros((4, 5), np.uint8), "uint8 or float"),
        (np.zeros((4, 5)), np.zeros((4, 5)), np.zeros((4, 5), np.float32), "trimap must be uint8"),
    ],
)
def test_bad_inputs_are_refused(pred: np.ndarray, gt: np.ndarray, tri: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        matting_errors(pred, gt, tri)
