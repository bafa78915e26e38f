"""Removal speed on CPU: torch eager / channels_last vs ONNX Runtime fp32 / int8, and cutkit vs rembg.

Network-only rows time ``engine.predict`` on a preprocessed batch (median over timed runs after warm-up).
End-to-end rows time photo file in → cutout PNG file out, for cutkit and for rembg's ``u2net_custom``
session on the very ONNX file cutkit exported, each in a fresh process; rembg runs from its own
virtual environment (``benchmarks/.rembg-venv``, created on first use).

Speed does not depend on weight values, so the weights are made from the architecture with
``torch.manual_seed(0)``: the official checkpoints cannot be downloaded here.

    python benchmarks/remove_speed.py                  # full run, writes docs/benchmarks.md
    python benchmarks/remove_speed.py --quick --models u2netp --no-rembg
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODELS = ("u2netp", "isnet-general-use")
E2E_MODEL = "u2netp"
THREADS = 2
SECTION = "## Removal speed (`benchmarks/remove_speed.py`)"
REMBG_VENV = ROOT / "benchmarks" / ".rembg-venv"
REMBG_PIP = ("rembg", "onnxruntime")
# (warm-up runs, timed runs) per (input side ≥ 1024, batch > 1): IS-Net at 1024² batch 8 takes tens of
# seconds a run on two cores, so it gets few.
SCHEDULE = {
    False: {(False, False): (2, 8), (False, True): (1, 4), (True, False): (1, 3), (True, True): (1, 3)},
    True: {(False, False): (1, 3), (False, True): (1, 2), (True, False): (1, 2), (True, True): (0, 1)},
}


@dataclass
class Row:
    """One network-only measurement."""

    model: str
    size: int
    variant: str
    batch: int
    seconds: list[float]
    elsewhere: float  # cores other processes kept busy meanwhile
    gflop: float  # convolution work per image (2 × multiply-adds)

    @property
    def ms_per_image(self) -> float:
        return 1000 * statistics.median(self.seconds) / self.batch

    @property
    def best_ms_per_image(self) -> float:
        return 1000 * min(self.seconds) / self.batch

    @property
    def images_per_s(self) -> float:
        return 1000 / self.ms_per_image

    @property
    def gflop_per_s(self) -> float:
        return self.gflop * self.images_per_s


@dataclass
class EndToEnd:
    """One tool's end-to-end rounds (the JSON of :func:`worker`, one per fresh process)."""

    tool: str
    rounds: list[dict[str, Any]]
    out_dir: Path

    def median(self, key: str) -> float:
        """The median over rounds of ``key`` (a round's list is averaged first)."""
        return statistics.median(
            statistics.mean(r[key]) if isinstance(r[key], list) else r[key] for r in self.rounds
        )

    @property
    def ms_per_image(self) -> float:
        return 1000 * self.median("seconds")

    @property
    def ort_ms_per_image(self) -> float:
        return 1000 * self.median("ort_seconds")


