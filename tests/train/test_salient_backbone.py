"""`cutkit train salient --backbone NAME --pretrained CLASSIFY_RUN`: a classifier's features segment."""

from __future__ import annotations

import json
import re
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


@pytest.fixture(scope="module")
def classify(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A quarter-width ResNet-18 classification run (one epoch on two classes of noise)."""
    root = tmp_path_factory.mktemp("classify-run")
    data = _two_class_tree(root / "shapes")
    argv = ["train", "classify", "--data", str(data), "--model", "resnet18", "--model-args", f"width={WIDTH}",
            "--epochs", "1", "--batch", "4", "--val-fraction", "0.25", "--project", str(root),
            "--name", "cls", *QUIET]  # fmt: skip
    assert main(argv) == 0
    return root / "classify" / "cls"


@pytest.mark.xdist_group("train-e2e")
def test_a_salient_run_starts_from_a_classify_run(
    tmp_path: Path, classify: Path, duts_tr_mini: Path, duts_te_mini: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    # no --backbone and no backbone_kwargs: the classification run says which encoder, and how wide
    argv = ["train", "salient", "--data", str(duts_tr_mini), "--pretrained", str(classify),
            "--freeze-encoder", "1", "--no-ema", "--epochs", "1", "--project", str(tmp_path), "--name", "seg",
            *SALIENT]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr()
    assert f"settings from --pretrained {classify}: backbone=resnet18" in printed.err
    run = tmp_path / "salient" / "seg"

    classifier = load_file(classify / "model.safetensors")
    backbone = {k.removeprefix("backbone."): v for k, v in classifier.items() if k.startswith("backbone.")}
    report = json.loads((run / "config.json").read_text())["pretrained"]
    assert report["matched"] == len(backbone) and report["renamed"] == {"backbone": "encoder"}
    assert report["mismatched"] == [] and sorted(report["unexpected"]) == sorted(
        k for k in classifier if k.startswith("head.")
    )
    assert report["missing"] and not any(k.startswith("encoder.") for k in report["missing"])
    out = printed.out
    assert f"{len(backbone)}/" in out and "prefix 'backbone' -> 'encoder'" in out and "unused" in out

    # the encoder was frozen for the one epoch: it is still exactly the classifier's backbone (BN stats too)
    trained = load_checkpoint(run / "weights" / "last.pt")["model"]
    for key, value in backbone.items():
        assert torch.equal(trained[f"encoder.{key}"], value), key

    # the exported segmenter is self-describing: `cutkit remove --model RUN` rebuilds the ResNet encoder
    spec = json.loads((run / "model.json").read_text())
    assert spec["arch_kwargs"]["backbone"] == "resnet18"
    assert spec["arch_kwargs"]["backbone_kwargs"] == {"stem": "imagenet", "width": float(WIDTH)}
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


def test_the_encoder_is_the_classifier_s_unless_told_otherwise(classify: Path) -> None:
    from cutkit.train.salient import SalientConfig, encoder_from_classifier

    data = ("unused",)
    plain = encoder_from_classifier(SalientConfig(data=data), str(classify))
    assert plain.backbone == "resnet18"
    assert plain.model_args == {"backbone_kwargs.stem": "imagenet", "backbone_kwargs.width": float(WIDTH)}
    agreeing = SalientConfig(
        data=data, backbone="resnet18", model_args={"backbone_kwargs.width": float(WIDTH)}
    )
    assert encoder_from_classifier(agreeing, str(classify)) == plain
    # a segmentation checkpoint, a zoo name or a file is left to the ordinary --pretrained loading
    assert encoder_from_classifier(SalientConfig(data=data), "cutnet-duts") == SalientConfig(data=data)
    refused = {
        "no exchangeable encoder": SalientConfig(data=data, model="u2netp"),
        "--backbone resnet34 does not fit": SalientConfig(data=data, backbone="resnet34"),
        "width=0.25: --model-args backbone_kwargs.width=0.5 differs": SalientConfig(
            data=data, model_args={"backbone_kwargs.width": 0.5}
        ),
    }
    for message, cfg in refused.items():
        with pytest.raises(ValueError, match=re.escape(message)):
            encoder_from_classifier(cfg, str(classify))


def test_a_grey_classifier_cannot_start_an_rgb_encoder(tmp_path: Path) -> None:
    from cutkit.train.salient import SalientConfig, encoder_from_classifier
    from cutkit.zoo.classifier import ClassifierSpec

    run = tmp_path / "grey"
    run.mkdir()
    spec = ClassifierSpec(name="grey", arch="resnet18", arch_kwargs={"in_channels": 1}, classes=("a", "b"),
                          input_size=(28, 28), in_channels=1, mean=(0.5,), std=(0.25,))  # fmt: skip
    (run / "model.json").write_text(json.dumps(spec.to_dict()))
    (run / "model.safetensors").write_bytes(b"")
    with pytest.raises(ValueError, match=r"for 1-channel images: .* needs an unpruned RGB classifier"):
        encoder_from_classifier(SalientConfig(data=("x",)), str(run))
