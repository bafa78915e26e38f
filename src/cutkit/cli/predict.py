"""``cutkit predict --model RUN IMAGE... [--top-k K] [--json]``: the most probable classes of each image.

``RUN`` is a classification run folder, or the ``.onnx`` file ``cutkit export RUN`` wrote (fp32 or int8),
which runs on ONNX Runtime.

Prints one line per image, ``path  label (probability), ...`` best first, or with ``--json`` a list of
``{"image": path, "top": [{"label": ..., "probability": ...}, ...]}``. An unreadable image is reported on
stderr and the others are still labelled; the exit code is then 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cutkit.cli.main import CliError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files, folders or glob patterns")
    parser.add_argument(
        "-m",
        "--model",
        required=True,
        metavar="RUN",
        help="a trained classifier: its run folder or model.json, or its exported .onnx file",
    )
    parser.add_argument("-k", "--top-k", type=int, default=5, help="classes shown per image (default: 5)")
    parser.add_argument("--json", action="store_true", help="print the predictions as JSON on stdout")
    parser.add_argument("--batch-size", type=int, default=32, help="images per network call (default: 32)")
    parser.add_argument(
        "--device", default="auto", help="auto (CUDA when available), cpu, cuda or cuda:N (default: auto)"
    )


def run(args: argparse.Namespace) -> int:
    if args.top_k < 1 or args.batch_size < 1:
        raise CliError("--top-k and --batch-size must be at least 1")
    classifier = load(args.model, args.device)
    try:
        from cutkit.io.paths import expand_inputs

        paths = [p for p, _base in expand_inputs(args.images)]
    except FileNotFoundError as exc:
        raise CliError(str(exc)) from exc
    if not paths:
        raise CliError(f"no images found in {', '.join(args.images)}")
    results, failed = predict_paths(classifier, paths, top_k=args.top_k, batch_size=args.batch_size)
    _report(results, as_json=args.json)
    print(f"{len(results)} image(s) labelled, {failed} failed, model {args.model}", file=sys.stderr)
    return 1 if failed else 0


def load(model: str, device: str) -> Any:
    """The :class:`~cutkit.engine.classify.Classifier` of ``model`` on ``device``; errors are ``CliError``."""
    from cutkit.engine.classify import Classifier
    from cutkit.engine.device import DeviceError, resolve_device
    from cutkit.zoo.classifier import ClassifierError

    try:
        return Classifier.from_run(model, device=resolve_device(device))
    except (ClassifierError, DeviceError) as exc:
        raise CliError(str(exc)) from exc


def predict_paths(
    classifier: Any, paths: list[Path], *, top_k: int, batch_size: int
) -> tuple[list[dict[str, Any]], int]:
    """``(results, failures)``: each readable image's top-k; unreadable ones are reported on stderr."""
    from cutkit.engine.classify import read_image
    from cutkit.io.image import ImageError

    results: list[dict[str, Any]] = []
    failed = 0
    for start in range(0, len(paths), batch_size):
        chunk, images = [], []
        for path in paths[start : start + batch_size]:
            try:
                images.append(read_image(path))
                chunk.append(path)
            except ImageError as exc:
                print(f"error: {exc}", file=sys.stderr)
                failed += 1
        if images:
            for path, top in zip(chunk, classifier.predict(images, top_k=top_k), strict=True):
                results.append({"image": str(path), "top": [{"label": n, "probability": p} for n, p in top]})
    return results, failed


def _report(results: list[dict[str, Any]], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(results, indent=2))
        return
    for item in results:
        shown = ", ".join(f"{t['label']} ({t['probability']:.3f})" for t in item["top"])
        print(f"{item['image']}  {shown}")