# --------------------------------------------------------------------------------------------- setup


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer timed runs (a smoke run, noisier numbers)")
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS, help="models to time")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="Markdown file to write")
    p.add_argument("--no-rembg", action="store_true", help="skip the end-to-end comparison with rembg")
    p.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "_work", help="scratch folder")
    p.add_argument(
        "--photos", type=int, default=8, help="photos to write (4 samples, landscape then portrait)"
    )
    p.add_argument("--worker", choices=("cutkit", "rembg"), help=argparse.SUPPRESS)
    p.add_argument("--onnx", type=Path, help=argparse.SUPPRESS)
    p.add_argument("inputs", nargs="*", type=Path, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def machine() -> dict[str, str]:
    """CPU model, cores, load and library versions: what the numbers depend on."""
    import onnxruntime
    import torch

    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "isa": _vector_isa(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "load": _load_average(),
    }


def _vector_isa() -> str:
    flags = next((ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("flags")), "")
    found = [
        name
        for flag, name in (
            ("avx2", "AVX2"),
            ("avx512f", "AVX-512"),
            ("avx512_vnni", "VNNI"),
            ("avx512_bf16", "BF16"),
        )
        if f" {flag}" in flags
    ]
    return ", ".join(found) or "no AVX2"


def _load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu_clock() -> tuple[float, float, float]:
    """(wall s, busy CPU s of the whole machine, CPU s of this process and its children)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    busy = (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
    t = os.times()
    return time.time(), busy, t.user + t.system + t.children_user + t.children_system


def cores_used_elsewhere(start: tuple[float, float, float]) -> float:
    """Mean number of cores that other processes kept busy since ``start`` (a :func:`cpu_clock`)."""
    wall, busy, own = (b - a for a, b in zip(start, cpu_clock(), strict=True))
    return max(0.0, (busy - own) / wall)


def write_photos(folder: Path, count: int) -> list[Path]:
    """``count`` JPEG photos of about 1024×768 from scikit-image's bundled samples (landscape + portrait)."""
    from PIL import Image, ImageOps
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    samples = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    paths = []
    for i in range(count):
        img = Image.fromarray(samples[i % len(samples)])
        size = (1024, 768) if i < len(samples) else (768, 1024)
        img = ImageOps.fit(img if i < len(samples) else ImageOps.mirror(img), size, Image.Resampling.LANCZOS)
        paths.append(folder / f"photo{i}.jpg")
        img.save(paths[-1], quality=92)
    return paths


def make_weights(name: str, folder: Path) -> Path:
    """A weight file for ``name`` from its architecture with seed 0 (speed does not depend on the values)."""
    import torch

    from cutkit.nets import build_net
    from cutkit.zoo.registry import get_spec

    spec = get_spec(name)
    torch.manual_seed(0)
    path = folder / f"{name}.pth"
    torch.save(build_net(spec.arch, **spec.arch_kwargs).state_dict(), path)
    return path


def make_onnx(name: str, weights: Path, calib: Path, folder: Path) -> dict[str, Path]:
    """Export fp32 ONNX and its int8 quantization (calibrated on ``calib``)."""
    from cutkit.engine.export import export_onnx, quantize_int8
    from cutkit.zoo.registry import get_spec

    spec = get_spec(name)
    fp32 = export_onnx(spec, weights, folder / f"{name}.onnx")
    int8 = quantize_int8(fp32, folder / f"{name}.int8.onnx", spec, calib)
    return {"fp32": fp32, "int8": int8}


# --------------------------------------------------------------------------------------- network rows


def engine_factories(name: str, weights: Path, onnx: dict[str, Path]) -> dict[str, Callable[[], Any]]:
    """The four engine variants, each built when called."""
    from cutkit.engine.onnx_engine import OnnxEngine
    from cutkit.engine.torch_engine import TorchEngine
    from cutkit.zoo.registry import get_spec

    spec = get_spec(name)
    return {
        "torch eager": lambda: TorchEngine(spec, weights, device="cpu", channels_last=False),
        "torch channels_last": lambda: TorchEngine(spec, weights, device="cpu", channels_last=True),
        "ORT fp32": lambda: OnnxEngine(spec, onnx["fp32"], device="cpu", threads=THREADS, raw_outputs=False),
        "ORT int8": lambda: OnnxEngine(spec, onnx["int8"], device="cpu", threads=THREADS, raw_outputs=False),
    }


def conv_gflop(name: str) -> float:
    """GFLOP (2 × multiply-adds) of the convolutions in one forward pass at the model's input size."""
    import torch

    from cutkit.nets import build_net
    from cutkit.zoo.registry import get_spec

    spec = get_spec(name)
    net, macs = build_net(spec.arch, **spec.arch_kwargs).eval(), []
    for module in net.modules():
        if isinstance(module, torch.nn.Conv2d):
            module.register_forward_hook(lambda m, _, out: macs.append(out.numel() * m.weight[0].numel()))
    with torch.inference_mode():
        net(torch.zeros(1, 3, *spec.input_size))
    return 2 * sum(macs) / 1e9


def input_batch(name: str, photos: list[Path], batch: int) -> Any:
    """``batch`` photos (repeated if there are fewer) preprocessed as the model expects (NCHW float32)."""
    import numpy as np

    from cutkit.io.image import open_image, to_rgb_array
    from cutkit.pipeline.preprocess import to_input
    from cutkit.zoo.registry import get_spec

    spec = get_spec(name)
    return np.stack([to_input(to_rgb_array(open_image(photos[i % len(photos)])), spec) for i in range(batch)])


def time_interleaved(engines: dict[str, Any], batch: Any, warmup: int, runs: int) -> dict[str, list[float]]:
    """Seconds per ``predict(batch)`` of each engine, taking turns run by run.

    Taking turns spreads whatever else the machine is doing evenly over the variants, so their ratios
    stay fair even when the absolute numbers are disturbed.
    """
    for engine in engines.values():
        for _ in range(warmup):
            engine.predict(batch)
    seconds: dict[str, list[float]] = {variant: [] for variant in engines}
    for _ in range(runs):
        for variant, engine in engines.items():
            start = time.perf_counter()
            engine.predict(batch)
            seconds[variant].append(time.perf_counter() - start)
    return seconds


def network_rows(
    name: str, factories: dict[str, Callable[[], Any]], photos: list[Path], quick: bool
) -> list[Row]:
    """Time every variant of ``name`` at batch 1 and 8."""
    from cutkit.zoo.registry import get_spec

    size, gflop = get_spec(name).input_size[0], conv_gflop(name)
    engines = {variant: factory() for variant, factory in factories.items()}
    rows = []
    for b in (1, 8):
        warmup, runs = SCHEDULE[quick][(size >= 1024, b > 1)]
        clock = cpu_clock()
        seconds = time_interleaved(engines, input_batch(name, photos, b), warmup, runs)
        elsewhere = cores_used_elsewhere(clock)
        for variant, times in seconds.items():
            rows.append(Row(name, size, variant, b, times, elsewhere, gflop))
            log(
                f"{name} {size}² {variant:<20} batch {b}: {rows[-1].ms_per_image:8.1f} ms/image "
                f"(runs: {', '.join(f'{t:.2f}' for t in times)} s)"
            )
    return rows


# ---------------------------------------------------------------------------------- end-to-end rows


def worker(tool: str, onnx: Path, photos: list[Path], out_dir: Path) -> None:
    """In a fresh process: load a session, then photo file → cutout PNG file per photo; prints JSON."""
    start = time.perf_counter()
    remove, ort_session = _cutkit_remove(onnx) if tool == "cutkit" else _rembg_remove(onnx)
    load_s = time.perf_counter() - start
    ort_seconds = _time_ort_runs(ort_session)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    remove(photos[0].read_bytes())  # first call: lazy allocations; timed apart
    first_s = time.perf_counter() - start
    ort_seconds.clear()
    seconds = []
    for path in photos:
        start = time.perf_counter()
        (out_dir / f"{path.stem}.png").write_bytes(remove(path.read_bytes()))
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"load_s": load_s, "first_s": first_s, "seconds": seconds, "ort_seconds": ort_seconds}))


