"""``cutkit prune``: a pruned, fine-tuned run that predict/export load like any other; clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from _tiny_classifier import cached_run
from cutkit.cli.main import main
from cutkit.compress.measure import parameter_count, sparsity
from cutkit.compress.quantize import preprocess
from cutkit.data.classify import open_classification
from cutkit.zoo.classifier import load_classifier

pytestmark = pytest.mark.xdist_group("tiny-classifier")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return cached_run(tmp_path_factory)


def _accuracy(run: Path, data: Path) -> float:
    net, spec = load_classifier(run)
    test = open_classification(str(data), "test")
    x = preprocess([test.image(i) for i in range(len(test))], spec)
    with torch.no_grad():
        return float((net(torch.from_numpy(x)).argmax(1).numpy() == np.asarray(test.labels)).mean())


def test_channel_pruning_with_fine_tuning_makes_a_smaller_working_run(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    data, run = trained
    argv = ["prune", "--model", str(run), "--method", "channel", "--amount", "0.5", "--epochs", "1"]
    assert main([*argv, "--project", str(tmp_path), "--no-progress", "--workers", "0"]) == 0
    pruned_run = tmp_path / "classify" / "squares-channel50"
    original, _ = load_classifier(run)
    net, spec = load_classifier(pruned_run)
    assert parameter_count(net) < 0.5 * parameter_count(original)
    assert spec.pruned == {"method": "channel", "amount": 0.5, "source": str(run), "epochs": 1}
    assert _accuracy(pruned_run, data) >= 0.9
    config = json.loads((pruned_run / "config.json").read_text())
    assert config["resolved"]["task"]["pruned"]["method"] == "channel"
    assert config["resolved"]["train"]["epochs"] == 1
    assert main(["export", str(pruned_run), "-o", str(tmp_path / "pruned.onnx")]) == 0


@pytest.mark.parametrize("epochs", [0, 1])
def test_magnitude_pruning_zeroes_weights_and_fine_tuning_keeps_them_zero(
    trained: tuple[Path, Path], tmp_path: Path, epochs: int
) -> None:
    _, run = trained
    argv = ["prune", "--model", str(run), "--method", "magnitude", "--amount", "0.7", "--epochs", str(epochs)]
    assert main([*argv, "--project", str(tmp_path), "-n", "sparse", "--no-progress", "--workers", "0"]) == 0
    net, spec = load_classifier(tmp_path / "classify" / "sparse")
    original, _ = load_classifier(run)
    assert parameter_count(net) == parameter_count(original)
    assert sparsity(net) > 0.65  # 70 % of conv/dense weights; biases and norms are kept
    assert spec.pruned["epochs"] == epochs and spec.name == "sparse"


def test_errors_name_the_problem(trained: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    _, run = trained
    assert main(["prune", "--model", str(run), "--amount", "1.5", "--project", str(tmp_path)]) == 2
    assert "--amount must be in [0, 1)" in capsys.readouterr().err
    assert main(["prune", "--model", str(tmp_path), "--project", str(tmp_path)]) == 2
    assert "not a trained classifier" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["prune", "--model", str(run), "--method", "channels"])
    assert "invalid choice: 'channels'" in capsys.readouterr().err
