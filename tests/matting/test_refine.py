"""Trimaps from a mask and matting of the uncertain band (pymatting)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image

from cutkit.matting import refine
from cutkit.matting.refine import refine_alpha
from cutkit.matting.trimap import band_radius, trimap
from cutkit.metrics.matting import sad

DEFAULTS: dict[str, Any] = {
    "band": 0.05,
    "erode": None,
    "fg_threshold": 127,
    "bg_threshold": 128,
    "solver": "cf",
    "max_side": 512,
}


def _disc(size: int) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size]
    return ((np.hypot(x - size / 2, y - size / 2) < size / 4) * 255).astype(np.uint8)


def _scene(scale: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Photo, true alpha and a network-like mask (blurred, shifted by 2 px) of a soft disc with strands."""
    h, w = 120 * scale, 160 * scale
    y, x = np.mgrid[0:h, 0:w].astype(np.float32) / scale
    fg = np.dstack([0.85 + 0.1 * np.sin(x / 9), 0.5 + 0.1 * np.cos(y / 7), 0.2 + 0.05 * np.sin((x + y) / 11)])
    bg = np.dstack(
        [0.15 + 0.05 * np.cos(y / 13), 0.35 + 0.1 * np.sin(x / 10), 0.8 + 0.1 * np.cos((x - y) / 12)]
    )
    r = np.hypot(x - 80, y - 60)
    strands = (np.abs(np.sin(np.arctan2(y - 60, x - 80) * 12)) > 0.97) & (r < 55)
    alpha = np.maximum(np.clip((40 - r) / 3 + 0.5, 0, 1), strands * 0.7)
    rgb = np.clip((alpha[..., None] * fg + (1 - alpha[..., None]) * bg) * 255 + 0.5, 0, 255).astype(np.uint8)
    blurred = cv2.GaussianBlur(
        (np.roll(alpha, 2 * scale, axis=1) > 0.5).astype(np.float32), (0, 0), 3 * scale
    )
    return rgb, _u8(alpha), _u8(blurred)


def _u8(a: np.ndarray) -> np.ndarray:
    return np.clip(a * 255 + 0.5, 0, 255).astype(np.uint8)


# --- trimaps ----------------------------------------------------------------------------------------------


