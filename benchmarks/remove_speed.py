"""Removal speed on CPU: torch eager / channels_last vs ONNX Runtime fp32 / int8, and cutkit vs rembg.

Network-only rows time ``engine.predict`` on a preprocessed batch (median over timed runs after warm-up).
End-to-end rows time photo file in → cutout PNG file out, for cutkit and for rembg's ``u2net_custom``
session on the very ONNX file cutkit exported, each in a fresh process; rembg runs from its own
virtual environment (``benchmarks/.rembg-venv``, created on first use).

Speed does not depend on weight values, so the weights are made from the architecture with
``torch.manual_seed(0)``: the official checkpoints cannot be downloaded here.

``--default-vs-u2netp`` measures instead the default model (its real bundled weights) against U²-Netp's
architecture, network only and end to end through cutkit's normal removal path, and writes its own section
with the verdict of issue #4 (end-to-end CPU latency no higher than U²-Netp's).

    python benchmarks/remove_speed.py                  # full run, writes docs/benchmarks.md
    python benchmarks/remove_speed.py --quick --models u2netp --no-rembg
    python benchmarks/remove_speed.py --default-vs-u2netp
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
BASELINE = "u2netp"  # the architecture issue #4 holds the default model's end-to-end latency against
DEFAULT_SECTION = "## Default model vs U²-Netp (`benchmarks/remove_speed.py --default-vs-u2netp`)"
SEEDED = (
    "Weights are made from each architecture with `torch.manual_seed(0)`: speed does not depend on the "
    "weight values, and the official checkpoints cannot be downloaded here."
)
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


@dataclass(frozen=True, kw_only=True)
class Contestant:
    """What one end-to-end process runs: a :func:`worker` tool, its interpreter, model and weights."""

    label: str
    python: Path
    tool: str  # "cutkit" (cutkit.Remover) or "rembg"
    model: str  # a zoo name or an .onnx path
    weights: Path | None = None  # None: the model's own (as `cutkit remove` finds them)


@dataclass
class EndToEnd:
    """One contestant's end-to-end rounds (the JSON of :func:`worker`, one per fresh process)."""

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
    def net_ms_per_image(self) -> float:
        return 1000 * self.median("net_seconds")


@dataclass(frozen=True, kw_only=True)
class Report:
    """What one mode measured, ready for :func:`section`."""

    title: str  # the section's heading
    weights: str  # where the weights came from, one or two sentences
    rows: list[Row]
    after: list[str]  # paragraphs after the network table (empty ones are skipped)


# --------------------------------------------------------------------------------------------- setup


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer timed runs (a smoke run, noisier numbers)")
    p.add_argument(
        "--default-vs-u2netp",
        action="store_true",
        help="instead: the default model against U²-Netp's architecture (issue #4), in its own section",
    )
    p.add_argument("--models", nargs="+", choices=MODELS, help="models to time (default: all)")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="Markdown file to write")
    p.add_argument("--no-rembg", action="store_true", help="skip the end-to-end comparison with rembg")
    p.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "_work", help="scratch folder")
    p.add_argument(
        "--photos", type=int, default=8, help="photos to write (4 samples, landscape then portrait)"
    )
    p.add_argument("--worker", choices=("cutkit", "rembg"), help=argparse.SUPPRESS)
    p.add_argument("--worker-model", help=argparse.SUPPRESS)
    p.add_argument("--worker-weights", help=argparse.SUPPRESS)
    p.add_argument("inputs", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.default_vs_u2netp and (args.models or args.no_rembg):
        p.error("--default-vs-u2netp times its own two models and no rembg: drop --models / --no-rembg")
    args.models = args.models or list(MODELS)
    return args


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


def model_weights(name: str) -> Path:
    """The real weight file of ``name`` (bundled, cached or downloaded), as `cutkit remove` finds it."""
    from cutkit.zoo.registry import get_spec
    from cutkit.zoo.weights import resolve_weights

    return resolve_weights(get_spec(name).weights, progress=False)


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
    from cutkit.options import OPTIONS_BY_NAME
    from cutkit.pipeline.preprocess import to_input
    from cutkit.zoo.registry import get_spec

    spec, mode = get_spec(name), OPTIONS_BY_NAME["resize"].default
    rgbs = [to_rgb_array(open_image(photos[i % len(photos)])) for i in range(batch)]
    return np.stack([to_input(rgb, spec, mode) for rgb in rgbs])


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


def worker(tool: str, model: str, weights: str | None, photos: list[Path], out_dir: Path) -> None:
    """In a fresh process: load a session, then photo file → cutout PNG file per photo; prints JSON."""
    start = time.perf_counter()
    remove, network, call = _cutkit_remove(model, weights) if tool == "cutkit" else _rembg_remove(model)
    load_s = time.perf_counter() - start
    net_seconds = _time_calls(network, call)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    remove(photos[0].read_bytes())  # first call: lazy allocations; timed apart
    first_s = time.perf_counter() - start
    net_seconds.clear()
    seconds = []
    for path in photos:
        start = time.perf_counter()
        (out_dir / f"{path.stem}.png").write_bytes(remove(path.read_bytes()))
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"load_s": load_s, "first_s": first_s, "seconds": seconds, "net_seconds": net_seconds}))


