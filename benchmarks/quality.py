"""From network output to alpha: squash vs pad (letterbox) × bilinear vs guided upsampling, measured.

Every configuration runs ``cutkit eval``'s own machinery (:func:`cutkit.cli.eval.evaluate`, the same
:class:`cutkit.Remover` path as ``cutkit remove``) with the default model on the salient-object minis of the
shared data, and reports MAE, max F, S-measure and weighted F (pysodmetrics' definitions) plus *edge MAE*:
the MAE inside a band around the ground truth's edges (1 % of the image's long side on each side), where
upsampling matters. A last row per set pads with the mean colour instead of the photo's border (the
padding choice in ``cutkit.pipeline.preprocess.to_input``). The section also times the two upsamplings
on a 12-megapixel photo. The table goes into its own section of ``docs/quality.md``.

    .venv/bin/python benchmarks/quality.py                                # full run (about 3 min on 2 cores)
    .venv/bin/python benchmarks/quality.py --limit 4 --out /tmp/q.md      # smoke run (seconds)
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sections import machine_line, write_section

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## From network output to alpha: resize and upsampling (`benchmarks/quality.py`)"
SETS = ("duts-te-mini", "ecssd-mini", "duts-tr-mini")
CONFIGS = (("squash", "bilinear"), ("squash", "guided"), ("pad", "bilinear"), ("pad", "guided"))
MEAN_PAD = ("pad, mean colour", "bilinear")  # the ablation row
EDGE_FRACTION = 0.01  # half-width of the edge band, as a fraction of the image's long side
LEGEND = (
    "`resize`: *squash* stretches the photo to the network's square input; *pad* keeps its aspect ratio "
    "(long side to the input size), pads by repeating the photo's border and cuts the padding off the "
    "prediction before resizing it back; *pad, mean colour* pads with the mean colour instead (an "
    "ablation). `upsample`: *bilinear* resizes the probability; *guided* upsamples it with the fast guided "
    "filter guided by the colour photo. *edge MAE*: MAE within 1 % of the long side of the ground truth's "
    "edges. *s / image*: the whole evaluation (decode, network, upsampling, metrics) per image."
)
KEYS = (("mae", "MAE ↓"), ("max_f", "max F ↑"), ("s_measure", "S-measure ↑"), ("weighted_f", "weighted F ↑"))


@dataclass
class Result:
    """One configuration on one set."""

    data: str
    resize: str
    upsample: str
    summary: dict[str, float]
    edge_mae: float
    seconds: float
    images: int


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sod", type=Path, help="folder holding the minis (default: the shared data's data/sod)")
    p.add_argument("--sets", nargs="+", default=list(SETS), help="image/mask folders inside --sod")
    p.add_argument("--limit", type=int, help="only the first N pairs of each set (a smoke run)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (quality does not depend on them)")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "quality.md", help="Markdown file to write")
    p.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "_work" / "quality", help="scratch")
    return p.parse_args(argv)


def shared_sod(given: Path | None) -> Path:
    """The minis' folder: ``--sod``, else ``shared/data/sod`` inside or next to the checkout."""
    candidates = (
        [given] if given else [ROOT / "shared" / "data" / "sod", ROOT.parent / "shared" / "data" / "sod"]
    )
    for folder in candidates:
        if folder is not None and folder.is_dir():
            return folder
    raise SystemExit(f"no salient-object minis at {' or '.join(map(str, candidates))}: pass --sod DIR")


# --------------------------------------------------------------------------------------------- measuring


def run_config(remover: Any, pairs: list[Any], data: str, config: tuple[str, str], work: Path) -> Result:
    """``cutkit eval``'s evaluation of one configuration; its maps are kept to measure the edge band."""
    from cutkit.cli.eval import evaluate

    options = remover.options.replace(resize=config[0], upsample=config[1])
    maps = work / data / "-".join(config)
    start = time.perf_counter()
    metrics = evaluate(remover, pairs, options, save_maps=maps)
    seconds = time.perf_counter() - start
    alphas = [cv2.imread(str(maps / f"{p.stem}.png"), cv2.IMREAD_GRAYSCALE) for p in pairs]
    return Result(data, *config, metrics.summary(), edge_mae(alphas, pairs), seconds, len(pairs))


def run_mean_pad(remover: Any, pairs: list[Any], data: str) -> Result:
    """The letterbox with a flat mean-colour padding (0 after normalisation), upsampled bilinearly."""
    from cutkit.data.pairs import read_image, read_mask
    from cutkit.metrics.salient import SalientMetrics

    metrics, alphas, start = SalientMetrics(), [], time.perf_counter()
    for pair in pairs:
        alphas.append(mean_pad_alpha(remover, read_image(pair.image)))
        metrics.update(alphas[-1], read_mask(pair.mask), name=pair.stem)
    seconds = time.perf_counter() - start
    return Result(data, *MEAN_PAD, metrics.summary(), edge_mae(alphas, pairs), seconds, len(pairs))


def mean_pad_alpha(remover: Any, rgb: np.ndarray) -> np.ndarray:
    from cutkit.pipeline.postprocess import to_alpha
    from cutkit.pipeline.preprocess import normalise, place, resize

    spec = remover.spec
    at = place(rgb.shape[:2], spec.input_size, "pad")
    x = np.zeros((3, *spec.input_size), np.float32)
    x[:, at.top : at.top + at.height, at.left : at.left + at.width] = normalise(
        resize(rgb, (at.height, at.width)), spec
    )
    prob = remover.session.engine.predict(x[None])[0]
    return to_alpha(at.crop(prob), rgb.shape[:2])


