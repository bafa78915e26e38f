"""``cutkit eval --task classify --model RUN --data SOURCE [--split test] [--json]``: a classifier's metrics.

Writes ``summary.json`` (accuracy, top5, macro and micro precision/recall/F1, per_class), ``per_class.csv``,
``confusion_matrix.csv`` and ``confusion_matrix.png`` to ``runs/eval/<model>-<data>[N]/`` (or ``-o OUT``),
and prints a table, or with ``--json`` the summary as JSON.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

from cutkit.cli.main import CliError

DEFAULT_BATCH = 64
# The removal options that mean something for a classifier; any other one given is an error, not ignored.
APPLIES = ("model", "device", "batch_size")


def run(args: argparse.Namespace) -> int:
    _check_args(args)
    from cutkit.cli.predict import load

    classifier = load(args.model, args.device or "auto")
    data = _open(args.data, args.split or "test", classifier.spec)
    metrics = evaluate(classifier, data, batch_size=int(args.batch_size or DEFAULT_BATCH))
    from cutkit.cli.eval import DEFAULT_RUNS_DIR, run_name
    from cutkit.io.paths import increment_path

    out = (
        Path(args.output)
        if args.output
        else increment_path(DEFAULT_RUNS_DIR / run_name(args.model, args.data))
    )
    report = metrics.report(list(classifier.spec.classes))
    summary = {**report, "model": args.model, "data": str(args.data), "split": data.split or "whole"}
    write_results(out, metrics, summary)
    _print(summary, out, as_json=args.json)
    return 0


def _check_args(args: argparse.Namespace) -> None:
    from cutkit import options as opt

    if not args.model:
        raise CliError("--task classify needs --model RUN: a classifier's run folder or its exported .onnx")
    given = [o.cli_flag for o in opt.REMOVE_OPTIONS if o.name not in APPLIES and getattr(args, o.name, None)]
    if args.save_maps:
        given.append("--save-maps")
    if given:
        raise CliError(
            f"{given[0]} does not apply to --task classify (it takes --model, --device, --batch-size)"
        )


def _open(data: str, split: str, spec: Any) -> Any:
    """The labelled images, their labels mapped to the model's classes by name."""
    from cutkit.data.classify import DataError, open_classification

    try:
        return open_classification(data, split, classes=list(spec.classes), channels=spec.in_channels)
    except (DataError, ValueError) as exc:
        raise CliError(f"--data: {exc}") from exc


def evaluate(classifier: Any, data: Any, *, batch_size: int) -> Any:
    """Run ``classifier`` over every sample of ``data``; returns the filled ``ClassificationMetrics``."""
    from tqdm import tqdm

    from cutkit.metrics.classify import ClassificationMetrics

    metrics = ClassificationMetrics(len(classifier.spec.classes), top_k=5)
    with tqdm(total=len(data), unit="img", file=sys.stderr, desc="eval") as bar:
        for start in range(0, len(data), batch_size):
            samples = [data[i] for i in range(start, min(start + batch_size, len(data)))]
            metrics.update(classifier.logits([s["image"] for s in samples]), [s["label"] for s in samples])
            bar.update(len(samples))
    return metrics


def write_results(out: Path, metrics: Any, summary: dict[str, Any]) -> None:
    """``summary.json``, ``per_class.csv``, ``confusion_matrix.csv`` and ``.png`` in ``out`` (created)."""
    from cutkit.io.image import write_atomic
    from cutkit.metrics.classify import confusion_csv
    from cutkit.metrics.confusion_plot import plot_confusion

    out.mkdir(parents=True, exist_ok=True)
    classes = summary["classes"]
    write_atomic(out / "summary.json", (json.dumps(summary, indent=2) + "\n").encode())
    write_atomic(out / "confusion_matrix.csv", confusion_csv(metrics.confusion, classes).encode())
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["class", "precision", "recall", "f1", "support"])
    for name, row in summary["per_class"].items():
        writer.writerow([name, *(f"{row[k]:.6f}" for k in ("precision", "recall", "f1")), row["support"]])
    write_atomic(out / "per_class.csv", buf.getvalue().encode())
    plot_confusion(metrics.confusion, classes, out / "confusion_matrix.png", title=f"{summary['model']}")


def _print(summary: dict[str, Any], out: Path, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{'class':<16}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
    for name, row in summary["per_class"].items():
        print(
            f"{name[:15]:<16}{row['precision']:>10.4f}{row['recall']:>10.4f}{row['f1']:>10.4f}{row['support']:>9}"
        )
    for key in ("accuracy", "top5", "macro_f1", "micro_f1", "weighted_f1"):
        print(f"{key:<16}{summary[key]:>10.4f}")
    done = (
        f"{summary['count']} image(s), model {summary['model']}, data {summary['data']} ({summary['split']})"
    )
    print(f"{done} → {out}", file=sys.stderr)
