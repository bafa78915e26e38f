"""``cutkit explain``: overlays of a trained run's decisions, written per image; clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from _tiny_classifier import SQUARE, cached_run, square_image
from cutkit.cli.explain import METHOD_NAMES
from cutkit.cli.main import main
from cutkit.explain import METHODS

pytestmark = pytest.mark.xdist_group("tiny-classifier")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cached_run(tmp_path_factory)[1]


def _bright_images(folder: Path, n: int) -> list[tuple[Path, tuple[int, int]]]:
    rng = np.random.default_rng(7)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        image, corner = square_image(rng, bright=True)
        path = folder / f"img{i}.png"
        Image.fromarray(image).save(path)
        out.append((path, corner))
    return out


def test_the_cli_offers_every_method() -> None:
    assert set(METHOD_NAMES) == set(METHODS)


@pytest.mark.parametrize("method", ["gradcam", "gradcam++"])
def test_overlays_are_hot_on_the_square(run: Path, tmp_path: Path, method: str, capsys) -> None:
    images = _bright_images(tmp_path, 6)
    out = tmp_path / "out"
    argv = ["explain", "--model", str(run), *(str(p) for p, _ in images), "--method", method, "-o", str(out)]
    assert main([*argv, "--alpha", "1"]) == 0
    printed = capsys.readouterr().out
    assert printed.count(": bright (") == 6 and "explained 6/6" in printed
    for path, (r, c) in images:
        overlay = np.asarray(Image.open(out / f"{path.stem}.{method}.png")).astype(int)
        assert overlay.shape == (28, 28, 3)
        red = overlay[..., 0] - overlay[..., 2]  # JET: hot is red, cold is blue
        pr, pc = np.unravel_index(red.argmax(), red.shape)
        assert r - 3 <= pr < r + SQUARE + 3 and c - 3 <= pc < c + SQUARE + 3, (path.name, (pr, pc), (r, c))


def test_a_folder_a_named_target_and_saliency(run: Path, tmp_path: Path, capsys) -> None:
    _bright_images(tmp_path / "in", 2)
    argv = ["explain", "--model", str(run), str(tmp_path / "in"), "--method", "saliency", "--target", "dim"]
    assert main([*argv, "-o", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["img0.saliency.png", "img1.saliency.png"]
    assert capsys.readouterr().out.count(": dim (") == 2


def test_errors_name_the_problem(run: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "bad.png").write_bytes(b"not an image")
    good = _bright_images(tmp_path, 1)[0][0]
    base = ["explain", "--model", str(run), "-o", str(tmp_path / "out")]
    assert main([*base, str(good), "--target", "brigth"]) == 2
    assert "did you mean 'bright'" in capsys.readouterr().err
    assert main([*base, str(tmp_path / "missing.png")]) == 2
    assert "missing.png: no such image" in capsys.readouterr().err
    assert main([*base, str(good), str(tmp_path / "bad.png")]) == 1  # one bad file: the others still done
    assert "explained 1/2" in capsys.readouterr().out
    assert main(["explain", "--model", str(tmp_path), str(good), "-o", str(tmp_path / "o")]) == 2
    assert "not a trained classifier" in capsys.readouterr().err