def _time_calls(owner: Any, name: str) -> list[float]:
    """Record the seconds of each ``owner.name`` call (the network), to split network time from the rest."""
    seconds: list[float] = []
    call = getattr(owner, name)

    def timed_call(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        out = call(*args, **kwargs)
        seconds.append(time.perf_counter() - start)
        return out

    setattr(owner, name, timed_call)
    return seconds


def _cutkit_remove(model: str, weights: str | None) -> tuple[Callable[[bytes], bytes], Any, str]:
    import cutkit

    remover = cutkit.Remover(model=model, weights=weights, device="cpu", threads=THREADS)
    engine = remover.session.engine
    # The network alone: ONNX Runtime's own run (as timed for rembg), else the torch engine's predict.
    network = (engine.session, "run") if engine.name == "onnx" else (engine, "predict")
    return remover.remove, *network  # bytes in → PNG bytes out


def _rembg_remove(onnx: str) -> tuple[Callable[[bytes], bytes], Any, str]:
    import onnxruntime as ort
    from rembg import new_session, remove

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = THREADS  # as cutkit's threads=2; rembg's own default is all cores
    session = new_session("u2net_custom", sess_opts=opts, model_path=onnx)
    return (lambda data: remove(data, session=session)), session.inner_session, "run"


def run_worker(c: Contestant, photos: list[Path], out_dir: Path) -> dict[str, Any]:
    """Run :func:`worker` for ``c`` in a fresh process; its JSON result."""
    # rembg accepts model files under its home only.
    env = {**os.environ, "U2NET_HOME": str(Path(c.model).parent)} if c.tool == "rembg" else None
    cmd = [
        str(c.python),
        __file__,
        "--worker",
        c.tool,
        "--worker-model",
        c.model,
        *(["--worker-weights", str(c.weights)] if c.weights else []),
        "--work",
        str(out_dir),
        *map(str, photos),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    if done.returncode:
        raise RuntimeError(f"{c.label} worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cli_seconds(c: Contestant, photos: list[Path], out_dir: Path) -> float:
    """Wall seconds of one ``cutkit remove`` process over ``photos`` (startup and model load included)."""
    cmd = [
        str(Path(sys.executable).parent / "cutkit"),
        "remove",
        *map(str, photos),
        "--model",
        c.model,
        *(["--weights", str(c.weights)] if c.weights else []),
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


def race(
    contestants: Sequence[Contestant], photos: list[Path], work: Path, rounds: int
) -> dict[str, EndToEnd]:
    """Alternate the contestants' processes for ``rounds`` rounds (so all see the same machine load)."""
    runs = {c.label: EndToEnd(c.label, [], work / f"out-{c.label}") for c in contestants}
    for i in range(rounds):
        for c in contestants:
            runs[c.label].rounds.append(run_worker(c, photos, runs[c.label].out_dir))
            ms = 1000 * statistics.mean(runs[c.label].rounds[-1]["seconds"])
            log(f"end to end, round {i + 1}: {c.label} {ms:.1f} ms/photo")
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
            f"{r.best_ms_per_image:.0f} | {r.images_per_s:.2f} | {speedup:.2f}× | {gflop(r.gflop_per_s)} | "
            f"{len(r.seconds)} | {r.elsewhere:.2f} |"
        )
    return "\n".join(lines)


def gflop(amount: float) -> str:
    """A GFLOP count or rate: whole numbers from 10 up, two significant digits below (CutNet's ~1 GFLOP)."""
    return f"{amount:.0f}" if amount >= 10 else f"{amount:.2g}"


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


def e2e_table(
    runs: dict[str, EndToEnd],
    cli: dict[str, float],
    photos: int,
    *,
    who: str = "tool",
    net: str = "`session.run`",
) -> str:
    """The end-to-end table: a row per contestant, then one per ``cli`` entry (command → wall seconds)."""
    lines = [
        f"| {who} | import + session load (s) | first call (s) | ms / photo | of which {net} (ms) "
        "| rest: decode, resize, post-process, encode, write (ms) | photos / s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for e in runs.values():
        lines.append(
            f"| {e.tool} | {e.median('load_s'):.2f} | {e.median('first_s'):.2f} | "
            f"{e.ms_per_image:.0f} | {e.net_ms_per_image:.0f} | "
            f"{e.ms_per_image - e.net_ms_per_image:.0f} | {1000 / e.ms_per_image:.2f} |"
        )
    for command, seconds in cli.items():
        lines.append(
            f"| {command} CLI, one whole process (startup + load + {photos} photos) | – | – | "
            f"{1000 * seconds / photos:.0f} | – | – | {photos / seconds:.2f} |"
        )
    return "\n".join(lines)


def e2e_text(
    runs: dict[str, EndToEnd], cli: dict[str, float], photos: int, rembg_note: str, elsewhere: float
) -> str:
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
            f"{cut.ms_per_image - cut.net_ms_per_image:.0f} vs "
            f"{rem.ms_per_image - rem.net_ms_per_image:.0f} ms per photo.",
            "",
            f"Sanity check, same photos and ONNX file: mean |alpha cutkit − alpha rembg| = {mad:.3f} "
            f"(0–1 scale), Pearson r = {r:.3f}. They differ by design: rembg min-max stretches each "
            "prediction, divides pixels by the photo's brightest value instead of 255 and resizes with "
            "LANCZOS; cutkit uses the probability as is, with area/bilinear resizing. With seed-0 weights "
            "the prediction is nearly flat (it spans a few hundredths), so rembg's stretch magnifies every "
            "small difference many times.",
        ]
    return "\n".join(text)


def default_e2e_text(runs: dict[str, EndToEnd], cli: dict[str, float], photos: int, elsewhere: float) -> str:
    """The end-to-end sub-section of ``--default-vs-u2netp``, ending with issue #4's verdict."""
    default = next(label for label in runs if label != BASELINE)
    return "\n".join(
        [
            "### End to end (photo file in → cutout PNG file out)",
            "",
            f"{photos} JPEG photos of 1024×768 and 768×1024 through cutkit's normal removal path, the one "
            "`cutkit remove PHOTO --model NAME` takes: the default engine (torch, channels_last) and default "
            f'options but `device="cpu"` and `threads={THREADS}`; {default} loads its own weights as '
            "`cutkit remove` finds them, U²-Netp gets its seed-0 weight file as `weights=`. Each model runs "
            f"in a fresh process (models alternating, {len(runs[BASELINE].rounds)} round(s); medians over "
            "rounds): import and load the model (timed apart), one untimed first call, then per photo read "
            "bytes → `cutkit.Remover(...).remove(data)` → write PNG. Other processes kept "
            f"{elsewhere:.2f} cores busy meanwhile.",
            "",
            e2e_table(runs, cli, photos, who="model", net="`engine.predict`"),
            "",
            verdict_line(runs[default], runs[BASELINE]),
        ]
    )


def verdict_line(default: EndToEnd, baseline: EndToEnd) -> str:
    """Issue #4: the default model's end-to-end CPU latency no higher than U²-Netp's architecture's."""
    ratio = default.ms_per_image / baseline.ms_per_image
    return (
        f"Goal, end-to-end CPU latency of the default model ({default.tool}) no higher than U²-Netp's "
        f"architecture: **{'met' if ratio <= 1 else 'not met'}**, {default.ms_per_image:.0f} vs "
        f"{baseline.ms_per_image:.0f} ms per photo ({default.tool} takes {ratio:.2f}× U²-Netp's time, "
        f"{1 / ratio:.2f}× as fast)."
    )


def measured_line(info: dict[str, str]) -> str:
    """The machine the numbers come from, and how busy other processes kept it."""
    return (
        f"Measured {dt.date.today().isoformat()} on {info['cpu']} ({info['isa']}), {info['cores']} cores, "
        f"torch {info['torch']}, onnxruntime {info['onnxruntime']}, Python {info['python']}; "
        f"{THREADS} threads for torch and ONNX Runtime. The machine is shared: other processes kept "
        f"{info['elsewhere']} of its {info['cores']} cores busy on average during the run (load average "
        f"1/5/15 min: {info['load']} before, {info['load_after']} after)."
    )


def method_note(rows: list[Row]) -> str:
    """How the network rows were measured, and what their columns mean."""
    return (
        "int8 is ONNX Runtime's static QDQ quantization (per-channel int8 weights, uint8 activations) "
        "calibrated on 4 photos. The variants take turns run by run, so load from elsewhere hits them alike. "
        "*conv GFLOP/s* is the convolutions' arithmetic per image (2 × multiply-adds: "
        + ", ".join(sorted({f"{r.model} {gflop(r.gflop)} GFLOP at {r.size}²" for r in rows}))
        + ") divided by the time (integer operations for int8): how close an engine comes to what the cores "
        "can compute. *cores busy elsewhere*: CPU time that other processes took while that block of rows "
        "was measured."
    )


def section(info: dict[str, str], command: str, report: Report) -> str:
    text = [
        report.title,
        "",
        measured_line(info),
        "",
        f"```\n{command}\n```",
        "",
        f"{report.weights} {method_note(report.rows)}",
        "",
        "### Network only (`engine.predict` on a preprocessed batch)",
        "",
        network_table(report.rows),
        "",
    ]
    return "\n".join(text + [line for paragraph in report.after if paragraph for line in (paragraph, "")])


def write_section(path: Path, text: str) -> None:
    """Replace the section headed by ``text``'s first line in ``path`` (or append it); others stay."""
    title = text.split("\n", 1)[0].strip()
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = old.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.strip() == title), None)
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


def prepare(name: str, work: Path, calib: Path, weights: Path | None = None) -> tuple[Path, dict[str, Path]]:
    """The weights (seed-0 ones unless given), their fp32 ONNX export and its int8 quantization."""
    start = time.perf_counter()
    weights = weights or make_weights(name, work)
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
    cutkit = Contestant(label="cutkit", python=Path(sys.executable), tool="cutkit", model=str(onnx))
    rembg = [Contestant(label="rembg", python=python, tool="rembg", model=str(onnx))] if python else []
    clock = cpu_clock()
    runs = race([cutkit, *rembg], photos, work, 1 if quick else 3)
    cli = {"`cutkit remove`": cli_seconds(cutkit, photos, work / "out-cli")}
    return e2e_text(runs, cli, len(photos), note, cores_used_elsewhere(clock))


def engines_and_rembg(args: argparse.Namespace, photos: list[Path], calib: Path) -> Report:
    """The plain run: every engine variant of ``args.models``, then cutkit vs rembg end to end."""
    rows, onnx = [], {}
    for name in args.models:
        weights, onnx[name] = prepare(name, args.work, calib)
        rows += network_rows(name, engine_factories(name, weights, onnx[name]), photos, args.quick)
    e2e = ""
    if E2E_MODEL in args.models:
        e2e = end_to_end(onnx[E2E_MODEL]["fp32"], photos, args.work, args.quick, not args.no_rembg)
    return Report(title=SECTION, weights=SEEDED, rows=rows, after=[goal_line(rows), e2e])


def default_vs_u2netp(args: argparse.Namespace, photos: list[Path], calib: Path) -> Report:
    """Issue #4: the default model (its real weights) against U²-Netp's architecture (seed-0 weights)."""
    from cutkit.zoo import default_model

    default = default_model()
    real = model_weights(default)
    rows, contestants = [], []
    for name, given in ((BASELINE, None), (default, real)):
        weights, onnx = prepare(name, args.work, calib, given)
        rows += network_rows(name, engine_factories(name, weights, onnx), photos, args.quick)
        # The default model is left to find its own weights, as `cutkit remove --model NAME` does.
        explicit = None if given else weights
        contestants.append(
            Contestant(label=name, python=Path(sys.executable), tool="cutkit", model=name, weights=explicit)
        )
    return Report(
        title=DEFAULT_SECTION,
        weights=f"{default}, the default model, runs its own trained weights (`{real.name}`); U²-Netp's are "
        "made from its architecture with `torch.manual_seed(0)`: speed does not depend on the weight values, "
        "and the official checkpoint cannot be downloaded here.",
        rows=rows,
        after=[default_end_to_end(contestants, photos, args.work, args.quick)],
    )


def default_end_to_end(contestants: list[Contestant], photos: list[Path], work: Path, quick: bool) -> str:
    """The end-to-end sub-section of ``--default-vs-u2netp``: each model's API loop and its CLI process."""
    clock = cpu_clock()
    runs = race(contestants, photos, work, 1 if quick else 3)
    cli = {
        f"`cutkit remove --model {c.model}`": cli_seconds(c, photos, work / f"out-cli-{c.label}")
        for c in contestants
    }
    return default_e2e_text(runs, cli, len(photos), cores_used_elsewhere(clock))


def _interpreter() -> str:
    exe = Path(sys.executable)
    return str(exe.relative_to(ROOT)) if exe.is_relative_to(ROOT) else "python"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker(args.worker, args.worker_model, args.worker_weights, args.inputs, args.work)
        return 0
    import torch

    torch.set_num_threads(THREADS)
    command = shlex.join(
        [_interpreter(), "benchmarks/remove_speed.py", *(sys.argv[1:] if argv is None else argv)]
    )
    info, clock = machine(), cpu_clock()
    photos, calib = write_inputs(args.work, args.photos)
    measure = default_vs_u2netp if args.default_vs_u2netp else engines_and_rembg
    report = measure(args, photos, calib)
    info["load_after"], info["elsewhere"] = _load_average(), f"{cores_used_elsewhere(clock):.2f}"
    text = section(info, command.strip(), report)
    print(text)
    write_section(args.out, text)
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
