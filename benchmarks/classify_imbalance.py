"""Class imbalance on MNIST: classes 0-4 cut to 2 % of their size, one row per imbalance option.

Writes a training set made of MNIST's digits 5-9 (all of them) and 2 % of its digits 0-4 (drawn with a fixed
seed) as IDX files, trains ``simple-cnn`` on it once per option with ``cutkit train classify`` (same seed,
same budget), scores each run on MNIST's full, balanced 10,000 test digits with ``cutkit eval --task
classify``, and writes macro-F1, accuracy and the mean recall of the rare classes 0-4 as a section of
``docs/benchmarks.md``. Each command runs as a subprocess, exactly as a user would type it.

    .venv/bin/python benchmarks/classify_imbalance.py                        # 3 epochs a row: minutes
    .venv/bin/python benchmarks/classify_imbalance.py --per-class 300 --epochs 1 --out /tmp/b.md  # smoke run
"""

from __future__ import annotations

import argparse
import json
import shlex
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sections import machine_line, write_section

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Class imbalance on MNIST (`benchmarks/classify_imbalance.py`)"
RARE = tuple(range(5))
RECIPE = (
    "--model", "simple-cnn", "--batch", "128", "--lr", "2e-3", "--warmup-epochs", "0.3",
    "--augment", "hflip=0", "crop_padding=2", "rotate=8", "--val-fraction", "0",
)  # fmt: skip
ROWS: dict[str, tuple[str, ...]] = {
    "cross-entropy (plain)": (),
    "`--class-weights auto`": ("--class-weights", "auto"),
    "`--sampler weighted`": ("--sampler", "weighted"),
    "`--loss focal`": ("--loss", "focal"),
    "`--loss focal --class-weights auto`": ("--loss", "focal", "--class-weights", "auto"),
    "`--label-smoothing 0.1`": ("--label-smoothing", "0.1"),
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, help="MNIST folder (default: shared/data/classification/mnist)")
    p.add_argument("--epochs", type=int, default=3, help="training epochs of every row (default: 3)")
    p.add_argument("--seed", type=int, default=0, help="seed of the subset and of training (default: 0)")
    p.add_argument("--rare-share", type=float, default=0.02, help="share of digits 0-4 kept (default: 0.02)")
    p.add_argument(
        "--per-class", type=int, help="at most this many digits of each class before the cut (smoke runs)"
    )
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


def write_idx(path: Path, array: np.ndarray) -> None:
    """An uint8 array as an (uncompressed) IDX file, the format MNIST ships in."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def imbalanced_mnist(mnist: Path, root: Path, args: argparse.Namespace) -> np.ndarray:
    """Write the cut training set (and links to the test files) into ``root``; its count per class."""
    from cutkit.data.classify.idx import read_idx

    images = read_idx(mnist / "train-images-idx3-ubyte.gz")
    labels = read_idx(mnist / "train-labels-idx1-ubyte.gz")
    rng = np.random.default_rng(args.seed)
    keep = []
    for c in range(10):
        pool = rng.permutation(np.flatnonzero(labels == c))[: args.per_class]
        n = max(1, round(len(pool) * args.rare_share)) if c in RARE else len(pool)
        keep.append(pool[:n])
    idx = np.sort(np.concatenate(keep))
    write_idx(root / "train-images-idx3-ubyte", images[idx])
    write_idx(root / "train-labels-idx1-ubyte", labels[idx])
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (root / name).symlink_to(mnist.resolve() / name)
    return np.bincount(labels[idx], minlength=10)


def run_row(data: Path, project: Path, name: str, common: list[str], options: Sequence[str]) -> dict:
    """Train one row's run and score it on the test set: the eval summary plus the training seconds."""
    start = time.perf_counter()
    cutkit("train", "classify", *common, *options, "--project", str(project), "--name", name, "--no-progress")
    seconds = time.perf_counter() - start
    run, out = project / "classify" / name, project / "eval" / name
    summary = json.loads(
        cutkit("eval", "--task", "classify", "--model", str(run), "--data", str(data), "--json",
               "--batch-size", "500", "-o", str(out))
    )  # fmt: skip
    summary["rare_recall"] = float(np.mean([summary["per_class"][str(c)]["recall"] for c in RARE]))
    summary["seconds"] = seconds
    return summary


def table(results: dict[str, dict]) -> str:
    lines = [
        "| loss / sampling | macro F1 | accuracy | mean recall of 0-4 | training wall time |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, m in results.items():
        lines.append(
            f"| {label} | {m['macro_f1']:.4f} | {100 * m['accuracy']:.2f} % | "
            f"{100 * m['rare_recall']:.1f} % | {m['seconds']:.0f} s |"
        )
    return "\n".join(lines)


def section(counts: np.ndarray, shown: list[str], results: dict[str, dict], command: str) -> str:
    rare, common = int(counts[list(RARE)].sum()), int(counts[5:].sum())
    return "\n\n".join(
        [
            SECTION,
            machine_line(),
            f"```\n{command}\n```",
            f"Training set: MNIST's digits 5-9 ({common:,} images) and {rare:,} digits 0-4 "
            f"(per class {', '.join(str(int(n)) for n in counts[:5])}). Every row trains with the same seed "
            "and budget, the last epoch is scored on MNIST's 10,000 test digits (about 1,000 a class):",
            f"```\ncutkit train classify {shlex.join(shown)} [OPTIONS OF THE ROW]\n"
            "cutkit eval --task classify --model RUN --data MNIST-CUT/ --json\n```",
            table(results),
            "Macro F1 averages the ten classes' F1 with equal weight, so a model that rarely predicts the "
            "rare digits loses there while its accuracy still looks fair.",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    mnist = mnist_folder(args.data)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data, project = Path(tmp) / "mnist-cut", Path(tmp) / "runs"
        data.mkdir()
        counts = imbalanced_mnist(mnist, data, args)
        common = ["--data", str(data), "--epochs", str(args.epochs), "--seed", str(args.seed), *RECIPE]
        for i, (label, options) in enumerate(ROWS.items()):
            results[label] = run_row(data, project, f"row{i}", common, options)
            print(f"{label}: macro-F1 {results[label]['macro_f1']:.4f}", flush=True)
    given = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join([".venv/bin/python", "benchmarks/classify_imbalance.py", *given])
    shown = [a if a != str(data) else "MNIST-CUT/" for a in common]
    text = section(counts, shown, results, command)
    write_section(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
