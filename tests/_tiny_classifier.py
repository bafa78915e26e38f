"""A tiny classification task and a classifier trained on it with ``cutkit train classify`` (seconds).

The task: 28 × 28 grey noise images; ``bright`` images hold one bright 6 × 6 square at a random place,
``dim`` images a dim one. Written as an image-folder tree ``train/<class>/*.png`` + ``test/<class>/*.png``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SIZE, SQUARE = 28, 6
CLASSES = ("bright", "dim")


def square_image(rng: np.random.Generator, bright: bool) -> tuple[np.ndarray, tuple[int, int]]:
    """One image (HxW uint8) and the top-left corner of its square."""
    image = rng.normal(60, 20, size=(SIZE, SIZE))
    r, c = (int(v) for v in rng.integers(0, SIZE - SQUARE + 1, size=2))
    image[r : r + SQUARE, c : c + SQUARE] += 160 if bright else 50
    return np.clip(image, 0, 255).astype(np.uint8), (r, c)


def write_squares(root: Path, *, train: int = 160, test: int = 60, seed: int = 0) -> Path:
    """The image-folder tree of the task under ``root``; returns ``root``."""
    rng = np.random.default_rng(seed)
    for split, n in (("train", train), ("test", test)):
        for i in range(n):
            label = i % 2
            image, _ = square_image(rng, bright=label == 0)
            folder = root / split / CLASSES[label]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(folder / f"{i:04d}.png")
    return root


def train_run(data: Path, project: Path, *, name: str = "squares", epochs: int = 3) -> Path:
    """Train a narrow ``simple-cnn`` on ``data`` through the CLI; returns the run folder."""
    from cutkit.cli.main import main

    code = main([
        "train", "classify", "--data", str(data), "--model", "simple-cnn", "--model-args", "width=0.5",
        "hidden=32", "--epochs", str(epochs), "--epoch-size", "960", "--batch", "32", "--lr", "3e-3",
        "--no-plots", "--no-tensorboard", "--no-progress", "--project", str(project), "--name", name,
        "--workers", "0", "--device", "cpu",
    ])  # fmt: skip
    assert code == 0, "training the tiny classifier failed"
    return project / "classify" / name


def cached_run(factory: object) -> tuple[Path, Path]:
    """``(data, run)`` trained once per test session (and xdist worker), whichever test module asks first.

    Args:
        factory: pytest's ``tmp_path_factory``.
    """
    root = factory.getbasetemp() / "tiny-classifier"  # type: ignore[attr-defined]
    data, run = root / "data", root / "runs" / "classify" / "squares"
    if not (run / "model.json").is_file():
        write_squares(data)
        train_run(data, root / "runs")
    return data, run
