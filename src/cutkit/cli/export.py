"""``cutkit export MODEL -o model.onnx [--int8 --calib DIR]``.

MODEL is a zoo model, or a trained classifier's run folder: its ONNX file takes the normalised input and
returns logits, and ``--int8`` calibrates on ``--calib`` (classification data) or, by default, on the run's
own training data.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cutkit.cli.main import CliError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model", help="zoo model name (see `cutkit models`) or a trained classifier's run folder"
    )
    parser.add_argument("--weights", help="weight file (default: cache/download)")
    parser.add_argument("-o", "--output", required=True, help="the .onnx file to write")
    parser.add_argument("--int8", action="store_true", help="static int8 quantization (needs --calib)")
    parser.add_argument(
        "--calib",
        help="folder of images to calibrate int8 quantization on (a classifier: classification data; "
        "default: its run's training data)",
    )
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (default: 17)")
    parser.add_argument("--static", action="store_true", help="fixed batch 1 and input size, no dynamic axes")


def run(args: argparse.Namespace) -> int:
    from cutkit.engine.export import export_onnx, quantize_int8
    from cutkit.zoo.classifier import is_classifier
    from cutkit.zoo.registry import get_spec
    from cutkit.zoo.weights import WeightsError, resolve_weights

    if is_classifier(args.model):
        from cutkit.cli._export_classifier import export_classifier

        return export_classifier(args)
    if args.int8 and not args.calib:
        raise CliError("--int8 needs --calib DIR: a folder of images to calibrate on")
    try:
        spec = get_spec(args.model)
    except KeyError as exc:
        raise CliError(str(exc).strip("'\"")) from exc
    if spec.arch == "onnx":  # checked before resolving weights: no download for a file we cannot export
        raise CliError(f"model '{spec.name}' is already an ONNX file: nothing to export")
    if args.int8 and not Path(args.calib).is_dir():
        raise CliError(f"{args.calib}: calibration folder not found")
    try:
        weights = resolve_weights(spec.weights, explicit=args.weights)
    except WeightsError as exc:
        raise CliError(str(exc)) from exc
    out = Path(args.output)
    try:
        if not args.int8:
            export_onnx(spec, weights, out, opset=args.opset, dynamic=not args.static)
        else:
            fp32 = out.with_name(out.stem + ".fp32.onnx")
            try:
                export_onnx(spec, weights, fp32, opset=args.opset, dynamic=not args.static)
                quantize_int8(fp32, out, spec, Path(args.calib))
            finally:
                fp32.unlink(missing_ok=True)
    except ValueError as exc:  # a checkpoint that does not fit (CheckpointError), no calibration images
        raise CliError(str(exc)) from exc
    print(f"exported {spec.name} → {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0
