"""The Python API with the real SINet weights: same kind out as in, rembg's names, sessions, batching."""

from __future__ import annotations

import io
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import cutkit
from cutkit import api


def _photo(w: int = 96, h: int = 128, seed: int = 0) -> np.ndarray:
    """A synthetic ``HxWx3`` photo: a smooth gradient with a bright ellipse (a 'subject') and some noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.dstack([xx * 200 / w, yy * 200 / h, np.full((h, w), 90.0)])
    inside = ((xx - w / 2) / (w / 3)) ** 2 + ((yy - h / 2) / (h / 2.5)) ** 2 < 1
    img[inside] = (230, 190, 160)
    return np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)


def _png_bytes(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def sinet(sinet_weights: Path) -> dict[str, Any]:
    """The model options that select the real SINet."""
    return {"model": "sinet", "weights": str(sinet_weights)}


@pytest.fixture
def remover(sinet: dict[str, Any]) -> cutkit.Remover:
    return cutkit.Remover(**sinet)


def test_bytes_in_png_bytes_out(sinet: dict[str, Any]) -> None:
    out = cutkit.remove(_png_bytes(_photo()), **sinet)
    assert isinstance(out, bytes)
    img = Image.open(io.BytesIO(out))
    assert (img.format, img.mode, img.size) == ("PNG", "RGBA", (96, 128))


def test_pil_in_pil_out(sinet: dict[str, Any]) -> None:
    out = cutkit.remove(Image.fromarray(_photo()), **sinet)
    assert isinstance(out, Image.Image)
    assert (out.mode, out.size) == ("RGBA", (96, 128))
    rgb, alpha = np.asarray(out)[..., :3], np.asarray(out)[..., 3]
    hard = (alpha == 0) | (alpha == 255)
    assert np.array_equal(rgb[hard], _photo()[hard])  # colours pass through, but for the soft edges'
    plain = cutkit.remove(Image.fromarray(_photo()), decontaminate=False, **sinet)
    assert np.array_equal(np.asarray(plain)[..., :3], _photo())  # ...which are decontaminated by default


def test_ndarray_in_ndarray_out(sinet: dict[str, Any]) -> None:
    out = cutkit.remove(_photo(), **sinet)
    assert isinstance(out, np.ndarray)
    assert out.shape == (128, 96, 4) and out.dtype == np.uint8


def test_mask_only(sinet: dict[str, Any]) -> None:
    pil = cutkit.remove(Image.fromarray(_photo()), mask=True, **sinet)
    assert (pil.mode, pil.size) == ("L", (96, 128))
    arr = cutkit.remove(_photo(), mask=True, **sinet)
    assert arr.shape == (128, 96)
    rgba = cutkit.remove(_photo(), **sinet)
    assert np.array_equal(arr, rgba[..., 3])  # the mask is the cutout's alpha


def test_background_colour(sinet: dict[str, Any]) -> None:
    out = cutkit.remove(Image.fromarray(_photo()), bg="white", **sinet)
    assert (out.mode, out.size) == ("RGB", (96, 128))
    arr = cutkit.remove(_photo(), bg="white", **sinet)
    assert arr.shape == (128, 96, 3)


def test_webp_bytes(sinet: dict[str, Any]) -> None:
    out = cutkit.remove(_png_bytes(_photo()), format="webp", **sinet)
    img = Image.open(io.BytesIO(out))
    assert (img.format, img.mode, img.size) == ("WEBP", "RGBA", (96, 128))


def test_rembg_keyword_names(sinet: dict[str, Any]) -> None:
    assert cutkit.remove(Image.fromarray(_photo()), only_mask=True, **sinet).mode == "L"
    out = cutkit.remove(_photo(), bgcolor=(0, 0, 255, 255), **sinet)
    assert out.shape == (128, 96, 3)
    from cutkit.matting.foreground import decontaminate

    alpha = cutkit.remove(_photo(), mask=True, **sinet)
    a = alpha.astype(np.float64)[..., None] / 255
    expected = decontaminate(_photo(), alpha) * a + np.array([0, 0, 255]) * (1 - a)  # the subject over blue
    assert np.abs(out - expected).max() <= 1


def test_unknown_keyword_is_refused(sinet: dict[str, Any]) -> None:
    with pytest.raises(TypeError, match="did you mean 'only_mask'"):
        cutkit.remove(_photo(), only_mak=True, **sinet)


def test_session_is_reused_and_removers_are_cached(
    sinet: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cutkit.engine import session as session_mod

    calls: list[dict[str, Any]] = []
    real = session_mod.load_session

    def counting(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(session_mod, "load_session", counting)
    monkeypatch.setattr(api, "_REMOVERS", OrderedDict())

    r = cutkit.Remover(**sinet)
    assert len(calls) == 1
    out = cutkit.remove(_photo(), session=r, mask=True)
    assert out.shape == (128, 96) and len(calls) == 1  # the given session, no new load
    assert np.array_equal(out, r.remove(_photo(), mask=True))

    first = cutkit.remove(_photo(), **sinet)
    second = cutkit.remove(_photo(seed=1), mask=True, **sinet)  # output options differ, same model
    assert len(calls) == 2, "the second call must reuse the cached Remover"
    assert first.shape == (128, 96, 4) and second.shape == (128, 96)


def test_remove_many_batches_in_order(remover: cutkit.Remover) -> None:
    # Different sizes, so a reordering would show; 5 images in batches of 3 = one full and one partial batch.
    photos = [_photo(w=64 + 16 * i, h=80 + 8 * i, seed=i) for i in range(5)]
    many = list(remover.remove_many([Image.fromarray(p) for p in photos], batch_size=3))
    assert len(many) == 5
    for photo, got in zip(photos, many, strict=True):
        single = np.asarray(remover.remove(Image.fromarray(photo)))
        assert got.size == (photo.shape[1], photo.shape[0])
        # Batched and single runs differ by ~1e-6 in probability (oneDNN picks kernels per batch size), which
        # can flip a uint8 rounding: allow 1 level, far below any real difference (an image swap).
        diff = np.abs(np.asarray(got)[..., 3].astype(int) - single[..., 3].astype(int))
        assert diff.max() <= 1 and diff.mean() < 0.01


def test_output_options_cannot_change_the_model(remover: cutkit.Remover) -> None:
    with pytest.raises(ValueError, match="new Remover"):
        remover.remove(_photo(), model="u2netp")


def test_post_process_is_binary(sinet: dict[str, Any], people_mini: Path) -> None:
    photo = Image.open(people_mini / "images" / "10.jpg")
    soft = cutkit.remove(photo, mask=True, **sinet)
    assert len(np.unique(np.asarray(soft))) > 2  # otherwise the check below proves nothing
    alpha = np.asarray(cutkit.remove(photo, mask=True, post_process=True, **sinet))
    assert set(np.unique(alpha)) <= {0, 255}
    assert (alpha == 255).any()


def test_matting_gives_a_valid_alpha(sinet: dict[str, Any], people_mini: Path) -> None:
    pytest.importorskip("pymatting")
    from cutkit.matting.refine import trimap

    photo = Image.open(people_mini / "images" / "10.jpg").convert("RGB").resize((160, 120))
    plain = np.asarray(cutkit.remove(photo, mask=True, **sinet))
    out = cutkit.remove(photo, matting=True, **sinet)
    assert (out.mode, out.size) == ("RGBA", (160, 120))
    alpha = np.asarray(out)[..., 3]
    assert alpha.min() == 0 and alpha.max() == 255
    # Matting solves only the trimap's unknown band: the sure regions keep 0 and 255.
    tri = trimap(plain, fg_threshold=240, bg_threshold=10, erode=10)
    assert (tri == 128).any(), "no unknown band: the test would not exercise the solver"
    assert np.all(alpha[tri == 255] == 255) and np.all(alpha[tri == 0] == 0)
    assert np.abs(alpha.astype(int) - plain.astype(int)).mean() < 40


def test_import_is_light() -> None:
    code = "import cutkit, sys; assert 'torch' not in sys.modules, 'import cutkit imported torch'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_version_answers() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cutkit", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"cutkit {cutkit.__version__}"
