"""rembg's ONNX files: found by name in rembg's cache or by path, run with rembg's preprocessing.

A rembg-style file is made here from the real SINet weights: the bare network exported without cutkit's
metadata, so its raw first output is a 2-channel logit map, exactly as cutkit must handle a foreign file.
The test spec gives it softmax over channel 1 (like SINet) by registering it under a rembg file name.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from cutkit import Remover
from cutkit.engine.export import read_metadata
from cutkit.nets import build_net
from cutkit.zoo import get_spec, models
from cutkit.zoo.checkpoint import load_weights
from cutkit.zoo.spec import WeightsFile

pytest.importorskip("onnxruntime")
FILE = "u2net_human_seg.onnx"  # a rembg name; its spec is swapped for SINet's preprocessing below


@pytest.fixture
def foreign_onnx(tmp_path: Path, sinet_weights: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    sinet = get_spec("sinet")
    spec = dataclasses.replace(sinet, name=FILE, arch="onnx", weights=WeightsFile(filename=FILE))
    monkeypatch.setitem(models.MODELS, FILE, spec)
    net = load_weights(build_net("sinet"), sinet_weights).eval()
    home = tmp_path / "u2net-home"
    home.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net, (torch.zeros(1, 3, 320, 320),), str(home / FILE), dynamo=False, opset_version=17
        )
    monkeypatch.setenv("U2NET_HOME", str(home))
    monkeypatch.setenv("CUTKIT_HOME", str(tmp_path / "empty-cache"))
    return home / FILE


def _photo() -> np.ndarray:
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:240, 0:200]
    img = np.dstack([xx, yy, np.full_like(xx, 120)]).astype(np.float64)
    img[((xx - 100) / 60) ** 2 + ((yy - 140) / 90) ** 2 < 1] = (210, 170, 150)
    return np.clip(img + rng.normal(0, 5, img.shape), 0, 255).astype(np.uint8)


def test_found_by_name_in_rembg_cache(foreign_onnx: Path, sinet_weights: Path) -> None:
    assert "cutkit_spec" not in read_metadata(foreign_onnx)
    remover = Remover(model=FILE)  # not a path here: looked up in $U2NET_HOME
    assert remover.session.weights == foreign_onnx
    assert remover.session.engine.name == "onnx"
    photo = _photo()
    ours = remover.alpha_batch([photo])[0].astype(int)
    ref_alpha = Remover(model="sinet", weights=str(sinet_weights)).alpha_batch([photo])[0].astype(int)
    assert ours.shape == photo.shape[:2] and ours.max() > 128 > ours.min()
    # The same network and preprocessing on both engines: the raw logits get softmax(channel 1) applied.
    assert np.abs(ours - ref_alpha).mean() <= 1.0


def test_by_path_and_torch_engine_refused(foreign_onnx: Path) -> None:
    assert Remover(model=str(foreign_onnx)).session.weights == foreign_onnx
    with pytest.raises(ValueError, match="onnx engine"):
        Remover(model=str(foreign_onnx), engine="torch")


def test_unknown_foreign_onnx_is_refused(foreign_onnx: Path, tmp_path: Path) -> None:
    other = tmp_path / "mystery.onnx"
    other.write_bytes(foreign_onnx.read_bytes())
    with pytest.raises(ValueError, match="cannot tell its preprocessing"):
        Remover(model=str(other))
