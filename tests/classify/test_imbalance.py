"""Class imbalance: MNIST with classes 0-4 cut to 2 % of their size. With a fixed seed and a small budget,
class weights, the weighted sampler and focal loss (alpha-balanced as in Lin et al., or alone) each raise the
test macro-F1 over plain cross-entropy.

The training set is built from a fixed subset of MNIST (classes 5-9: 1000 images each; classes 0-4: 2 % of
that, 20 each) and written as IDX files, so the run goes through ``cutkit train classify`` unchanged; the
test set is MNIST's own 10k (balanced), on which a model that ignores the rare classes scores a low macro-F1.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from _parity import find_shared
from cutkit.cli.main import main
from cutkit.data.classify.idx import read_idx

PER_CLASS, RARE_SHARE, RARE = 1000, 0.02, range(5)
BUDGET = ["--epochs", "2", "--batch", "64", "--lr", "2e-3", "--warmup-epochs", "0.1", "--seed", "0"]
FAST = [
    "--no-aug",
    "--val-fraction",
    "0",
    "--workers",
    "0",
    "--no-progress",
    "--no-tensorboard",
    "--no-plots",
]


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.fixture(scope="module")
def imbalanced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    shared = find_shared()
    mnist = shared / "data" / "classification" / "mnist" if shared else None
    if mnist is None or not mnist.is_dir():
        pytest.skip("shared/data/classification/mnist not found")
    images = read_idx(mnist / "train-images-idx3-ubyte.gz")
    labels = read_idx(mnist / "train-labels-idx1-ubyte.gz")
    rng = np.random.default_rng(0)
    keep = []
    for c in range(10):
        n = round(PER_CLASS * RARE_SHARE) if c in RARE else PER_CLASS
        keep.append(rng.choice(np.flatnonzero(labels == c), n, replace=False))
    idx = np.sort(np.concatenate(keep))
    root = tmp_path_factory.mktemp("mnist-imbalanced")
    _write_idx(root / "train-images-idx3-ubyte", images[idx])
    _write_idx(root / "train-labels-idx1-ubyte", labels[idx])
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (root / name).symlink_to(mnist / name)
    return root


def _macro_f1(data: Path, tmp: Path, name: str, *options: str, capsys: pytest.CaptureFixture[str]) -> float:
    project = tmp / "runs"
    argv = [
        "train",
        "classify",
        "--data",
        str(data),
        "--project",
        str(project),
        "--name",
        name,
        *BUDGET,
        *FAST,
    ]
    assert main([*argv, *options]) == 0
    capsys.readouterr()
    run = project / "classify" / name
    argv = [
        "eval",
        "--task",
        "classify",
        "--model",
        str(run),
        "--data",
        str(data),
        "--json",
        "--batch-size",
        "500",
    ]
    assert main([*argv, "-o", str(tmp / "eval" / name)]) == 0
    summary = json.loads(capsys.readouterr().out)
    rare_recall = np.mean([summary["per_class"][str(c)]["recall"] for c in RARE])
    print(f"{name:<14} macro-F1 {summary['macro_f1']:.4f}  recall of 0-4 {rare_recall:.4f}")
    return summary["macro_f1"]


@pytest.mark.xdist_group("classify-imbalance")
def test_imbalance_options_raise_macro_f1(imbalanced: Path, tmp_path: Path, capsys) -> None:
    counts = np.bincount(read_idx(imbalanced / "train-labels-idx1-ubyte"))
    assert counts.tolist() == [20] * 5 + [1000] * 5
    plain = _macro_f1(imbalanced, tmp_path, "plain", capsys=capsys)
    variants = {
        "class-weights": ["--class-weights", "auto"],
        "sampler": ["--sampler", "weighted"],
        "focal": ["--loss", "focal", "--class-weights", "auto"],
        "focal-only": ["--loss", "focal"],
    }
    scores = {
        name: _macro_f1(imbalanced, tmp_path, name, *flags, capsys=capsys) for name, flags in variants.items()
    }
    with capsys.disabled():
        print(
            f"\nimbalanced MNIST macro-F1: plain {plain:.4f}, "
            + ", ".join(f"{k} {v:.4f}" for k, v in scores.items())
        )
    for name, score in scores.items():
        # focal loss alone (no class weight, its alpha) helps only a little; the others help a lot
        margin = 0.0 if name == "focal-only" else 0.05
        assert score > plain + margin, f"{name}: macro-F1 {score:.4f}, plain cross-entropy {plain:.4f}"
