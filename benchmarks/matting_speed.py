"""Matting and decontamination speed: what `--matting` adds to a removal, and what decontamination costs.

Photos: the shared data's real photos (``photos/bike.jpeg``, ``matting/cat/cat.jpg``), centre-cropped to a
square and resized to 1024² and 2048². Per photo and size, with the default model (``cutkit.Remover()``,
2 threads), the variants take turns run by run and the medians are reported:

- the alpha without and with ``matting=True`` (``Remover.alpha_batch``): the difference is the extra
  time matting adds to a removal; the matting step alone (``refine_alpha``) is timed too, in wall and
  CPU seconds (the solver runs on one core, so its CPU time is what an idle core would take);
- the transparent cutout with and without colour decontamination (on by default), whose difference is
  the decontamination's cost.

A fresh process also times the first matting call, which imports pymatting and loads its compiled
(numba) code. The issue's target: at most 1 s extra for a 1024×1024 photo on 2 cores. The section goes
into ``docs/benchmarks.md``.

    .venv/bin/python benchmarks/matting_speed.py                              # full run (~2 min)
    .venv/bin/python benchmarks/matting_speed.py --quick --out /tmp/b.md      # smoke run (seconds)
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sections import machine_line, write_section

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Matting and decontamination speed (`benchmarks/matting_speed.py`)"
PHOTOS = ("photos/bike.jpeg", "matting/cat/cat.jpg")  # inside the shared data folder
SIZES = (1024, 2048)
THREADS = 2
TARGET_S = 1.0  # the budget for matting at 1024²


@dataclass
class Row:
    """One photo at one size."""

    photo: str
    size: int
    band: float  # the unknown band's share of the photo's pixels
    working: str  # the size the solver ran at
    wall: dict[str, list[float]]  # wall seconds per variant
    cpu: dict[str, list[float]]  # CPU seconds of this process per variant

    def ms(self, key: str) -> float:
        return 1000 * statistics.median(self.wall[key])

    def cpu_ms(self, key: str) -> float:
        return 1000 * statistics.median(self.cpu[key])

    @property
    def extra_ms(self) -> float:
        return self.ms("with matting") - self.ms("alpha")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="one photo at 1024², one timed run (a smoke run)")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per variant (after one warm-up)")
    p.add_argument("--shared", type=Path, help="the shared data folder (default: found next to the checkout)")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="Markdown file to write")
    p.add_argument("--first-call-worker", type=Path, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def shared_data(given: Path | None) -> Path:
    """The shared ``data`` folder: ``--shared``, else ``shared/data`` inside or next to the checkout."""
    candidates = [given / "data"] if given else [ROOT / "shared" / "data", ROOT.parent / "shared" / "data"]
    for folder in candidates:
        if folder.is_dir():
            return folder
    raise SystemExit(f"shared data not found (looked in {', '.join(map(str, candidates))}); pass --shared")


def square(path: Path, size: int) -> np.ndarray:
    """The photo's centre square at ``size``² (area-averaged)."""
    from cutkit.io.image import open_image, to_rgb_array

    rgb = to_rgb_array(open_image(path))
    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = rgb[top : top + side, left : left + side]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_LINEAR)


