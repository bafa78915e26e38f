"""cutkit's bundled default model: the shipped file is the one the zoo names, it loads with an empty cache
and no network, and its quality on ecssd-mini stays above a floor set from the measured numbers.

The floor catches a broken bundle, export or preprocessing change, not small training differences:
measured on ecssd-mini (50 pairs) with the shipped weights (``cutkit eval --data ecssd-mini``), max F and MAE
as below; the floor leaves 0.02 of max F and 0.015 of MAE below and above those.
"""

from __future__ import annotations

import contextlib
import fnmatch
import io
import json
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from _parity import find_shared
from cutkit.cli.main import main
from cutkit.zoo import default_model, get_spec
from cutkit.zoo import weights as weights_mod
from cutkit.zoo.weights import WeightsNotFound, file_digest, resolve_weights

MEASURED_F, MEASURED_MAE = 0.880, 0.084
MAX_F_FLOOR, MAE_CEILING = MEASURED_F - 0.02, MEASURED_MAE + 0.015

SPEC = get_spec(default_model())


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty weight cache and a network that refuses every request."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the bundled model must not touch the network")

    monkeypatch.setenv("CUTKIT_HOME", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return tmp_path


def test_default_model_is_bundled_and_its_file_matches_the_spec() -> None:
    assert SPEC.weights.bundled and SPEC.arch != "onnx"
    path = weights_mod.BUNDLED_DIR / SPEC.weights.filename
    assert path.stat().st_size == SPEC.weights.size
    assert file_digest(path) == SPEC.weights.sha256
    assert SPEC.weights.size < 20 * 1024 * 1024  # the budget for the default model


def test_the_wheel_carries_the_bundled_file() -> None:
    """pyproject's package-data globs match the bundled file (else a wheel install would lack it)."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    root = Path(__file__).resolve().parents[2]
    setuptools = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    globs = setuptools["package-data"]["cutkit"]
    rel = (weights_mod.BUNDLED_DIR / SPEC.weights.filename).relative_to(root / "src" / "cutkit").as_posix()
    assert any(fnmatch.fnmatch(rel, pattern) for pattern in globs), (rel, globs)


def test_resolves_from_the_package_with_an_empty_cache(offline: Path) -> None:
    path = resolve_weights(SPEC.weights)
    assert path.parent == weights_mod.BUNDLED_DIR
    assert not (offline / "empty-cache").exists()  # nothing was downloaded or cached


def test_missing_bundled_file_says_to_reinstall(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(weights_mod, "BUNDLED_DIR", tmp_path)
    with pytest.raises(WeightsNotFound, match=r"reinstall cutkit") as info:
        resolve_weights(SPEC.weights)
    assert SPEC.weights.filename in str(info.value)


def test_bundled_file_of_the_wrong_size_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / SPEC.weights.filename).write_bytes(b"truncated")
    monkeypatch.setattr(weights_mod, "BUNDLED_DIR", tmp_path)
    with pytest.raises(weights_mod.ChecksumError, match="size 9 bytes"):
        resolve_weights(SPEC.weights)


def test_cli_remove_uses_it_without_any_flag(offline: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photo = offline / "photo.jpg"
    Image.fromarray(_disc_photo()).save(photo, quality=95)  # a red disc on a blue background
    yy, xx = np.mgrid[:240, :320]
    assert main(["remove", str(photo), "-o", str(offline / "out"), "--threads", "1"]) == 0
    with Image.open(offline / "out" / "photo.png") as cut:
        alpha = np.asarray(cut.convert("RGBA"))[..., 3].astype(np.float32) / 255
    inside = alpha[(yy - 120) ** 2 + (xx - 160) ** 2 < 50**2].mean()
    outside = alpha[(yy - 120) ** 2 + (xx - 160) ** 2 > 100**2].mean()
    assert inside > 0.8 and outside < 0.2, (inside, outside)


def test_models_table_marks_it_default_and_present(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--json"]) == 0
    (row,) = [r for r in json.loads(capsys.readouterr().out) if r["default"]]
    assert row["name"] == SPEC.name
    assert Path(row["weights"]).parent == weights_mod.BUNDLED_DIR


def test_quality_on_ecssd_mini_stays_above_the_floor(offline: Path) -> None:
    pytest.importorskip("py_sod_metrics")
    shared = find_shared()
    data = shared / "data" / "sod" / "ecssd-mini" if shared else None
    if data is None or not data.is_dir():
        pytest.skip("shared/data/sod/ecssd-mini not found")
    stdout = io.StringIO()
    args = ["eval", "--data", str(data), "--json", "-o", str(offline / "eval"), "--threads", "1"]
    with contextlib.redirect_stdout(stdout):
        assert main(args) == 0
    summary = json.loads(stdout.getvalue())
    assert summary["images"] == 50 and summary["model"] == SPEC.name
    assert summary["max_f"] >= MAX_F_FLOOR, summary
    assert summary["mae"] <= MAE_CEILING, summary


def _disc_photo() -> np.ndarray:
    rgb = np.full((240, 320, 3), (40, 120, 200), np.uint8)
    yy, xx = np.mgrid[:240, :320]
    rgb[(yy - 120) ** 2 + (xx - 160) ** 2 < 70**2] = (220, 30, 30)
    return rgb


def test_input_size_runs_the_network_at_that_size() -> None:
    import cutkit

    small, large = cutkit.Remover(input_size=128, threads=1), cutkit.Remover(input_size=320, threads=1)
    assert small.spec.input_size == (128, 128) and large.spec.input_size == (320, 320)
    a, b = (r.alpha_batch([_disc_photo()])[0].astype(np.float32) / 255 for r in (small, large))
    assert a.shape == b.shape == (240, 320)
    assert 0.0 < float(np.abs(a - b).mean()) < 0.1  # the same subject, seen at two resolutions


def test_input_size_that_does_not_fit_the_stride_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    import cutkit

    with pytest.raises(ValueError, match=r"input_size 100: .*multiple of 32 \(e\.g\. 96\)"):
        cutkit.Remover(input_size=100)
    assert main(["remove", "x.jpg", "--input-size", "100"]) == 2
    assert "multiple of 32" in capsys.readouterr().err
    with pytest.raises(ValueError, match="not to an ONNX file"):
        cutkit.Remover(model="u2netp.onnx", input_size=320)
