"""``cutkit export RUN -o model.onnx [--int8 [--calib DATA]]`` for a trained classifier."""

from __future__ import annotations

import argparse
from pathlib import Path

from cutkit.cli.main import CliError


def export_classifier(args: argparse.Namespace) -> int:
    """Export the classifier ``args.model`` to ``args.output``, int8 when ``args.int8``."""
    from cutkit.compress.quantize import calibration_batches, export_classifier_onnx, quantize_classifier_int8
    from cutkit.zoo.classifier import ClassifierError, find_classifier, load_classifier

    if args.weights:
        raise CliError("--weights is for zoo models; a classifier's run folder holds its weights")
    try:
        net, spec = load_classifier(args.model)
        calib = _calibration_source(args, find_classifier(args.model)[1].parent) if args.int8 else None
    except (ClassifierError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    out = Path(args.output)
    try:
        if calib is None:
            export_classifier_onnx(net, spec, out, opset=args.opset, dynamic=not args.static)
        else:
            fp32 = out.with_name(out.stem + ".fp32.onnx")
            try:
                export_classifier_onnx(net, spec, fp32, opset=args.opset, dynamic=not args.static)
                print(f"calibrating int8 on up to 256 training images of {calib}", flush=True)
                quantize_classifier_int8(
                    fp32, out, calibration_batches(spec, calib, batch=1 if args.static else 32)
                )
            finally:
                fp32.unlink(missing_ok=True)
    except ValueError as exc:  # unreadable calibration data (DataError)
        raise CliError(str(exc)) from exc
    print(f"exported {spec.name} → {out} ({out.stat().st_size / 1e6:.2f} MB{', int8' if calib else ''})")
    return 0


def _calibration_source(args: argparse.Namespace, run_dir: Path) -> str:
    """``--calib``, else the training data the run recorded; said aloud, never guessed."""
    from cutkit.compress.finetune import saved_config

    if args.calib:
        return args.calib
    settings = saved_config(run_dir)
    if settings is None or not settings.get("task", {}).get("data"):
        raise ValueError(f"--int8: {run_dir} records no training data (config.json); give --calib DATA")
    return str(settings["task"]["data"])
