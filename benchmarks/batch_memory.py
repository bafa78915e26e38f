"""Peak memory of ``cutkit remove`` over a folder of many images: does it stay flat from start to end?

Generates N small JPEG photos in a scratch folder, runs ``cutkit remove`` over them in a subprocess and
samples the process's resident memory (RSS) while it runs, with the number of outputs written so far. The
peak RSS while the first 10 % of the images are done (model loading included) is compared with the peak
while the last 10 % are: a streaming run holds a bounded number of photos, so the two should match however
many images there are. The table goes into its own section of ``docs/benchmarks.md``.

    .venv/bin/python benchmarks/batch_memory.py                      # 2,000 images of 640×480
    .venv/bin/python benchmarks/batch_memory.py --images 20 --out /tmp/smoke.md   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sections import machine_line, write_section

ROOT = Path(__file__).resolve().parents[1]
TITLE = "## Batch memory (`benchmarks/batch_memory.py`)"
GROWTH_ALLOWED_MIB = 32.0  # what "flat" means: the end's peak within this of the start's (or 5 %)
GROWTH_ALLOWED_FRACTION = 0.05


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--images", type=int, default=2000, help="how many photos (default: 2000)")
    p.add_argument("--size", default="640x480", help="photo size WxH (default: 640x480)")
    p.add_argument("--batch-size", type=int, default=8, help="cutkit --batch-size (default: 8)")
    p.add_argument("--workers", type=int, default=2, help="cutkit --workers, decoding threads (default: 2)")
    p.add_argument("--threads", type=int, default=2, help="cutkit --threads for inference (default: 2)")
    p.add_argument("--interval", type=float, default=0.05, help="seconds between memory samples")
    p.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "_work" / "batch_memory")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="page to write into")
    return p.parse_args(argv)


# --------------------------------------------------------------------------------------------- photos


def write_photos(folder: Path, count: int, size: tuple[int, int]) -> None:
    """``count`` different JPEG photos: a gradient, a disc and texture, each shifted and coloured anew."""
    w, h = size
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.dstack([xx * 255 / w, yy * 255 / h, (xx + yy) * 127 / (w + h)])
    texture = rng.normal(0, 12, (h, w, 3)).astype(np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        cx, cy, r = w * (0.3 + 0.4 * ((i * 37) % 100) / 100), h * (0.3 + 0.4 * ((i * 53) % 100) / 100), h / 4
        img = np.roll(base, i * 7, axis=1) + np.roll(texture, i * 11, axis=0)
        img[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = rng.integers(0, 256, 3)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(folder / f"photo{i:05d}.jpg", quality=90)


# --------------------------------------------------------------------------------------------- sampling


@dataclass(frozen=True)
class Sample:
    seconds: float
    rss_mib: float
    done: int  # outputs written so far


def rss_mib(pid: int) -> float | None:
    """Resident memory of ``pid`` in MiB (psutil if installed, else /proc), ``None`` once it has exited."""
    try:
        import psutil
    except ImportError:
        return _proc_rss_mib(pid)
    try:
        return psutil.Process(pid).memory_info().rss / 2**20
    except psutil.Error:
        return None


def _proc_rss_mib(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    kib = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), None)
    return None if kib is None else kib / 1024


def count_outputs(folder: Path) -> int:
    if not folder.is_dir():
        return 0
    return sum(1 for e in os.scandir(folder) if not e.name.startswith("."))


def run_and_sample(
    cmd: list[str], out: Path, interval: float, env: dict[str, str]
) -> tuple[list[Sample], str]:
    """Run ``cmd``, sampling its RSS every ``interval`` s; returns the samples and its stderr."""
    start = time.perf_counter()
    samples: list[Sample] = []
    with subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True) as proc:
        while proc.poll() is None:
            rss = rss_mib(proc.pid)
            if rss is not None:
                samples.append(Sample(time.perf_counter() - start, rss, count_outputs(out)))
            time.sleep(interval)
        err = proc.stderr.read() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"cutkit remove failed (exit {proc.returncode}):\n{err}")
    return samples, err


# --------------------------------------------------------------------------------------------- report


def peaks(samples: list[Sample], total: int) -> dict[str, float]:
    """Peak RSS while the first 10 % of images were done, while the last 10 % were, and overall."""
    tenth = max(1, round(total * 0.1))
    first = [s.rss_mib for s in samples if s.done < tenth]
    last = [s.rss_mib for s in samples if s.done >= total - tenth]
    if not first or not last:
        raise SystemExit("too few memory samples: lower --interval or use more --images")
    return {"first": max(first), "last": max(last), "all": max(s.rss_mib for s in samples)}


def rss_when_done(samples: list[Sample], total: int, fraction: float) -> float:
    """RSS at the first sample where ``fraction`` of the images were written: past start-up, in the stream."""
    return next(s.rss_mib for s in samples if s.done >= fraction * total)


def verdict(p: dict[str, float], steady: list[float]) -> str:
    """Flat when neither the peak (last 10 % vs first) nor the running RSS (90 % vs 10 %) grew much."""
    allowed = max(GROWTH_ALLOWED_MIB, GROWTH_ALLOWED_FRACTION * p["first"])
    peak_growth, steady_growth = p["last"] - p["first"], steady[-1] - steady[0]
    word = "**flat**" if max(peak_growth, steady_growth) <= allowed else "**grows**"
    return (
        f"Peak of the last 10 % minus peak of the first: {peak_growth:+.0f} MiB; RSS at 90 % minus RSS at "
        f"10 %: {steady_growth:+.0f} MiB: {word} (flat: both within {allowed:.0f} MiB, the larger of "
        f"{GROWTH_ALLOWED_MIB:.0f} MiB and {GROWTH_ALLOWED_FRACTION:.0%} of the first peak)."
    )


def shown_commands(args: argparse.Namespace, cmd: list[str]) -> tuple[str, str]:
    """This script's command line, and cutkit's with the scratch paths shortened."""
    script = [".venv/bin/python", "benchmarks/batch_memory.py", *sys.argv[1:]]
    names = {str(args.work / "inputs"): "inputs/", str(args.work / "outputs"): "outputs/"}
    cutkit = [names.get(c, c) for c in ["cutkit", *cmd[3:]]]
    cutkit = cutkit[: cutkit.index("--report")]
    return " ".join(shlex.quote(c) for c in script), " ".join(shlex.quote(c) for c in cutkit)


def section(args: argparse.Namespace, cmd: list[str], samples: list[Sample], report: dict) -> str:
    p = peaks(samples, args.images)
    steady = [rss_when_done(samples, args.images, f) for f in (0.1, 0.5, 0.9)]
    command, shown = shown_commands(args, cmd)
    return "\n".join(
        [
            TITLE,
            "",
            machine_line(),
            "",
            f"```\n{command}\n```",
            "",
            f"{args.images} generated JPEG photos of {args.size}, removed by the default model in one "
            f"subprocess: `{shown}`. Its resident memory (RSS) was sampled every {args.interval:g} s "
            f"({len(samples)} samples) along with the number of outputs written; *first 10 %* covers "
            "start-up and model loading until a tenth of the outputs exist, *last 10 %* the final tenth.",
            "",
            "| part of the run | peak RSS (MiB) |",
            "|---|---:|",
            f"| first 10 % of the images (start-up included) | {p['first']:.0f} |",
            f"| last 10 % of the images | {p['last']:.0f} |",
            f"| whole run | {p['all']:.0f} |",
            "",
            "| RSS (MiB) when this share of the outputs was written | 10 % | 50 % | 90 % |",
            "|---|---:|---:|---:|",
            "| | " + " | ".join(f"{v:.0f}" for v in steady) + " |",
            "",
            f"{report['ok']} ok, {report['failed']} failed in {report['seconds']:.1f} s "
            f"({report['images_per_second']:.2f} images/s). {verdict(p, steady)}",
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    inputs, out = args.work / "inputs", args.work / "outputs"
    shutil.rmtree(args.work, ignore_errors=True)
    t = time.perf_counter()
    write_photos(inputs, args.images, size)  # type: ignore[arg-type]
    print(f"wrote {args.images} photos in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    report_file = args.work / "report.json"
    cmd = [sys.executable, "-m", "cutkit", "remove", str(inputs), "-o", str(out), "-q"]
    cmd += ["--batch-size", str(args.batch_size), "--workers", str(args.workers)]
    cmd += ["--threads", str(args.threads), "--report", str(report_file)]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    samples, _ = run_and_sample(cmd, out, args.interval, env)
    text = section(args, cmd, samples, json.loads(report_file.read_text()))
    write_section(args.out, text)
    print(text)
    shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