def take_turns(
    variants: dict[str, Callable[[], Any]], repeats: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU seconds of each variant: one warm-up each, then ``repeats`` rounds taking turns."""
    for run in variants.values():
        run()
    wall: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, run in variants.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            run()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return wall, cpu


def measure(remover: Any, name: str, rgb: np.ndarray, repeats: int) -> Row:
    """Every variant on one photo."""
    from cutkit.matting.refine import refine_alpha
    from cutkit.pipeline.compose import compose_output

    o = remover.options
    plain, matted, no_decontamination = o, o.replace(matting=True), o.replace(decontaminate=False)
    alpha = remover.alpha_batch([rgb], plain)[0]
    settings = matting_settings(o)
    wall, cpu = take_turns(
        {
            "alpha": lambda: remover.alpha_batch([rgb], plain),
            "with matting": lambda: remover.alpha_batch([rgb], matted),
            "matting alone": lambda: refine_alpha(rgb, alpha, **settings),
            "cutout": lambda: compose_output(rgb, alpha, no_decontamination),
            "decontaminated cutout": lambda: compose_output(rgb, alpha, o),
        },
        repeats,
    )
    scale = min(1.0, o.matting_max_side / max(alpha.shape))
    working = f"{round(alpha.shape[1] * scale)}×{round(alpha.shape[0] * scale)}"
    row = Row(name, rgb.shape[0], band_share(alpha, settings), working, wall, cpu)
    log(f"{name} {row.size}²: extra {row.extra_ms:.0f} ms, matting alone {row.ms('matting alone'):.0f} ms")
    return row


def matting_settings(o: Any) -> dict[str, Any]:
    """``refine_alpha``'s keywords from resolved removal options, as ``Remover`` passes them."""
    return {
        "band": o.matting_band,
        "erode": o.matting_erode,
        "fg_threshold": o.matting_fg_threshold,
        "bg_threshold": o.matting_bg_threshold,
        "solver": o.matting_solver,
        "max_side": o.matting_max_side,
    }


def band_share(alpha: np.ndarray, settings: dict[str, Any]) -> float:
    """The share of the photo's pixels that the trimap leaves unknown."""
    from cutkit.matting.trimap import UNKNOWN, band_radius, trimap

    erode = settings["erode"]
    reach = band_radius(alpha.shape, settings["band"]) if erode is None else erode
    return float((trimap(alpha, settings["fg_threshold"], settings["bg_threshold"], reach) == UNKNOWN).mean())


def first_call(photo: Path) -> dict[str, float]:
    """The first and second matting call of a fresh process (pymatting's import and numba's cache load)."""
    done = subprocess.run(
        [sys.executable, __file__, "--first-call-worker", str(photo)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def first_call_worker(photo: Path) -> None:
    import cutkit

    remover = cutkit.Remover(threads=THREADS)
    rgb = square(photo, 1024)
    o = remover.options.replace(matting=True)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        remover.alpha_batch([rgb], o)
        times.append(time.perf_counter() - start)
    print(json.dumps({"first_s": times[0], "second_s": times[1]}))


def table(rows: list[Row]) -> str:
    head = (
        "| photo | size | unknown band | solved at | alpha (ms) | alpha + matting (ms) | **extra (ms)** | "
        "matting step (ms) | its CPU time (ms) | cutout (ms) | decontaminated cutout (ms) | "
        "decontamination (ms) | its CPU time (ms) |\n|---|" + "---:|" * 12
    )
    lines = [head]
    for r in rows:
        decon = r.ms("decontaminated cutout") - r.ms("cutout")
        decon_cpu = r.cpu_ms("decontaminated cutout") - r.cpu_ms("cutout")
        lines.append(
            f"| {r.photo} | {r.size}² | {100 * r.band:.0f} % | {r.working} | {r.ms('alpha'):.0f} | "
            f"{r.ms('with matting'):.0f} | **{r.extra_ms:.0f}** | {r.ms('matting alone'):.0f} | "
            f"{r.cpu_ms('matting alone'):.0f} | {r.ms('cutout'):.0f} | "
            f"{r.ms('decontaminated cutout'):.0f} | {decon:.0f} | {decon_cpu:.0f} |"
        )
    return "\n".join(lines)


def verdict(rows: list[Row]) -> str:
    at_1024 = [r for r in rows if r.size == 1024]
    worst = max(r.extra_ms for r in at_1024)
    met = "**met**" if worst <= 1000 * TARGET_S else "**not met**"
    return (
        f"Target, at most {TARGET_S:.0f} s extra for a 1024×1024 photo: {met} (largest extra at 1024²: "
        f"{worst:.0f} ms)."
    )


def section(
    rows: list[Row],
    first: dict[str, float],
    command: str,
    options: dict[str, Any],
    context: tuple[str, float],
) -> str:
    machine, elsewhere = context
    settings = ", ".join(f"`{k}={v}`" for k, v in options.items())
    return "\n\n".join(
        [
            SECTION,
            f"{machine} Load average at the end: {_load()}. Other processes kept {elsewhere:.2f} "
            f"of the {os.cpu_count()} cores busy on average while the table was measured: wall times grow "
            "with that, CPU times hardly.",
            f"```\n{command}\n```",
            f"Default model, {THREADS} threads, the removal options' defaults ({settings}). Medians of the "
            "timed runs; the variants take turns run by run. *extra* = alpha with matting − alpha without: "
            "what `--matting` adds. *matting step*: `refine_alpha` alone (trimap, solve in the band's box at "
            "the working size, guided upsampling); its CPU time is what one idle core takes (the solver is "
            "single-threaded), a fair figure on a busy machine. *unknown band*: the trimap's unknown share "
            "of the photo. *decontamination*: decontaminated − plain transparent cutout (on by default).",
            table(rows),
            verdict(rows),
            f"First matting call in a fresh process (1024², pymatting imported and its compiled code loaded "
            f"from numba's cache): {first['first_s']:.2f} s for the whole alpha; the second call: "
            f"{first['second_s']:.2f} s.",
        ]
    )


def cpu_clock() -> tuple[float, float, float]:
    """(wall s, busy CPU s of the whole machine, CPU s of this process and its children)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # all but idle, iowait
    t = os.times()
    return time.time(), busy, t.user + t.system + t.children_user + t.children_system


def busy_elsewhere(start: tuple[float, float, float]) -> float:
    """Mean number of cores other processes kept busy since ``start`` (a :func:`cpu_clock`)."""
    wall, busy, own = (b - a for a, b in zip(start, cpu_clock(), strict=True))
    return max(0.0, (busy - own) / wall)


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.first_call_worker:
        first_call_worker(args.first_call_worker)
        return 0
    import cutkit

    cv2.setNumThreads(THREADS)
    data = shared_data(args.shared)
    photos, sizes = (PHOTOS[:1], SIZES[:1]) if args.quick else (PHOTOS, SIZES)
    repeats = 1 if args.quick else args.repeats
    remover = cutkit.Remover(threads=THREADS)
    machine, clock = machine_line(), cpu_clock()
    rows = [measure(remover, Path(p).name, square(data / p, s), repeats) for p in photos for s in sizes]
    elsewhere = busy_elsewhere(clock)
    first = first_call(data / photos[0])
    keys = ("matting_band", "matting_solver", "matting_max_side", "matting_fg_threshold")
    keys += ("matting_bg_threshold",)
    given = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join([".venv/bin/python", "benchmarks/matting_speed.py", *given])
    text = section(rows, first, command, {k: remover.options.values[k] for k in keys}, (machine, elsewhere))
    print(text)
    write_section(args.out, text)
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
