"""Tiny end-to-end runs of ``cutkit train classify`` → ``eval --task classify`` → ``predict``, resume,
distillation, mixing and the option checks; and the CI run of one epoch on the full MNIST."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from _parity import find_shared
from cutkit.cli.main import main

CLASSES = ("blue", "green", "red")  # sorted, as an image-folder tree orders them
TINY = ["--batch", "8", "--workers", "0", "--no-progress", "--no-tensorboard", "--model-args", "hidden=16"]


def _write_tree(root: Path, per_class: dict[str, int], seed: int) -> None:
    """16 px RGB images whose class is their dominant colour channel, with noise."""
    rng = np.random.default_rng(seed)
    for split, n in per_class.items():
        for c, name in enumerate(CLASSES):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(n):
                img = rng.integers(0, 110, (16, 16, 3), dtype=np.uint8)
                img[..., 2 - c] += rng.integers(90, 140, dtype=np.uint8)  # blue=2, green=1, red=0
                Image.fromarray(img).save(folder / f"{i:03d}.png")


@pytest.fixture(scope="module")
def colours(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("colours")
    _write_tree(root, {"train": 24, "test": 8}, seed=0)
    return root


def _rows(run: Path) -> list[dict[str, float]]:
    with (run / "metrics.csv").open() as fh:
        return [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(fh)]


def _train(project: Path, data: Path, name: str, *extra: str) -> Path:
    argv = [
        "train",
        "classify",
        "--data",
        str(data),
        "--project",
        str(project),
        "--name",
        name,
        *TINY,
        *extra,
    ]
    assert main(argv) == 0
    return project / "classify" / name


@pytest.fixture(scope="module")
def trained(colours: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("runs")
    return _train(
        project, colours, "base", "--epochs", "3", "--lr", "3e-3", "--warmup-epochs", "0.2", "--no-aug"
    )


@pytest.mark.xdist_group("classify-e2e")
def test_training_writes_a_self_describing_run(trained: Path) -> None:
    rows = _rows(trained)
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert rows[-1]["train/loss"] < rows[0]["train/loss"]
    for key in ("val/accuracy", "val/top5", "val/macro_f1", "val/micro_f1", "val/loss", "lr"):
        assert key in rows[0], key
    assert rows[-1]["val/accuracy"] >= 0.9  # colours are easy: a broken pipeline cannot get there
    for rel in ("model.json", "model.safetensors", "config.json", "weights/best.pt", "val_confusion.png",
                "results.png"):  # fmt: skip
        assert (trained / rel).is_file(), rel
    spec = json.loads((trained / "model.json").read_text())
    assert spec["classes"] == list(CLASSES) and spec["input_size"] == [16, 16] and spec["in_channels"] == 3
    assert spec["arch_kwargs"] == {"hidden": 16, "num_classes": 3, "in_channels": 3}
    config = json.loads((trained / "config.json").read_text())
    data = config["data"]
    assert data["train"]["count"] + data["val"]["count"] == 72 and data["val"]["counts"] == [2, 2, 2]
    assert data["auto"]["mean"] == spec["mean"] and data["held_out"] == {"fraction": 0.1, "seed": 0}


@pytest.mark.xdist_group("classify-e2e")
def test_eval_json_and_files(trained: Path, colours: Path, tmp_path: Path, capsys) -> None:
    capsys.readouterr()
    out = tmp_path / "ev"
    argv = [
        "eval",
        "--task",
        "classify",
        "--model",
        str(trained),
        "--data",
        str(colours),
        "--json",
        "-o",
        str(out),
    ]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    for key in ("accuracy", "top5", "macro_f1", "micro_f1", "per_class"):
        assert key in summary, key
    assert summary["count"] == 24 and summary["split"] == "test" and summary["accuracy"] >= 0.9
    assert summary["top5"] == 1.0  # 3 classes: the true one is always among the top 5
    assert summary["micro_f1"] == pytest.approx(summary["accuracy"])
    assert set(summary["per_class"]) == set(CLASSES)
    assert sum(r["support"] for r in summary["per_class"].values()) == 24
    for name in ("summary.json", "per_class.csv", "confusion_matrix.csv", "confusion_matrix.png"):
        assert (out / name).is_file(), name
    with (out / "confusion_matrix.csv").open() as fh:
        rows = list(csv.reader(fh))
    assert rows[0][1:] == list(CLASSES)
    assert sum(int(v) for row in rows[1:] for v in row[1:]) == 24
    assert json.loads((out / "summary.json").read_text())["accuracy"] == summary["accuracy"]


@pytest.mark.xdist_group("classify-e2e")
def test_eval_table_and_option_checks(trained: Path, colours: Path, tmp_path: Path, capsys) -> None:
    capsys.readouterr()
    argv = [
        "eval",
        "--task",
        "classify",
        "--model",
        str(trained),
        "--data",
        str(colours),
        "-o",
        str(tmp_path),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "macro_f1" in out and "green" in out
    assert main([*argv, "--engine", "onnx"]) == 2
    assert "--engine does not apply to --task classify" in capsys.readouterr().err
    assert main(["eval", "--task", "classify", "--data", str(colours)]) == 2
    assert "needs --model" in capsys.readouterr().err
    assert main([*argv, "--split", "nope"]) == 2
    assert "split" in capsys.readouterr().err
    assert main(["eval", "--data", str(colours), "--split", "train"]) == 2  # salient pairs have no splits
    assert "--split applies to --task classify only" in capsys.readouterr().err


@pytest.mark.xdist_group("classify-e2e")
def test_predict_labels_images(trained: Path, colours: Path, tmp_path: Path, capsys) -> None:
    capsys.readouterr()
    assert main(["predict", "--model", str(trained), str(colours / "test"), "--json", "-k", "2"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert len(results) == 24
    right = sum(Path(r["image"]).parent.name == r["top"][0]["label"] for r in results)
    assert right >= 22 and all(len(r["top"]) == 2 for r in results)
    assert all(r["top"][0]["probability"] >= r["top"][1]["probability"] for r in results)

    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    good = next((colours / "test" / "red").iterdir())
    assert main(["predict", "--model", str(trained), str(good), str(bad)]) == 1
    captured = capsys.readouterr()
    assert str(good) in captured.out and "bad.png" in captured.err
    assert main(["predict", "--model", str(tmp_path), str(good)]) == 2
    assert "not a trained classifier" in capsys.readouterr().err


@pytest.mark.xdist_group("classify-e2e")
def test_resume_continues_the_run(colours: Path, tmp_path: Path) -> None:
    run = _train(tmp_path, colours, "r", "--epochs", "1", "--no-plots")
    assert main(["train", "classify", "--resume", str(run), "--epochs", "2", "--no-progress"]) == 0
    assert [r["epoch"] for r in _rows(run)] == [1, 2]


@pytest.mark.xdist_group("classify-e2e")
def test_distillation_and_mixing(trained: Path, colours: Path, tmp_path: Path) -> None:
    run = _train(
        tmp_path, colours, "student", "--epochs", "1", "--no-plots", "--teacher", str(trained),
        "--distill-alpha", "0.7", "--mixup", "0.4", "--cutmix", "1.0", "--augment", "hflip=0", "rotate=10",
    )  # fmt: skip
    row = _rows(run)[0]
    assert row["train/distill"] >= 0 and row["train/label"] > 0
    assert row["train/loss"] == pytest.approx(0.3 * row["train/label"] + 0.7 * row["train/distill"], rel=1e-4)
    assert json.loads((run / "config.json").read_text())["data"]["augment"]["rotate"] == 10


@pytest.mark.xdist_group("classify-e2e")
def test_teacher_must_fit_the_data(trained: Path, colours: Path, tmp_path: Path, capsys) -> None:
    base = ["train", "classify", "--data", str(colours), "--project", str(tmp_path), *TINY, "--teacher"]
    capsys.readouterr()
    assert main([*base, str(trained), "--imgsz", "24"]) == 2
    assert "--teacher" in capsys.readouterr().err and not (tmp_path / "classify").exists()


def test_imbalance_options_reach_the_data_and_the_loss(colours: Path) -> None:
    from cutkit.train.classify import ClassifyConfig, ClassifyTask

    task = ClassifyTask(
        ClassifyConfig(data=str(colours), sampler="weighted", class_weights="1,2,3", loss="focal")
    )
    data = task.data(seed=1)
    assert data.weights is not None and len(data.weights) == len(data.train)
    assert task.criterion.kind == "focal" and task.criterion.weight.tolist() == [1, 2, 3]
    assert data.record["class_weights"] == [1, 2, 3]
    sample = data.train[0]
    assert sample["image"].shape == (16, 16, 3) and sample["image"].dtype == np.uint8


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--model", "resnet81"], "did you mean 'resnet18'"),
        (["--no-aug", "--augment", "hflip=0"], "contradict"),
        (["--augment", "hflip=2"], "hflip"),
        (["--class-weights", "1,2"], "3 non-negative weights"),
        (["--mean", "0.5"], "go together"),
        (["--model-args", "num_classes=4"], "set by the data"),
        (["--label-smoothing", "1"], "label-smoothing"),
    ],
)
def test_bad_options_are_clear_errors(
    colours: Path, tmp_path: Path, capsys, flags: list[str], message: str
) -> None:
    argv = ["train", "classify", "--data", str(colours), "--project", str(tmp_path), *TINY, *flags]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "classify").exists()


@pytest.mark.xdist_group("mnist-epoch")
def test_one_epoch_of_full_mnist_reaches_98_percent(tmp_path: Path, capsys) -> None:
    """The CI target: simple-cnn, one epoch on the 60k MNIST training images, ≥ 98 % on the 10k test set."""
    shared = find_shared()
    mnist = shared / "data" / "classification" / "mnist" if shared else None
    if mnist is None or not mnist.is_dir():
        pytest.skip("shared/data/classification/mnist not found")
    start = time.perf_counter()
    assert main([
        "train", "classify", "--data", str(mnist), "--model", "simple-cnn", "--epochs", "1", "--batch", "64",
        "--lr", "2e-3", "--warmup-epochs", "0.1", "--no-aug", "--val-fraction", "0", "--no-progress",
        "--no-tensorboard", "--no-plots", "--project", str(tmp_path), "--name", "mnist",
    ]) == 0  # fmt: skip
    capsys.readouterr()
    run = tmp_path / "classify" / "mnist"
    argv = [
        "eval",
        "--task",
        "classify",
        "--model",
        str(run),
        "--data",
        str(mnist),
        "--json",
        "--batch-size",
        "500",
    ]
    assert main([*argv, "-o", str(tmp_path / "ev")]) == 0
    summary = json.loads(capsys.readouterr().out)
    elapsed = time.perf_counter() - start
    print(f"MNIST one epoch: test accuracy {summary['accuracy']:.4f} in {elapsed:.1f} s")
    assert summary["count"] == 10_000
    assert summary["accuracy"] >= 0.98
