"""Bundle a trained model's weights into the package (``src/cutkit/zoo/bundled/NAME.safetensors``).

Floating-point tensors are stored as float16, which halves the file; the network still runs in float32
(loading casts them back). The script checks that the float16 copy predicts what the float32 original does
on random inputs, and prints the ``WeightsFile`` fields (size, sha256) and the spec fields to put into
``cutkit/zoo/models.py``.

    python scripts/bundle_model.py /work/runs/salient/duts-cutnet-224-s2 --name cutnet-duts
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from cutkit.nets import build_net
from cutkit.zoo.checkpoint import load_weights
from cutkit.zoo.trained import find_trained
from cutkit.zoo.weights import BUNDLED_DIR, file_digest

# float16 rounding moves a probability by far less than this on natural inputs; more means a broken copy.
MAX_PROB_DIFF = 1e-2


def half_copy(weights: Path, out: Path, source: str) -> None:
    """Write ``weights`` to ``out`` with every floating tensor in float16."""
    from safetensors.torch import load_file, save_file

    tensors = {
        k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in load_file(str(weights)).items()
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out), metadata={"source": source, "dtype": "float16"})


def max_prob_diff(arch: str, arch_kwargs: dict, a: Path, b: Path, size: int) -> float:
    """Largest difference of the sigmoid maps of two weight files on seeded random inputs."""
    torch.manual_seed(0)
    x = torch.randn(2, 3, size, size)
    maps = []
    for weights in (a, b):
        net = load_weights(build_net(arch, **arch_kwargs), weights).eval()
        with torch.no_grad():
            maps.append(torch.sigmoid(net(x)[0]))
    return float((maps[0] - maps[1]).abs().max())


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", help="a trained model: run folder, or folder with model.json + model.safetensors")
    p.add_argument("--name", required=True, help="the zoo name; the file is bundled/NAME.safetensors")
    args = p.parse_args(argv)
    found = find_trained(args.model)
    if found is None:
        print(f"error: {args.model}: no trained model there", file=sys.stderr)
        return 2
    spec, weights = found
    out = BUNDLED_DIR / f"{args.name}.safetensors"
    half_copy(weights, out, source=spec.name)
    diff = max_prob_diff(spec.arch, spec.arch_kwargs, weights, out, spec.input_size[0])
    if diff > MAX_PROB_DIFF:
        out.unlink()
        print(f"error: float16 copy differs by {diff:.4f} (> {MAX_PROB_DIFF}); not bundled", file=sys.stderr)
        return 1
    fields = {
        "filename": out.name,
        "size": out.stat().st_size,
        "sha256": file_digest(out),
        "arch": spec.arch,
        "arch_kwargs": spec.arch_kwargs,
        "input_size": spec.input_size,
        "mean": spec.mean,
        "std": spec.std,
        "max_prob_diff_fp16": round(diff, 6),
    }
    print(json.dumps(fields, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
