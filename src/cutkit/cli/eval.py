"""``cutkit eval --model NAME --data DIR``: salient-object metrics of a model on image/mask pairs.

``--task classify`` evaluates a trained classifier instead (see :mod:`cutkit.cli.eval_classify`).

Writes ``per_image.csv``, ``summary.json`` and ``pr_curve.png`` to ``runs/eval/<model>-<data>[N]/`` (or
``-o OUT``) and prints a table, or with ``--json`` only the summary as JSON. The metrics follow
pysodmetrics (see :mod:`cutkit.metrics.salient`); each mask is used at its own size, the prediction is
resized to it, as the usual evaluation toolkits do.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cutkit import options as opt
from cutkit.cli.main import CliError
from cutkit.io.paths import increment_path

if TYPE_CHECKING:
    from cutkit.data.pairs import Pair
    from cutkit.metrics.salient import SalientMetrics

DEFAULT_RUNS_DIR = Path("runs") / "eval"
# Of the removal options only those that choose and run the model apply, and those that turn its output into
# the alpha (so `cutkit eval` measures them): no compositing, no post-process.
_EVALUATED = ("batch_size", "resize", "upsample")
_SKIP = tuple(o.name for o in opt.REMOVE_OPTIONS if o.group != "model" and o.name not in _EVALUATED)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--task",
        choices=("salient", "classify"),
        default="salient",
        help="salient (image/mask pairs, the default) or classify (labelled images: accuracy, F1, confusion)",
    )
    parser.add_argument(
        "--data",
        required=True,
        metavar="DIR",
        help="image/mask pairs: a folder (images/ + masks/, …) or a list; with --task classify an MNIST or "
        "CIFAR-10 folder, an image-folder tree or a path,label CSV",
    )
    parser.add_argument(
        "--split",
        default=None,
        help="with --task classify: the split of --data to evaluate (default: test)",
    )
    parser.add_argument("--json", action="store_true", help="print only the summary, as JSON, on stdout")
    parser.add_argument("--save-maps", metavar="DIR", help="also write each predicted map as <stem>.png")
    parser.add_argument(
        "-o", "--output", metavar="OUT", help=f"results folder (default: {DEFAULT_RUNS_DIR}/<model>-<data>)"
    )
    opt.add_to_parser(parser, skip=_SKIP)


def run(args: argparse.Namespace) -> int:
    if args.task == "classify":
        from cutkit.cli import eval_classify

        return eval_classify.run(args)
    if args.split is not None:
        raise CliError("--split applies to --task classify only")
    try:
        options = opt.from_namespace(args)
    except (TypeError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    if importlib.util.find_spec("matplotlib") is None:
        raise CliError("cutkit eval draws pr_curve.png with matplotlib: pip install 'cutkit[train]'")
    pairs = _find_pairs(args.data)

    from cutkit.cli.remove import load_remover

    remover = load_remover(options)
    model = options.model or remover.spec.name
    out = Path(args.output) if args.output else increment_path(DEFAULT_RUNS_DIR / run_name(model, args.data))
    metrics = evaluate(remover, pairs, options, save_maps=Path(args.save_maps) if args.save_maps else None)
    summary = {**metrics.summary(), "images": len(metrics), "model": model, "data": str(args.data)}
    write_results(out, metrics, summary, label=model)
    _report(summary, out, as_json=args.json)
    return 0


def _find_pairs(data: str) -> list[Pair]:
    from cutkit.data.pairs import DataError, find_pairs

    try:
        return find_pairs(data)
    except DataError as exc:
        raise CliError(f"--data: {exc}") from exc  # the message names the file or folder


def run_name(model: str, data: str) -> str:
    """``<model>-<data folder>``, every character but letters, digits and ``._-`` replaced by ``_``."""
    model_name = Path(model).name.removesuffix(".onnx")
    data_path = Path(data).resolve()
    data_name = data_path.stem if data_path.is_file() else data_path.name
    return re.sub(r"[^A-Za-z0-9._-]+", "_", f"{model_name}-{data_name}")


def evaluate(
    remover: Any, pairs: list[Pair], options: opt.RemoveOptions, *, save_maps: Path | None
) -> SalientMetrics:
    """Run the model over ``pairs`` ``batch_size`` images at a time and accumulate the metrics."""
    from tqdm import tqdm

    from cutkit.metrics.salient import SalientMetrics

    metrics = SalientMetrics()
    with tqdm(total=len(pairs), unit="img", file=sys.stderr, desc="eval") as bar:
        for start in range(0, len(pairs), options.batch_size):
            chunk = pairs[start : start + options.batch_size]
            alphas = remover.alpha_batch([_read(p.image, image=True) for p in chunk], options)
            for pair, alpha in zip(chunk, alphas, strict=True):
                metrics.update(alpha, _read(pair.mask, image=False), name=pair.stem)
                if save_maps is not None:
                    _save_map(save_maps / f"{pair.stem}.png", alpha)
            bar.update(len(chunk))
    return metrics


def _read(path: Path, *, image: bool) -> np.ndarray:
    """An image (RGB uint8) or a mask (float in [0, 1], at its own size); a bad file is a ``CliError``."""
    from cutkit.data.pairs import DataError, read_image, read_mask

    try:
        return read_image(path) if image else read_mask(path)
    except DataError as exc:
        raise CliError(str(exc)) from exc


def _save_map(path: Path, alpha: np.ndarray) -> None:
    from PIL import Image

    from cutkit.io.image import encode, write_atomic

    write_atomic(path, encode(Image.fromarray(alpha), "png"))


def write_results(out: Path, metrics: SalientMetrics, summary: dict[str, Any], *, label: str) -> None:
    """``per_image.csv``, ``summary.json`` and ``pr_curve.png`` in ``out`` (created)."""
    from cutkit.io.image import write_atomic
    from cutkit.metrics.salient import SUMMARY_KEYS, plot_pr_curve

    out.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["name", *SUMMARY_KEYS], lineterminator="\n")
    writer.writeheader()
    writer.writerows(metrics.per_image())
    write_atomic(out / "per_image.csv", buf.getvalue().encode())
    write_atomic(out / "summary.json", (json.dumps(summary, indent=2) + "\n").encode())
    precision, recall, _ = metrics.pr_curve()
    plot_pr_curve(precision, recall, out / "pr_curve.png", label=label)


def _report(summary: dict[str, Any], out: Path, *, as_json: bool) -> None:
    from cutkit.metrics.salient import SUMMARY_KEYS

    if as_json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{'metric':<12}value")
    for key in SUMMARY_KEYS:
        print(f"{key:<12}{summary[key]:.4f}")
    done = f"{summary['images']} image(s), model {summary['model']}, data {summary['data']}"
    print(f"{done} → {out}", file=sys.stderr)
