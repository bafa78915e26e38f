"""How empty is the mask of a photo with no subject? Gradients, textures and stripes through a model.

A network must output its probability as is (never min-max normalised per image, as rembg does), so a
plain scene should come out (almost) empty. This generates ``--count`` scenes of each kind of
:mod:`cutkit.data.no_subject` at 640×480 (seeds that training does not use) and reports, per kind, the mean
alpha and the share of pixels above one half, for each ``--model`` (a zoo name or a training run). The
section goes into ``docs/quality.md``.

    .venv/bin/python benchmarks/no_subject.py
    .venv/bin/python benchmarks/no_subject.py --model cutnet-duts runs/salient/my-run --out /tmp/q.md
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sections import machine_line, write_section

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Photos with no subject (`benchmarks/no_subject.py`)"
SIZE_HW = (480, 640)
FIRST_SEED = 1_000_000


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", nargs="+", default=[None], help="zoo names or run folders")
    p.add_argument("--input-size", type=int, help="run the networks at N×N (default: each its own)")
    p.add_argument("--count", type=int, default=20, help="scenes of each kind")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "quality.md", help="Markdown file to write")
    return p.parse_args(argv)


def scenes(count: int) -> dict[str, list[np.ndarray]]:
    """``count`` generated scenes of each kind, by kind name."""
    from cutkit.data.no_subject import SCENES

    out: dict[str, list[np.ndarray]] = {}
    for k, scene in enumerate(SCENES):
        images = []
        for i in range(count):
            rng = np.random.default_rng(FIRST_SEED + 1000 * k + i)
            t = scene(SIZE_HW, rng)
            low, high = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
            images.append((low + (high - low) * t[..., None]).astype(np.uint8))
        out[scene.__name__.lstrip("_")] = images
    out["mosaic (held out)"] = [mosaic(np.random.default_rng(FIRST_SEED + 9000 + i)) for i in range(count)]
    windows = background_windows(count)
    if windows:
        out["DUTS-TE backgrounds (held out)"] = windows
    return out


def mosaic(rng: np.random.Generator) -> np.ndarray:
    """A generator training never used: random-coloured Voronoi cells (tiles, cobbles, a stained glass)."""
    h, w = SIZE_HW
    seeds = rng.uniform(0, 1, (int(rng.integers(20, 200)), 2)) * (h, w)
    yy, xx = np.mgrid[0:h:4, 0:w:4]
    cell = np.argmin((yy[..., None] - seeds[:, 0]) ** 2 + (xx[..., None] - seeds[:, 1]) ** 2, axis=-1)
    colours = rng.uniform(0, 255, (len(seeds), 3)).astype(np.uint8)
    return np.repeat(np.repeat(colours[cell], 4, axis=0), 4, axis=1)[:h, :w]


def background_windows(count: int) -> list[np.ndarray]:
    """Windows of the shared duts-te-mini photos where the true mask is empty (never trained on)."""
    from PIL import Image

    from cutkit.data.no_subject import background_window

    folder = next((d for d in (ROOT / "shared", ROOT.parent / "shared") if d.is_dir()), None)
    if folder is None:
        return []
    images = sorted((folder / "data" / "sod" / "duts-te-mini" / "images").glob("*.jpg"))
    found: list[np.ndarray] = []
    for i, path in enumerate(images):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        mask = np.asarray(Image.open(path.parent.parent / "masks" / f"{path.stem}.png").convert("L"))
        window = background_window(rgb, (mask > 0).astype(np.float32), np.random.default_rng(FIRST_SEED + i))
        if window is not None and min(window.shape[:2]) >= 48:
            found.append(window)
    return found[: count * 2]


def measure(
    model: str | None, kinds: dict[str, list[np.ndarray]], input_size: int | None
) -> dict[str, tuple[float, float]]:
    """Per kind: mean alpha (0-1) and the share of pixels with alpha above 0.5."""
    import cutkit

    remover = cutkit.Remover(model, threads=2, input_size=input_size)
    result = {}
    for kind, images in kinds.items():
        alphas = np.concatenate([a.ravel() for a in remover.alpha_batch(images)]).astype(np.float32) / 255
        result[kind] = (float(alphas.mean()), float((alphas > 0.5).mean()))
        print(f"{model or 'default'} {kind}: mean {result[kind][0]:.3f}, >0.5 {result[kind][1]:.3f}")
    return result


def section(rows: dict[str, dict[str, tuple[float, float]]], count: int, command: str) -> str:
    kinds = next(iter(rows.values()))
    head = "| model | " + " | ".join(f"{k}: mean α / >½" for k in kinds) + " |"
    lines = [head, "|---|" + "---:|" * len(kinds)]
    for model, measured in rows.items():
        cells = " | ".join(f"{m:.3f} / {f:.3f}" for m, f in measured.values())
        lines.append(f"| {model} | {cells} |")
    return "\n\n".join(
        [
            SECTION,
            machine_line(),
            f"```\n{command}\n```",
            f"{count} generated scenes of each kind at {SIZE_HW[1]}×{SIZE_HW[0]} "
            "(linear and radial gradients, "
            "filtered-noise textures from fine grain to soft clouds, stripes and checks; random colours), "
            "default options. *mean α*: the mean alpha (0-1); *>½*: the share of pixels whose alpha is above "
            "one half. An empty mask is 0 / 0; min-max normalising each prediction, as rembg does, would "
            "stretch every one of them to a full 0-1 range. The first four kinds are those the `no_subject` "
            "augmentation generates in training (other seeds); *mosaic* (random-coloured Voronoi cells) and "
            "*DUTS-TE backgrounds* (windows of the test photos where the true mask is empty, at their own "
            "size) were never trained on.",
            "\n".join(lines),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    kinds = scenes(args.count)
    rows = {(m or "default"): measure(m, kinds, args.input_size) for m in args.model}
    given = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join([".venv/bin/python", "benchmarks/no_subject.py", *given])
    text = section(rows, args.count, command)
    write_section(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
