"""Foreground colour decontamination: a known subject on a known background with a known soft alpha."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cutkit import options as opt
from cutkit.matting.foreground import decontaminate, estimate_foreground
from cutkit.pipeline.compose import compose_output

# Tolerances on the 0-1 scale, over the soft edge (0.05 < α < 0.95): the mean colour error (13/255) and
# its 95th percentile; and the largest error that shows once the cutout lies on a new background
# (α·|F̂ - F|, 15/255).
MEAN_TOL, P95_TOL, VISIBLE_TOL = 0.05, 0.16, 0.06


def _scene(ramp: float, background: str, size: int = 256) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Photo, uint8 alpha and true foreground (float) of a disc with a soft rim ``ramp`` pixels wide."""
    h = w = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32) * np.float32(256 / size)
    fg = np.dstack([0.5 + 0.4 * np.sin(x / 40), 0.3 + 0.2 * np.cos(y / 50), 0.6 + 0.3 * np.sin((x + y) / 60)])
    if background == "green":
        bg = np.zeros_like(fg)
        bg[..., 1] = 1.0  # saturated green, the worst case for a fringe
    else:
        noise = np.random.default_rng(0).random((h, w, 3)).astype(np.float32)
        bg = cv2.GaussianBlur(noise, (0, 0), 4)
        bg = (bg - bg.min()) / (bg.max() - bg.min())
    alpha = np.clip((90 - np.hypot(x - 128, y - 128)) / ramp + 0.5, 0, 1)
    a8 = np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)
    a = a8[..., None] / 255.0
    rgb = np.clip((a * fg + (1 - a) * bg) * 255 + 0.5, 0, 255).astype(np.uint8)
    return rgb, a8, fg


def _errors(colours: np.ndarray, alpha: np.ndarray, fg: np.ndarray) -> tuple[float, float, float]:
    a = alpha / 255.0
    soft = (a > 0.05) & (a < 0.95)
    diff = np.abs(colours - fg)[soft]
    visible = (a[..., None] * np.abs(colours - fg))[soft]
    return float(diff.mean()), float(np.percentile(diff, 95)), float(visible.max())


def _within(errors: tuple[float, float, float]) -> bool:
    mean, p95, visible = errors
    return mean <= MEAN_TOL and p95 <= P95_TOL and visible <= VISIBLE_TOL


@pytest.mark.parametrize("ramp", [6, 24])
def test_edge_colours_on_green_come_back_close_to_the_true_foreground(ramp: int) -> None:
    rgb, alpha, fg = _scene(ramp, "green")
    assert not _within(_errors(rgb / 255.0, alpha, fg))  # the photo's own edge colours are green-tinted
    recovered = decontaminate(rgb, alpha) / 255.0
    assert _within(_errors(recovered, alpha, fg)), _errors(recovered, alpha, fg)


def test_a_textured_background_is_removed_too() -> None:
    rgb, alpha, fg = _scene(12, "texture")
    naive = _errors(rgb / 255.0, alpha, fg)
    recovered = _errors(decontaminate(rgb, alpha) / 255.0, alpha, fg)
    # A textured old background is only known from its neighbourhood: the mean and the 95th percentile
    # meet the tolerances, the single worst pixel (where the texture changes fastest) is halved.
    assert recovered[0] <= MEAN_TOL and recovered[1] <= P95_TOL, recovered
    assert recovered[0] < 0.4 * naive[0] and recovered[2] < 0.5 * naive[2], (naive, recovered)


def test_only_soft_pixels_change() -> None:
    rgb, alpha, _ = _scene(6, "green")
    out = decontaminate(rgb, alpha)
    hard = (alpha == 0) | (alpha == 255)
    assert np.array_equal(out[hard], rgb[hard])
    assert not np.array_equal(out[~hard], rgb[~hard])
    binary = np.where(alpha > 127, 255, 0).astype(np.uint8)
    assert decontaminate(rgb, binary) is rgb  # no soft edge, nothing to do


def test_estimate_is_exact_where_opaque() -> None:
    rgb, alpha, _ = _scene(6, "green")
    fg = estimate_foreground(rgb, alpha)
    assert fg.dtype == np.float32 and fg.shape == rgb.shape
    opaque = alpha == 255
    assert np.abs(fg[opaque] * 255 - rgb[opaque]).max() < 0.01  # α = 1: F = I


def test_outputs_are_decontaminated_by_default_and_can_opt_out() -> None:
    rgb, alpha, _ = _scene(6, "green")
    cutout = np.asarray(compose_output(rgb, alpha, opt.resolve()))
    assert np.array_equal(cutout[..., :3], decontaminate(rgb, alpha)) and np.array_equal(
        cutout[..., 3], alpha
    )
    plain = np.asarray(compose_output(rgb, alpha, opt.resolve(decontaminate=False)))
    assert np.array_equal(plain[..., :3], rgb)
    mask = np.asarray(compose_output(rgb, alpha, opt.resolve(mask=True)))
    assert np.array_equal(mask, alpha)


def test_a_new_background_shows_no_green_halo() -> None:
    rgb, alpha, fg = _scene(6, "green")
    a = alpha[..., None] / 255.0
    truth = a * fg + (1 - a) * 1.0  # the subject over white
    soft = (alpha > 0) & (alpha < 255)
    for decontaminated, limit in ((True, 0.03), (False, None)):
        out = np.asarray(compose_output(rgb, alpha, opt.resolve(bg="white", decontaminate=decontaminated)))
        error = np.abs(out / 255.0 - truth)[soft].mean()
        if limit is None:
            assert error > 0.05  # the old green shows through the photo's own edge colours
        else:
            assert error < limit


def test_large_photos_take_their_local_means_at_a_reduced_size(monkeypatch: pytest.MonkeyPatch) -> None:
    from cutkit.matting import foreground

    rgb, alpha, fg = _scene(6, "green", size=1280)  # the 256² scene, 5× larger: a rim of 30 px
    reduced = decontaminate(rgb, alpha)
    monkeypatch.setattr(foreground, "_MAX_SIDE", 4096)
    full = decontaminate(rgb, alpha)
    assert np.abs(reduced.astype(int) - full.astype(int)).max() <= 2  # two levels of 255 at most
    assert _within(_errors(reduced / 255.0, alpha, fg))