def edge_mae(alphas: list[np.ndarray], pairs: list[Any]) -> float:
    """Mean over images of the MAE inside the band around the (binarised) ground truth's edges."""
    from cutkit.data.pairs import read_mask
    from cutkit.pipeline.postprocess import resize_map

    errors = []
    for alpha, pair in zip(alphas, pairs, strict=True):
        gt = read_mask(pair.mask)
        pred = (
            resize_map(alpha.astype(np.float32) / 255, gt.shape) if alpha.shape != gt.shape else alpha / 255
        )
        band = edge_band(gt >= 0.5)
        if band.any():
            errors.append(float(np.abs(pred - gt)[band].mean()))
    return statistics.mean(errors) if errors else float("nan")


def edge_band(binary: np.ndarray) -> np.ndarray:
    """Pixels within ``EDGE_FRACTION`` of the long side of an edge of ``binary``."""
    k = max(1, round(EDGE_FRACTION * max(binary.shape)))
    kernel = np.ones((2 * k + 1, 2 * k + 1), np.uint8)
    mask = binary.astype(np.uint8)
    return cv2.dilate(mask, kernel) != cv2.erode(mask, kernel)


def upsample_ms(repeats: int = 5) -> tuple[float, float]:
    """Median ms of bilinear and guided upsampling of a 320² map to a 4000×3000 photo."""
    from cutkit.pipeline.postprocess import to_alpha

    yy, xx = np.mgrid[:3000, :4000].astype(np.float32)
    photo = np.dstack([xx / 16 % 256, yy / 12 % 256, (xx + yy) / 28 % 256]).astype(np.uint8)
    prob = np.random.default_rng(0).random((320, 320), dtype=np.float32)
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(repeats):
        for guided in (False, True):
            start = time.perf_counter()
            to_alpha(prob, photo.shape[:2], guide=photo if guided else None)
            times[guided].append(1000 * (time.perf_counter() - start))
    return statistics.median(times[False]), statistics.median(times[True])


# --------------------------------------------------------------------------------------------- report


def table(results: list[Result]) -> str:
    head = "| data | resize | upsample | " + " | ".join(k[1] for k in KEYS) + " | edge MAE ↓ | s / image |"
    rows = [head, "|---|---|---|" + "---:|" * (len(KEYS) + 2)]
    for r in results:
        values = " | ".join(f"{r.summary[k]:.4f}" for k, _ in KEYS)
        per_image = r.seconds / r.images
        rows.append(
            f"| {r.data} | {r.resize} | {r.upsample} | {values} | {r.edge_mae:.4f} | {per_image:.3f} |"
        )
    return "\n".join(rows)


def compare(results: list[Result], a: tuple[str, str], b: tuple[str, str]) -> str:
    """One sentence: how configuration ``b`` differs from ``a``, set by set and on average."""
    by = {(r.data, r.resize, r.upsample): r for r in results}
    sets = [d for d in dict.fromkeys(r.data for r in results) if (d, *a) in by and (d, *b) in by]
    parts, deltas = [], {k: [] for k, _ in (*KEYS, ("edge_mae", ""))}
    for d in sets:
        ra, rb = by[(d, *a)], by[(d, *b)]
        for k in deltas:
            deltas[k].append(_value(rb, k) - _value(ra, k))
        parts.append(f"{d} MAE {_signed(deltas['mae'][-1])}, max F {_signed(deltas['max_f'][-1])}")
    mean = ", ".join(f"{k} {_signed(statistics.mean(v))}" for k, v in deltas.items())
    return f"**{' + '.join(b)}** minus **{' + '.join(a)}**: {'; '.join(parts)}. Mean over the sets: {mean}."


def _value(r: Result, key: str) -> float:
    return r.edge_mae if key == "edge_mae" else r.summary[key]


def _signed(x: float) -> str:
    return f"{x:+.4f}"


def section(results: list[Result], command: str, timing: tuple[float, float], model: str) -> str:
    from cutkit.options import OPTIONS_BY_NAME

    resize, upsample = OPTIONS_BY_NAME["resize"].default, OPTIONS_BY_NAME["upsample"].default
    return "\n".join(
        [
            SECTION,
            "",
            machine_line(),
            "",
            f"```\n{command}\n```",
            "",
            f"Model `{model}` (the default) at its own input size. {LEGEND}",
            "",
            table(results),
            "",
            f"- {compare(results, ('squash', 'bilinear'), ('pad', 'bilinear'))}",
            f"- {compare(results, ('squash', 'bilinear'), ('squash', 'guided'))}",
            f"- {compare(results, ('pad', 'bilinear'), ('pad', 'guided'))}",
            f"- {compare(results, ('pad', 'bilinear'), MEAN_PAD)}",
            f"- Upsampling a 320² map to a 4000×3000 photo: bilinear {timing[0]:.0f} ms, guided "
            f"{timing[1]:.0f} ms (median of 5).",
            f"- Defaults when measured: `resize={resize}`, `upsample={upsample}`.",
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    import cutkit
    from cutkit.data.pairs import find_pairs

    cv2.setNumThreads(args.threads)
    sod, remover = shared_sod(args.sod), cutkit.Remover(threads=args.threads)
    results: list[Result] = []
    for data in args.sets:
        pairs = find_pairs(sod / data)[: args.limit]
        results += [run_config(remover, pairs, data, config, args.work) for config in CONFIGS]
        results.append(run_mean_pad(remover, pairs, data))
    command = shlex.join([".venv/bin/python", "benchmarks/quality.py", *(argv or sys.argv[1:])])
    text = section(results, command, upsample_ms(), remover.spec.name)
    write_section(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
