"""``cutkit models``: the zoo as a table."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    rows = model_rows()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    cols = ["name", "arch", "input", "params", "licence", "task", "weights"]
    rows = [{**r, "name": r["name"] + (" *" if r["default"] else "")} for r in rows]
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    print("  ".join(c.upper().ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(str(r[c]).ljust(widths[c]) for c in cols))
    print("\n* default model. Weights are looked up in $CUTKIT_HOME (and rembg's ~/.u2net for .onnx models).")
    return 0


def model_rows() -> list[dict[str, object]]:
    from cutkit.zoo.registry import default_model, list_specs, rembg_cache_dirs
    from cutkit.zoo.weights import find_local

    rows = []
    for spec in list_specs():
        extra = rembg_cache_dirs() if spec.arch == "onnx" else []
        local = find_local(spec.weights, extra)
        rows.append(
            {
                "name": spec.name,
                "default": spec.name == default_model(),
                "arch": spec.arch,
                "input": f"{spec.input_size[1]}x{spec.input_size[0]}",
                "params": _param_text(spec),
                "licence": spec.licence,
                "task": spec.task,
                "weights": str(local) if local else f"missing ({spec.weights.filename})",
            }
        )
    return rows


def _param_text(spec) -> str:  # a ModelSpec
    if spec.arch == "onnx":
        return "-"
    import torch

    from cutkit.nets import build_net

    with torch.device("meta"):  # shapes only: no memory, no init cost
        net = build_net(spec.arch, **spec.arch_kwargs)
    count = sum(p.numel() for p in net.parameters())
    return f"{count / 1e6:.2f}M" if count >= 1e5 else f"{count / 1e3:.1f}k"
