"""`cutkit train salient --backbone NAME --pretrained CLASSIFY_RUN`: a classifier's features segment."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

import cutkit
from cutkit.cli.main import main
from cutkit.train.checkpoint import load_checkpoint

QUIET = ["--workers", "0", "--no-progress", "--no-plots", "--no-tensorboard"]
SALIENT = ["--imgsz", "64", "--batch", "4", "--epoch-size", "16", *QUIET]
WIDTH = "0.25"  # a quarter-width ResNet-18: seconds on a CPU


def _two_class_tree(root: Path, per_class: int = 12) -> Path:
    """``root/{dark,bright}/*.png``: 32 px RGB noise, dark or bright."""
    rng = np.random.default_rng(0)
    for name, (lo, hi) in {"dark": (0, 90), "bright": (160, 256)}.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(lo, hi, size=(32, 32, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


def _classify_run(tmp_path: Path) -> Path:
    data = _two_class_tree(tmp_path / "shapes")
    argv = ["train", "classify", "--data", str(data), "--model", "resnet18", "--model-args", f"width={WIDTH}",
            "--epochs", "1", "--batch", "4", "--val-fraction", "0.25", "--project", str(tmp_path),
            "--name", "cls", *QUIET]  # fmt: skip
    assert main(argv) == 0
    return tmp_path / "classify" / "cls"


@pytest.mark.xdist_group("train-e2e")
def test_a_salient_run_starts_from_a_classify_run(
    tmp_path: Path, duts_tr_mini: Path, duts_te_mini: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    classify = _classify_run(tmp_path)
    capsys.readouterr()
    argv = ["train", "salient", "--data", str(duts_tr_mini), "--backbone", "resnet18",
            "--model-args", f"backbone_kwargs.width={WIDTH}", "--pretrained", str(classify),
            "--freeze-encoder", "1", "--no-ema", "--epochs", "1", "--project", str(tmp_path), "--name", "seg",
            *SALIENT]  # fmt: skip
    assert main(argv) == 0
    run = tmp_path / "salient" / "seg"

    classifier = load_file(classify / "model.safetensors")
    backbone = {k.removeprefix("backbone."): v for k, v in classifier.items() if k.startswith("backbone.")}
    report = json.loads((run / "config.json").read_text())["pretrained"]
    assert report["matched"] == len(backbone) and report["renamed"] == {"backbone": "encoder"}
    assert report["mismatched"] == [] and sorted(report["unexpected"]) == sorted(
        k for k in classifier if k.startswith("head.")
    )
    assert report["missing"] and not any(k.startswith("encoder.") for k in report["missing"])
    out = capsys.readouterr().out
    assert f"{len(backbone)}/" in out and "prefix 'backbone' -> 'encoder'" in out and "unused" in out

    # the encoder was frozen for the one epoch: it is still exactly the classifier's backbone (BN stats too)
    trained = load_checkpoint(run / "weights" / "last.pt")["model"]
    for key, value in backbone.items():
        assert torch.equal(trained[f"encoder.{key}"], value), key

    # the exported segmenter is self-describing: `cutkit remove --model RUN` rebuilds the ResNet encoder
    spec = json.loads((run / "model.json").read_text())
    assert spec["arch_kwargs"]["backbone"] == "resnet18"
    assert spec["arch_kwargs"]["backbone_kwargs"] == {"width": float(WIDTH)}
    photo = Image.open(next((duts_te_mini / "images").iterdir()))
    mask = cutkit.remove(photo, model=str(run), only_mask=True)
    assert mask.size == photo.size


def test_backbone_options_that_cannot_work_are_refused(
    tmp_path: Path, duts_tr_mini: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["train", "salient", "--data", str(duts_tr_mini), "--project", str(tmp_path), *SALIENT]
    assert main([*base, "--model", "u2netp", "--backbone", "resnet18"]) == 2
    assert "u2netp has no exchangeable encoder" in capsys.readouterr().err
    assert main([*base, "--backbone", "resnet19"]) == 2
    assert "did you mean" in capsys.readouterr().err
    assert main([*base, "--backbone", "resnet18", "--model-args", "backbone=mobilenetv2"]) == 2
    assert "given twice" in capsys.readouterr().err
    assert not (tmp_path / "salient").exists()  # nothing half-made
