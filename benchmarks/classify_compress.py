"""Size, CPU latency and accuracy of a trained classifier and its compressed variants.

From one classification run: the fp32 network, magnitude pruning and channel pruning (each followed by
``--epochs`` of fine-tuning with ``cutkit prune``), ONNX Runtime fp32 and int8 (``cutkit export --int8``,
calibrated on the run's training data), int8 of the channel-pruned network, and any further runs given
with ``--extra LABEL=RUN`` (a student distilled with ``cutkit train classify --teacher RUN``, say). Each is
timed at batch 1 on ``--threads`` CPU threads (median of ``--runs``) and scored on the test split of
``--data``. The section goes into ``docs/benchmarks.md``; pruned runs and ONNX files go to ``--work``.

    .venv/bin/python benchmarks/classify_compress.py --model runs/classify/mnist \\
        --data ../shared/data/classification/mnist
    .venv/bin/python benchmarks/classify_compress.py --model RUN --data DATA --epochs 0 --limit 200 \\
        --runs 5 --out /tmp/b.md                                            # a smoke run
"""

from __future__ import annotations

import argparse
import gzip
import shlex
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sections import machine_line, write_section

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Classifier compression (`benchmarks/classify_compress.py`)"


@dataclass
class Row:
    variant: str
    params: int
    nonzero: int
    size: int  # bytes of the file inference loads
    gz: int  # bytes of that file gzip-compressed (what unstructured sparsity saves)
    ms: float
    accuracy: float


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, required=True, help="a trained classifier's run folder")
    p.add_argument("--data", required=True, help="classification data whose test split is scored")
    p.add_argument("--amount", type=float, default=0.5, help="pruning amount of both methods (default 0.5)")
    p.add_argument("--epochs", type=int, default=2, help="fine-tuning epochs after pruning (default 2)")
    p.add_argument("--extra", action="append", default=[], metavar="LABEL=RUN", help="more runs to measure")
    p.add_argument("--limit", type=int, help="score only the first N test images")
    p.add_argument("--runs", type=int, default=50, help="timed batch-1 runs per variant (median)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads of torch and ONNX Runtime (default 1)")
    p.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "_work" / "classify_compress")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="Markdown file to write")
    return p.parse_args(argv)


def cli(*argv: str) -> None:
    from cutkit.cli.main import main

    print("$ cutkit " + shlex.join(argv), flush=True)
    if main(list(argv)) != 0:
        raise SystemExit(f"cutkit {argv[0]} failed")


def make_variants(args: argparse.Namespace) -> dict[str, Path]:
    """Prune and export; returns variant label → run folder or ONNX file."""
    if args.work.exists():
        shutil.rmtree(args.work)
    runs = args.work / "runs"
    pct = round(args.amount * 100)
    common = (
        "--amount",
        str(args.amount),
        "--epochs",
        str(args.epochs),
        "--project",
        str(runs),
        "--no-progress",
    )
    cli("prune", "--model", str(args.model), "--method", "magnitude", "-n", "magnitude", *common)
    cli("prune", "--model", str(args.model), "--method", "channel", "-n", "channel", *common)
    onnx = args.work / "onnx"
    cli("export", str(args.model), "-o", str(onnx / "fp32.onnx"))
    cli("export", str(args.model), "-o", str(onnx / "int8.onnx"), "--int8")
    channel = runs / "classify" / "channel"
    cli("export", str(channel), "-o", str(onnx / "channel-int8.onnx"), "--int8")
    tuned = f", {args.epochs} epoch(s) fine-tuned" if args.epochs else ", not fine-tuned"
    variants = {
        "fp32 (torch)": args.model,
        f"magnitude {pct} %{tuned} (torch)": runs / "classify" / "magnitude",
        f"channel {pct} %{tuned} (torch)": channel,
        "fp32 (ONNX Runtime)": onnx / "fp32.onnx",
        "int8 (ONNX Runtime)": onnx / "int8.onnx",
        f"channel {pct} % + int8 (ONNX Runtime)": onnx / "channel-int8.onnx",
    }
    for item in args.extra:
        label, _, path = item.partition("=")
        if not path:
            raise SystemExit(f"--extra {item}: expected LABEL=RUN")
        variants[f"{label} (torch)"] = Path(path)
    return variants


def test_set(data: str, spec, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    from cutkit.compress.quantize import preprocess
    from cutkit.data.classify import open_classification

    test = open_classification(data, "test")
    n = min(limit or len(test), len(test))
    x = np.concatenate(
        [preprocess([test.image(i) for i in range(s, min(s + 256, n))], spec) for s in range(0, n, 256)]
    )
    return x, np.asarray(test.labels)[:n]


def median_ms(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray, runs: int) -> float:
    for i in range(min(5, len(x))):  # warm-up: allocations, kernels chosen on first use
        fn(x[i : i + 1])
    times = []
    for i in range(runs):
        one = x[i % len(x) : i % len(x) + 1]
        start = time.perf_counter()
        fn(one)
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def batched(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    return np.concatenate([fn(x[s : s + 256]) for s in range(0, len(x), 256)])


def measure(label: str, path: Path, x: np.ndarray, labels: np.ndarray, args: argparse.Namespace) -> Row:
    import onnx

    from cutkit.compress.measure import nonzero_count, parameter_count

    if path.suffix == ".onnx":
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = args.threads
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        fn = lambda a: session.run(["logits"], {"input": a})[0]  # noqa: E731
        inits = onnx.load(str(path)).graph.initializer
        weights = [onnx.numpy_helper.to_array(t) for t in inits]
        params = sum(w.size for w in weights if w.ndim >= 1)
        nonzero = sum(int(np.count_nonzero(w)) for w in weights if w.ndim >= 1)
        file = path
    else:
        import torch

        from cutkit.zoo.classifier import load_classifier

        net, _ = load_classifier(path)
        params, nonzero, file = parameter_count(net), nonzero_count(net), path / "model.safetensors"

        def fn(a: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                return net(torch.from_numpy(a)).numpy()

    accuracy = float((batched(fn, x).argmax(1) == labels).mean())
    raw = file.read_bytes()
    return Row(
        label, params, nonzero, len(raw), len(gzip.compress(raw, 6)), median_ms(fn, x, args.runs), accuracy
    )


def table(rows: list[Row], args: argparse.Namespace, n: int) -> str:
    base = rows[0]
    lines = [
        SECTION,
        "",
        machine_line(),
        "",
        f"Model `{args.model}`, scored on {n} test images of `{args.data}`; latency at batch 1 on "
        f"{args.threads} thread(s), median of {args.runs} runs. Size: the file inference loads (safetensors "
        "or ONNX) and that file gzip-compressed, which is where unstructured (magnitude) sparsity pays off.",
        "",
        "| variant | parameters | non-zero | file | gzip | latency (ms) | speed-up | accuracy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.variant} | {r.params:,} | {r.nonzero:,} | {r.size / 1e6:.2f} MB | {r.gz / 1e6:.2f} MB | "
            f"{r.ms:.3f} | {base.ms / r.ms:.2f}× | {100 * r.accuracy:.2f} % |"
        )
    lines += [
        "",
        "Command: `.venv/bin/python benchmarks/classify_compress.py " + shlex.join(sys.argv[1:]) + "`",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    from cutkit.zoo.classifier import load_classifier

    torch.set_num_threads(args.threads)
    variants = make_variants(args)
    _, spec = load_classifier(args.model)
    x, labels = test_set(args.data, spec, args.limit)
    rows = [measure(label, path, x, labels, args) for label, path in variants.items()]
    text = table(rows, args, len(x))
    print(text)
    write_section(args.out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