def _time_ort_runs(session: Any) -> list[float]:
    """Record the seconds of each ``session.run`` call, to split network time from the rest."""
    seconds: list[float] = []
    run = session.run

    def timed_run(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        out = run(*args, **kwargs)
        seconds.append(time.perf_counter() - start)
        return out

    session.run = timed_run
    return seconds


def _cutkit_remove(onnx: Path) -> tuple[Callable[[bytes], bytes], Any]:
    import cutkit

    remover = cutkit.Remover(model=str(onnx), device="cpu", threads=THREADS)
    return remover.remove, remover.session.engine.session  # bytes in → PNG bytes out


def _rembg_remove(onnx: Path) -> tuple[Callable[[bytes], bytes], Any]:
    import onnxruntime as ort
    from rembg import new_session, remove

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = THREADS  # as cutkit's threads=2; rembg's own default is all cores
    session = new_session("u2net_custom", sess_opts=opts, model_path=str(onnx))
    return (lambda data: remove(data, session=session)), session.inner_session


def run_worker(python: Path, tool: str, onnx: Path, photos: list[Path], out_dir: Path) -> dict[str, Any]:
    """Run :func:`worker` with ``python`` in a fresh process; its JSON result."""
    env = {**os.environ, "U2NET_HOME": str(onnx.parent)}  # rembg accepts model files under its home only
    cmd = [
        str(python),
        __file__,
        "--worker",
        tool,
        "--onnx",
        str(onnx),
        "--work",
        str(out_dir),
        *map(str, photos),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    if done.returncode:
        raise RuntimeError(f"{tool} worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cli_seconds(onnx: Path, photos: list[Path], out_dir: Path) -> float:
    """Wall seconds of one ``cutkit remove`` process over ``photos`` (startup and model load included)."""
    cmd = [
        str(Path(sys.executable).parent / "cutkit"),
        "remove",
        *map(str, photos),
        "--model",
        str(onnx),
        "-o",
        str(out_dir),
        "--device",
        "cpu",
        "--threads",
        str(THREADS),
        "-q",
    ]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT)
    return time.perf_counter() - start


def rembg_python() -> tuple[Path, str]:
    """The rembg venv's python (created with pip on first use) and the versions in it."""
    python = REMBG_VENV / "bin" / "python"
    if not python.exists():
        log(f"creating {REMBG_VENV} and installing {' '.join(REMBG_PIP)} ...")
        subprocess.run(["python3", "-m", "venv", str(REMBG_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *REMBG_PIP], check=True)
    code = "from importlib.metadata import version as v; print(v('rembg'), v('onnxruntime'))"
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return python, f"rembg {out[0]} (onnxruntime {out[1]})"


def alpha_agreement(a_dir: Path, b_dir: Path) -> tuple[float, float]:
    """Mean |alpha a − alpha b| (0–1 scale) and mean Pearson r over same-named PNGs.

    r ignores rembg's per-image min-max stretch, which is an affine map of the prediction.
    """
    import numpy as np
    from PIL import Image

    diffs, rs = [], []
    for a in sorted(a_dir.glob("*.png")):
        alpha_a = np.asarray(Image.open(a).getchannel("A"), np.float64).ravel()
        alpha_b = np.asarray(Image.open(b_dir / a.name).getchannel("A"), np.float64).ravel()
        diffs.append(float(np.abs(alpha_a - alpha_b).mean()) / 255)
        rs.append(float(np.corrcoef(alpha_a, alpha_b)[0, 1]))
    return statistics.mean(diffs), statistics.mean(rs)


def end_to_end_runs(
    onnx: Path, photos: list[Path], work: Path, rounds: int, rembg: Path | None
) -> dict[str, EndToEnd]:
    """Alternate cutkit and rembg processes for ``rounds`` rounds (so both see the same machine load)."""
    tools = {"cutkit": Path(sys.executable), **({"rembg": rembg} if rembg else {})}
    runs = {tool: EndToEnd(tool, [], work / f"out-{tool}") for tool in tools}
    for i in range(rounds):
        for tool, python in tools.items():
            runs[tool].rounds.append(run_worker(python, tool, onnx, photos, runs[tool].out_dir))
            ms = 1000 * statistics.mean(runs[tool].rounds[-1]["seconds"])
            log(f"end to end, round {i + 1}: {tool} {ms:.1f} ms/photo")
    return runs


# ------------------------------------------------------------------------------------------- report


def network_table(rows: list[Row]) -> str:
    eager = {(r.model, r.batch): r.ms_per_image for r in rows if r.variant == "torch eager"}
    lines = [
        "| model | input | engine | batch | ms / image (median) | ms / image (best) | images / s "
        "| vs torch eager | conv GFLOP/s | timed runs | cores busy elsewhere |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        speedup = eager[(r.model, r.batch)] / r.ms_per_image
        lines.append(
            f"| {r.model} | {r.size}² | {r.variant} | {r.batch} | {r.ms_per_image:.0f} | "
            f"{r.best_ms_per_image:.0f} | {r.images_per_s:.2f} | {speedup:.2f}× | {r.gflop_per_s:.0f} | "
            f"{len(r.seconds)} | {r.elsewhere:.2f} |"
        )
    return "\n".join(lines)


def goal_line(rows: list[Row]) -> str:
    """The issue's goal: the ONNX Runtime path at least 2× faster than torch eager for IS-Net at 1024²."""
    by = {(r.variant, r.batch): r for r in rows if r.model == "isnet-general-use"}
    if not by:
        return ""
    ratios = {
        f"{v} batch {b}": by[("torch eager", b)].ms_per_image / by[(v, b)].ms_per_image
        for v in ("ORT fp32", "ORT int8")
        for b in (1, 8)
    }
    missed = [k for k, r in ratios.items() if r < 2]
    parts = ", ".join(f"{k}: {r:.2f}×" for k, r in ratios.items())
    met = ", ".join(k for k in ratios if k not in missed) or "none"
    text = (
        f"Goal, ONNX Runtime ≥ 2× torch eager for IS-Net at 1024²: {parts}. **Met** by {met}; "
        f"**not met** by {', '.join(missed) or 'none'}."
    )
    return text + "".join(_ceiling_note(by, k) for k in missed if k.startswith("ORT fp32"))


def _ceiling_note(by: dict[tuple[str, int], Row], key: str) -> str:
    batch = int(key.rsplit(" ", 1)[1])
    eager, ort = by[("torch eager", batch)].gflop_per_s, by[("ORT fp32", batch)].gflop_per_s
    best = max(r.gflop_per_s for (v, _), r in by.items() if v == "ORT fp32")
    return (
        f" At batch {batch} ONNX Runtime fp32 computes IS-Net's convolutions at {ort:.0f} GFLOP/s against "
        f"torch eager's {eager:.0f}: twice eager's speed would take {2 * eager:.0f} GFLOP/s of fp32 "
        f"arithmetic, more than ONNX Runtime fp32 reaches in any row here ({best:.0f}); int8 gets there "
        f"({by[('ORT int8', batch)].gflop_per_s:.0f} GOP/s)."
    )


def e2e_table(runs: dict[str, EndToEnd], cli: float, photos: int) -> str:
    lines = [
        "| tool | import + session load (s) | first call (s) | ms / photo | of which `session.run` (ms) "
        "| rest: decode, resize, post-process, encode, write (ms) | photos / s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for e in runs.values():
        lines.append(
            f"| {e.tool} | {e.median('load_s'):.2f} | {e.median('first_s'):.2f} | "
            f"{e.ms_per_image:.0f} | {e.ort_ms_per_image:.0f} | "
            f"{e.ms_per_image - e.ort_ms_per_image:.0f} | {1000 / e.ms_per_image:.2f} |"
        )
    lines.append(
        f"| `cutkit remove` CLI, one whole process (startup + load + {photos} photos) | – | – | "
        f"{1000 * cli / photos:.0f} | – | – | {photos / cli:.2f} |"
    )
    return "\n".join(lines)


def e2e_text(runs: dict[str, EndToEnd], cli: float, photos: int, rembg_note: str, elsewhere: float) -> str:
    text = [
        "### End to end (photo file in → cutout PNG file out)",
        "",
        f"U²-Netp, the same exported fp32 ONNX file for both tools, {photos} JPEG photos of 1024×768 and "
        "768×1024. Each tool runs in a fresh process (cutkit and rembg alternating, "
        f"{len(runs['cutkit'].rounds)} round(s); medians over rounds): import and load the session "
        "(timed apart), one untimed first call, then per photo read bytes → remove → write PNG. cutkit: "
        f'`cutkit.Remover(model=PATH, device="cpu", threads={THREADS}).remove(data)`. '
        + (
            f'rembg: {rembg_note}, `new_session("u2net_custom", model_path=PATH)` with {THREADS} '
            "intra-op threads, `remove(data, session=...)`."
            if "rembg" in runs
            else "rembg: skipped."
        )
        + f" Other processes kept {elsewhere:.2f} cores busy meanwhile.",
        "",
        e2e_table(runs, cli, photos),
    ]
    if "rembg" in runs:
        cut, rem = runs["cutkit"], runs["rembg"]
        mad, r = alpha_agreement(cut.out_dir, rem.out_dir)
        text += [
            "",
            f"cutkit is **{rem.ms_per_image / cut.ms_per_image:.2f}×** as fast as rembg end to end "
            f"({cut.ms_per_image:.0f} vs {rem.ms_per_image:.0f} ms per photo); outside the network, "
            f"{cut.ms_per_image - cut.ort_ms_per_image:.0f} vs "
            f"{rem.ms_per_image - rem.ort_ms_per_image:.0f} ms per photo.",
            "",
            f"Sanity check, same photos and ONNX file: mean |alpha cutkit − alpha rembg| = {mad:.3f} "
            f"(0–1 scale), Pearson r = {r:.3f}. They differ by design: rembg min-max stretches each "
            "prediction, divides pixels by the photo's brightest value instead of 255 and resizes with "
            "LANCZOS; cutkit uses the probability as is, with area/bilinear resizing. With seed-0 weights "
            "the prediction is nearly flat (it spans a few hundredths), so rembg's stretch magnifies every "
            "small difference many times.",
        ]
    return "\n".join(text)


def section(info: dict[str, str], command: str, rows: list[Row], e2e: str) -> str:
    text = [
        SECTION,
        "",
        f"Measured {dt.date.today().isoformat()} on {info['cpu']} ({info['isa']}), {info['cores']} cores, "
        f"torch {info['torch']}, onnxruntime {info['onnxruntime']}, Python {info['python']}; "
        f"{THREADS} threads for torch and ONNX Runtime. The machine is shared: other processes kept "
        f"{info['elsewhere']} of its {info['cores']} cores busy on average during the run (load average "
        f"1/5/15 min: {info['load']} before, {info['load_after']} after).",
        "",
        f"```\n{command}\n```",
        "",
        "Weights are made from each architecture with `torch.manual_seed(0)`: speed does not depend on "
        "the weight values, and the official checkpoints cannot be downloaded here. int8 is ONNX "
        "Runtime's static QDQ quantization (per-channel int8 weights, uint8 activations) calibrated on 4 "
        "photos. The variants take turns run by run, so load from elsewhere hits them alike. "
        "*conv GFLOP/s* is the convolutions' arithmetic per image (2 × multiply-adds: "
        + ", ".join(sorted({f"{r.model} {r.gflop:.0f} GFLOP at {r.size}²" for r in rows}))
        + ") divided by the time (integer operations for int8): how close an engine comes to what the cores "
        "can compute. *cores busy "
        "elsewhere*: CPU time that other processes took while that block of rows was measured.",
        "",
        "### Network only (`engine.predict` on a preprocessed batch)",
        "",
        network_table(rows),
        "",
        goal_line(rows),
        "",
    ]
    return "\n".join(text + ([e2e, ""] if e2e else []))


def write_section(path: Path, text: str) -> None:
    """Replace this benchmark's section in ``path`` (or append it), leaving other sections alone."""
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = old.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.strip() == SECTION), None)
    if start is None:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        rest = ["", *lines[end:]] if end < len(lines) else []
        new = "\n".join([*lines[:start], *text.rstrip("\n").splitlines(), *rest])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new.rstrip("\n") + "\n")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------- main


def prepare(name: str, work: Path, calib: Path) -> tuple[Path, dict[str, Path]]:
    """Seed-0 weights, their fp32 ONNX export and its int8 quantization."""
    start = time.perf_counter()
    weights = make_weights(name, work)
    onnx = make_onnx(name, weights, calib, work)
    log(f"{name}: weights, ONNX export and int8 quantization in {time.perf_counter() - start:.0f} s")
    return weights, onnx


def write_inputs(work: Path, count: int) -> tuple[list[Path], Path]:
    """The photos, and a calibration folder with one photo per sample."""
    photos = write_photos(work / "photos", count)
    calib = work / "calib"
    calib.mkdir(exist_ok=True)
    for photo in photos[:4]:
        (calib / photo.name).write_bytes(photo.read_bytes())
    return photos, calib


def end_to_end(onnx: Path, photos: list[Path], work: Path, quick: bool, with_rembg: bool) -> str:
    """The end-to-end sub-section: cutkit (API loop, and the CLI) vs rembg."""
    python, note = rembg_python() if with_rembg else (None, "")
    clock = cpu_clock()
    runs = end_to_end_runs(onnx, photos, work, 1 if quick else 3, python)
    cli = cli_seconds(onnx, photos, work / "out-cli")
    return e2e_text(runs, cli, len(photos), note, cores_used_elsewhere(clock))


def _interpreter() -> str:
    exe = Path(sys.executable)
    return str(exe.relative_to(ROOT)) if exe.is_relative_to(ROOT) else "python"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker(args.worker, args.onnx, args.inputs, args.work)
        return 0
    import torch

    torch.set_num_threads(THREADS)
    command = shlex.join(
        [_interpreter(), "benchmarks/remove_speed.py", *(sys.argv[1:] if argv is None else argv)]
    )
    info, clock = machine(), cpu_clock()
    photos, calib = write_inputs(args.work, args.photos)
    rows, onnx = [], {}
    for name in args.models:
        weights, onnx[name] = prepare(name, args.work, calib)
        rows += network_rows(name, engine_factories(name, weights, onnx[name]), photos, args.quick)
    e2e = ""
    if E2E_MODEL in args.models:
        e2e = end_to_end(onnx[E2E_MODEL]["fp32"], photos, args.work, args.quick, not args.no_rembg)
    info["load_after"], info["elsewhere"] = _load_average(), f"{cores_used_elsewhere(clock):.2f}"
    text = section(info, command.strip(), rows, e2e)
    print(text)
    write_section(args.out, text)
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
