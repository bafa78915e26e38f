"""``cutkit explain --model RUN IMAGE... --method gradcam|gradcam++|saliency -o DIR``: why a net decided.

Writes ``<stem>.<method>.png`` per image into DIR: the heatmap over the photo at its own size, and prints the
explained class with its probability.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cutkit.cli.main import CliError

METHOD_NAMES = ("gradcam", "gradcam++", "saliency")  # the keys of cutkit.explain.METHODS (checked in tests)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files or folders of images")
    parser.add_argument("--model", required=True, metavar="RUN", help="a trained classifier: its run folder")
    parser.add_argument("--method", default="gradcam", choices=METHOD_NAMES, help="default: gradcam")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for the overlays")
    parser.add_argument("--target", help="class to explain, by name or index (default: the predicted one)")
    parser.add_argument(
        "--alpha", type=float, default=0.5, help="heatmap opacity in the overlay (default: 0.5)"
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default: cpu)")


def run(args: argparse.Namespace) -> int:
    from cutkit.engine.classify import Classifier
    from cutkit.zoo.classifier import ClassifierError

    if not 0 <= args.alpha <= 1:
        raise CliError(f"--alpha must be in [0, 1], got {args.alpha}")
    paths = _image_paths(args.images)
    if Path(args.model).suffix.lower() == ".onnx":
        raise CliError(
            f"{args.model}: explanations need the PyTorch network's gradients; give the run folder the ONNX "
            "file was exported from"
        )
    try:
        clf = Classifier.from_run(args.model, device=_device(args.device))
    except ClassifierError as exc:
        raise CliError(str(exc)) from exc
    target = _target(args.target, clf.spec.classes)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path in paths:
        failed += not _explain_one(clf, path, args.method, target, args.alpha, out)
    print(f"explained {len(paths) - failed}/{len(paths)} image(s) with {args.method} → {out}")
    return 1 if failed else 0


def _explain_one(clf: Any, path: Path, method: str, target: int | None, alpha: float, out: Path) -> bool:
    """Explain one image and write its overlay; an unreadable image is reported and skipped."""
    from cutkit.engine.classify import read_image, to_input
    from cutkit.explain import explain, overlay
    from cutkit.io.image import ImageError, write_atomic

    try:
        image = read_image(path)
    except ImageError as exc:
        print(f"error: {path}: {exc}", flush=True)
        return False
    x = to_input(clf.batch([image]), clf.spec.mean, clf.spec.std, clf.device)
    result = explain(clf.net, x, method=method, target=target)
    label, prob = clf.spec.classes[int(result.targets[0])], float(result.probs[0])
    dest = out / f"{path.stem}.{method}.png"
    write_atomic(dest, _png(overlay(image, result.maps[0].numpy(), alpha=alpha)))
    print(f"{path}: {label} ({prob:.3f}) → {dest}", flush=True)
    return True


def _png(rgb: Any) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def _image_paths(items: list[str]) -> list[Path]:
    from cutkit.io.paths import list_images

    paths: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = list_images(p)
            if not found:
                raise CliError(f"{p}: no images in this folder")
            paths += found
        elif p.is_file():
            paths.append(p)
        else:
            raise CliError(f"{p}: no such image file or folder")
    return paths


def _target(value: str | None, classes: tuple[str, ...]) -> int | None:
    """A class given by name or index."""
    from cutkit._util.suggest import unknown

    if value is None:
        return None
    if value in classes:
        return classes.index(value)
    if value.isdigit() and int(value) < len(classes):
        return int(value)
    raise CliError(unknown("class", value, classes))


def _device(name: str) -> str:
    from cutkit.engine.device import DeviceError, resolve_device

    try:
        return str(resolve_device(name))
    except DeviceError as exc:
        raise CliError(str(exc)) from exc