def test_band_width_is_relative_to_the_image_size() -> None:
    widths = []
    for size in (100, 200):
        mask = _disc(size)
        tri = trimap(mask, 127, 128, band_radius(mask.shape, 0.04))
        widths.append(int((tri[size // 2] == 128).sum()))  # the middle row crosses the edge twice
    assert widths[0] == pytest.approx(2 * 2 * 4, abs=2)  # 4 px on each side of each crossing
    assert widths[1] == pytest.approx(2 * widths[0], abs=2)


def test_rembg_thresholds_make_the_soft_zone_unknown() -> None:
    alpha = np.tile(np.arange(256, dtype=np.uint8), (4, 1))
    tri = trimap(alpha, 240, 10, 0)
    assert (tri[:, :10] == 0).all() and (tri[:, 241:] == 255).all()
    assert (tri[:, 10:241] == 128).all()
    eroded = trimap(alpha, 240, 10, 3)  # erosion widens the band into both sides
    assert (eroded[:, 7:244] == 128).all() and (eroded[:, :6] == 0).all() and (eroded[:, 245:] == 255).all()


def test_a_subject_thinner_than_the_band_keeps_a_sure_core() -> None:
    mask = np.zeros((60, 60), np.uint8)
    mask[10:50, 27:33] = 255  # 6 px wide, the band reaches 10 px
    tri = trimap(mask, 127, 128, 10)
    assert (tri == 255).any() and (tri == 0).any() and (tri == 128).any()


# --- refinement -------------------------------------------------------------------------------------------


def test_matting_recovers_a_soft_edge_and_keeps_the_sure_regions() -> None:
    pytest.importorskip("pymatting")
    rgb, true_alpha, mask = _scene()
    out = refine_alpha(rgb, mask, **DEFAULTS)
    assert out.dtype == np.uint8 and out.shape == mask.shape
    everywhere = np.ones(mask.shape, bool)
    assert sad(out, true_alpha, everywhere) < 0.65 * sad(mask, true_alpha, everywhere)
    tri = trimap(mask, 127, 128, band_radius(mask.shape, DEFAULTS["band"]))
    assert (out[tri == 255] == 255).all() and (out[tri == 0] == 0).all()
    assert not np.array_equal(out[tri == 128], mask[tri == 128])


def test_large_photos_are_solved_at_the_working_size_in_the_band_box(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pymatting")
    rgb, true_alpha, mask = _scene(scale=2)  # 320×240
    shapes: list[tuple[int, ...]] = []
    solve = refine.solve_alpha

    def spy(small_rgb: np.ndarray, tri: np.ndarray, solver: str) -> np.ndarray:
        shapes.append(tri.shape)
        return solve(small_rgb, tri, solver)

    monkeypatch.setattr(refine, "solve_alpha", spy)
    out = refine_alpha(rgb, mask, **{**DEFAULTS, "max_side": 160})
    (shape,) = shapes
    assert max(shape) <= 160 and shape[0] < 120  # at most half size, and only the band's box of it
    everywhere = np.ones(mask.shape, bool)
    assert sad(out, true_alpha, everywhere) < 0.65 * sad(mask, true_alpha, everywhere)


def test_learning_based_solver() -> None:
    pytest.importorskip("pymatting")
    rgb, true_alpha, mask = _scene()
    out = refine_alpha(rgb, mask, **{**DEFAULTS, "solver": "lbdm"})
    everywhere = np.ones(mask.shape, bool)
    assert sad(out, true_alpha, everywhere) < 0.65 * sad(mask, true_alpha, everywhere)


def test_erode_in_pixels_replaces_the_band() -> None:
    pytest.importorskip("pymatting")
    rgb, _, mask = _scene()
    binary = np.where(mask >= 128, 255, 0).astype(np.uint8)
    # No reach and no soft zone: nothing is unknown, so nothing changes (a band of 0.1 would be 12 px).
    assert np.array_equal(refine_alpha(rgb, binary, **{**DEFAULTS, "band": 0.1, "erode": 0}), binary)
    assert not np.array_equal(refine_alpha(rgb, binary, **{**DEFAULTS, "band": 0.1}), binary)


def test_an_alpha_without_foreground_is_returned_as_is(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any) -> np.ndarray:
        raise AssertionError("the solver must not run")

    monkeypatch.setattr(refine, "solve_alpha", fail)
    rgb = np.zeros((40, 50, 3), np.uint8)
    empty = np.zeros((40, 50), np.uint8)
    assert refine_alpha(rgb, empty, **DEFAULTS) is empty
    faint = np.full((40, 50), 100, np.uint8)  # below the foreground threshold everywhere
    assert refine_alpha(rgb, faint, **DEFAULTS) is faint


def test_bad_solver_and_size_mismatch_are_refused() -> None:
    pytest.importorskip("pymatting")
    rgb, _, mask = _scene()
    with pytest.raises(ValueError, match="solver 'knn'"):
        refine_alpha(rgb, mask, **{**DEFAULTS, "solver": "knn"})
    with pytest.raises(ValueError, match="photo of size"):
        refine_alpha(rgb[:-1], mask, **DEFAULTS)


def test_missing_pymatting_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pymatting", None)  # makes `import pymatting` fail
    rgb, _, mask = _scene()
    with pytest.raises(ImportError, match=r"pip install 'cutkit\[matting\]'"):
        refine_alpha(rgb, mask, **DEFAULTS)


def test_matting_improves_the_lemur(matting_lemur: Path) -> None:
    pytest.importorskip("pymatting")
    import cutkit

    photo = Image.open(matting_lemur / "lemur.png").convert("RGB")
    gt = np.asarray(Image.open(matting_lemur / "lemur_alpha.png").convert("L"))
    region = np.asarray(Image.open(matting_lemur / "lemur_trimap.png").convert("L"))
    remover = cutkit.Remover(threads=1)
    plain = np.asarray(remover.remove(photo, mask=True))
    matted = np.asarray(remover.remove(photo, mask=True, matting=True))
    assert sad(matted, gt, region) < 0.5 * sad(plain, gt, region)


@pytest.fixture(scope="module")
def matting_lemur() -> Path:
    from _parity import find_shared

    shared = find_shared()
    folder = shared / "data" / "matting" / "lemur" if shared else None
    if folder is None or not folder.is_dir():
        pytest.skip("shared/data/matting/lemur not found")
    return folder
