"""Does a classification backbone help segmentation? ``cutnet`` on ResNet-18, from scratch vs pretrained.

Trains the salient-object network ``cutnet`` with a ResNet-18 encoder on ``duts-tr-mini`` twice per seed,
with the same recipe, epochs and seed: once from random weights, once with the encoder initialised from a
classification run (``--pretrained RUN``, e.g. the Tiny-ImageNet recipe of ``classify_train.py``). Both are
scored on ``duts-te-mini`` with ``cutkit eval`` (MAE, max F, S-measure, IoU), and the table goes into
``docs/benchmarks.md``. The encoder's keywords (width, stem) are read from the run, so the two match.

    .venv/bin/python benchmarks/salient_pretrained.py --pretrained runs/classify/tiny-imagenet
    .venv/bin/python benchmarks/salient_pretrained.py --pretrained RUN --epochs 2 --seeds 0 --out /tmp/b.md
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sections import machine_line, write_section

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Salient-object training from a pretrained backbone (`benchmarks/salient_pretrained.py`)"
METRICS = (("mae", "MAE ↓"), ("max_f", "max F ↑"), ("s_measure", "S-measure ↑"), ("iou", "IoU ↑"))
STARTS = ("scratch", "pretrained")
ENCODER_KEYS = ("stem", "width")  # the classifier keywords a ResNet encoder shares


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pretrained", type=Path, required=True, help="a classification run with a ResNet")
    p.add_argument("--data", type=Path, help="training set (default: ../shared/data/sod/duts-tr-mini)")
    p.add_argument("--test", type=Path, help="test set (default: ../shared/data/sod/duts-te-mini)")
    p.add_argument("--epochs", type=int, default=40, help="training epochs of each run")
    p.add_argument("--imgsz", type=int, default=224, help="training and test size (a multiple of 32)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="one scratch/pretrained pair each")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="Markdown file to write")
    return p.parse_args(argv)


def shared_set(given: Path | None, name: str) -> Path:
    folder = given or ROOT.parent / "shared" / "data" / "sod" / name
    if not (folder / "images").is_dir():
        raise SystemExit(f"{folder}: no images/ folder (pass --data / --test)")
    return folder


def encoder_args(run: Path) -> list[str]:
    """``--backbone NAME --model-args backbone_kwargs.*``: the run's classifier as an encoder."""
    try:
        spec = json.loads((run / "model.json").read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"{run}: not a classification run with a readable model.json ({exc})") from exc
    if spec.get("format") != "cutkit-classifier":
        raise SystemExit(f"{run}/model.json: not a classification run (format {spec.get('format')!r})")
    kwargs = {k: v for k, v in spec["arch_kwargs"].items() if k in ENCODER_KEYS}
    return [
        "--backbone",
        spec["arch"],
        "--model-args",
        *(f"backbone_kwargs.{k}={v}" for k, v in kwargs.items()),
    ]


def cutkit(*args: str) -> str:
    """Run ``cutkit ARGS`` with this interpreter; its stdout, or exit with its stderr."""
    done = subprocess.run([sys.executable, "-m", "cutkit", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"cutkit {shlex.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def train_and_score(recipe: list[str], pretrained: Path | None, seed: int, test: Path, project: Path) -> dict:
    """Train one run with ``recipe`` (from ``pretrained``'s encoder, or from scratch), then score it."""
    start = "scratch" if pretrained is None else "pretrained"
    name = f"{start}-{seed}"
    init = [] if pretrained is None else ["--pretrained", str(pretrained)]
    began = time.perf_counter()
    cutkit("train", "salient", *recipe, *init, "--seed", str(seed), "--project", str(project), "--name", name)
    seconds = time.perf_counter() - began
    run = project / "salient" / name
    scored = ["--model", str(run), "--data", str(test), "--json", "-o", str(project / "eval" / name)]
    scores = json.loads(cutkit("eval", *scored))
    return {"start": start, "seed": seed, "seconds": seconds, **{k: scores[k] for k, _ in METRICS}}


def table(rows: list[dict[str, Any]]) -> str:
    """One line per run, then the mean of each start over the seeds."""
    head = "| start | seed | " + " | ".join(t for _, t in METRICS) + " | training time |"
    lines = [head, "|---|---:|" + "---:|" * (len(METRICS) + 1)]
    for r in rows:
        cells = " | ".join(f"{r[k]:.3f}" for k, _ in METRICS)
        lines.append(f"| {r['start']} | {r['seed']} | {cells} | {r['seconds'] / 60:.1f} min |")
    for start in STARTS:
        mine = [r for r in rows if r["start"] == start]
        cells = " | ".join(f"**{statistics.fmean(r[k] for r in mine):.3f}**" for k, _ in METRICS)
        minutes = statistics.fmean(r["seconds"] for r in mine) / 60
        lines.append(f"| **{start}, mean** | {len(mine)} seeds | {cells} | {minutes:.1f} min |")
    return "\n".join(lines)


def verdict(rows: list[dict[str, Any]]) -> str:
    """Whether the pretrained start wins on every metric, on the mean over seeds and seed by seed."""
    mean = {
        s: {k: statistics.fmean(r[k] for r in rows if r["start"] == s) for k, _ in METRICS} for s in STARTS
    }
    better = [t for k, t in METRICS if (mean["pretrained"][k] < mean["scratch"][k]) == (k == "mae")]
    pairs = {(r["seed"], r["start"]): r for r in rows}
    seeds = sorted({r["seed"] for r in rows})
    wins = sum(pairs[(s, "pretrained")]["max_f"] > pairs[(s, "scratch")]["max_f"] for s in seeds)
    return (
        f"Pretrained beats scratch on the mean over seeds in {len(better)} of {len(METRICS)} metrics"
        f" ({', '.join(better) or 'none'}); on max F in {wins} of {len(seeds)} seeds."
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    data, test = shared_set(args.data, "duts-tr-mini"), shared_set(args.test, "duts-te-mini")
    recipe = ["--data", str(data), "--model", "cutnet", *encoder_args(args.pretrained),
              "--epochs", str(args.epochs), "--imgsz", str(args.imgsz), "--batch", "8", "--lr", "1e-3",
              "--warmup-epochs", "1", "--no-progress", "--no-plots", "--no-tensorboard"]  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory() as project:
        for seed in args.seeds:
            for pretrained in (None, args.pretrained):
                rows.append(train_and_score(recipe, pretrained, seed, test, Path(project)))
                print(json.dumps(rows[-1]), flush=True)
    given = sys.argv[1:] if argv is None else list(argv)
    shown = [a if a not in (str(data),) else "duts-tr-mini/" for a in recipe]
    text = "\n\n".join(
        [
            SECTION,
            machine_line(),
            f"```\n{shlex.join(['.venv/bin/python', 'benchmarks/salient_pretrained.py', *given])}\n```",
            "Each run: `cutkit train salient " + shlex.join(shown) + " --seed SEED` (plus `--pretrained RUN` "
            "for the pretrained start), the best epoch on 10 % of the training images held out, scored "
            "on `duts-te-mini` by `cutkit eval`. The two starts share everything but the encoder's first "
            "weights: the same epochs, schedule, augmentation, data order and decoder initialisation.",
            table(rows),
            verdict(rows),
        ]
    )
    write_section(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
