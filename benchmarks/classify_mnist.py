"""MNIST with the textbook ``simple-cnn``: train on the full training set, score the 10,000 test digits.

Runs ``cutkit train classify`` (57,000 training digits, 3,000 held out to pick the best epoch) and then
``cutkit eval --task classify`` on the test set, each as a subprocess, and writes the recipe, the wall time
and the test metrics as a section of ``docs/benchmarks.md``. Issue #7's target: at least 99.3 % test accuracy.

    .venv/bin/python benchmarks/classify_mnist.py                         # 12 epochs: minutes on 2 cores
    .venv/bin/python benchmarks/classify_mnist.py --epochs 1 --out /tmp/b.md   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sections import machine_line, write_section

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## MNIST with `simple-cnn` (`benchmarks/classify_mnist.py`)"
TARGET = 0.993
RECIPE = (
    "--model", "simple-cnn", "--batch", "128", "--lr", "2e-3", "--warmup-epochs", "0.3",
    "--augment", "hflip=0", "crop_padding=2", "rotate=8", "--val-fraction", "0.05",
)  # fmt: skip


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, help="MNIST folder (default: shared/data/classification/mnist)")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="Markdown file to write")
    return p.parse_args(argv)


def mnist_folder(given: Path | None) -> Path:
    tail = Path("shared", "data", "classification", "mnist")
    for folder in [given] if given else [ROOT / tail, ROOT.parent / tail]:
        if folder is not None and (folder / "train-images-idx3-ubyte.gz").is_file():
            return folder
    raise SystemExit("MNIST was not found: pass --data FOLDER")


def cutkit(*args: str) -> str:
    """Run ``cutkit ARGS`` with this interpreter; its stdout, or exit with its stderr."""
    done = subprocess.run([sys.executable, "-m", "cutkit", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"cutkit {shlex.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def section(train_args: list[str], seconds: float, metrics: dict, command: str) -> str:
    verdict = "met" if metrics["accuracy"] >= TARGET else "**not met**"
    return "\n\n".join(
        [
            SECTION,
            machine_line(),
            f"```\n{command}\n```",
            f"```\ncutkit train classify {shlex.join(train_args)}\n"
            "cutkit eval --task classify --model RUN --data MNIST/\n```",
            "| test accuracy | top-5 | macro F1 | training wall time |\n|---:|---:|---:|---:|\n"
            f"| {100 * metrics['accuracy']:.2f} % | {100 * metrics['top5']:.2f} % | "
            f"{metrics['macro_f1']:.4f} | {seconds / 60:.1f} min |",
            f"Target, at least {100 * TARGET:.1f} % test accuracy: {verdict}. The best epoch on the 3,000 "
            "held-out training digits is the one exported and scored on the 10,000 test digits.",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    data = mnist_folder(args.data)
    with tempfile.TemporaryDirectory() as project:
        train_args = ["--data", str(data), "--epochs", str(args.epochs), *RECIPE]
        start = time.perf_counter()
        cutkit("train", "classify", *train_args, "--project", project, "--name", "mnist", "--no-progress")
        seconds = time.perf_counter() - start
        run = Path(project) / "classify" / "mnist"
        metrics = json.loads(
            cutkit("eval", "--task", "classify", "--model", str(run), "--data", str(data), "--json")
        )
    given = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join([".venv/bin/python", "benchmarks/classify_mnist.py", *given])
    shown = [a if a != str(data) else "MNIST/" for a in train_args]
    text = section(shown, seconds, metrics, command)
    write_section(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
