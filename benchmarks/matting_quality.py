"""Matting quality on the shared lemur (photo, trimap, true alpha): each step of the alpha, measured.

Rows, each adding one step to the one above, with the default model (``cutkit.Remover()``) and otherwise
default options: the raw mask (the network's map upsampled bilinearly), edge-aware (guided) upsampling,
then ``matting=True``. Errors are SAD, MSE, gradient and connectivity (:mod:`cutkit.metrics.matting`,
the alphamatting.com / Deep Image Matting definitions) in the lemur trimap's unknown region. A second
table varies the matting settings (band width, solver, working size, rembg's trimap). The section goes
into ``docs/quality.md``; a picture of the hardest edges (before/after, and the cutout over a new
colour with and without colour decontamination) goes to ``docs/images/matting-lemur.png``.

    .venv/bin/python benchmarks/matting_quality.py                     # one image: seconds
    .venv/bin/python benchmarks/matting_quality.py --out /tmp/q.md --figure /tmp/lemur.png
"""

from __future__ import annotations

import argparse
import io
import itertools
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sections import machine_line, write_section

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Matting on the lemur and the cat (`benchmarks/matting_quality.py`)"
STEPS = (
    ("raw mask (bilinear upsampling)", {"upsample": "bilinear"}),
    ("+ guided upsampling", {"upsample": "guided"}),
    ("+ matting", {"upsample": "guided", "matting": True}),
)
# Matting variants, each from the guided mask; the first is the default.
VARIANTS = (
    ("defaults", {}),
    ("band 0.02", {"matting_band": 0.02}),
    ("band 0.03", {"matting_band": 0.03}),
    ("band 0.06", {"matting_band": 0.06}),
    ("solver lbdm", {"matting_solver": "lbdm"}),
    ("solved at full size (680 px)", {"matting_max_side": 680}),
    (
        "rembg's trimap (thresholds 240 / 10, erode 10 px)",
        {"matting_fg_threshold": 240, "matting_bg_threshold": 10, "matting_erode": 10},
    ),
)
KEYS = (("sad", "SAD ↓"), ("mse", "MSE ↓"), ("gradient", "gradient ↓"), ("connectivity", "connectivity ↓"))
BACKGROUND = (40, 90, 200)  # the new colour of the figure's cutouts: far from the photo's greys and greens


@dataclass
class Measured:
    """One row: its label, errors and alpha."""

    label: str
    errors: dict[str, float]
    alpha: np.ndarray


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lemur", type=Path, help="folder with lemur.png, lemur_trimap.png, lemur_alpha.png")
    p.add_argument("--cat", type=Path, help="folder with cat.jpg, cat_trimap.png, cat_mask.png")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "quality.md", help="Markdown file to write")
    p.add_argument("--figure", type=Path, default=ROOT / "docs" / "images" / "matting-lemur.png")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (quality does not depend on them)")
    return p.parse_args(argv)


def lemur_folder(given: Path | None) -> Path:
    """``--lemur``, else ``shared/data/matting/lemur`` inside or next to the checkout."""
    return sample_folder(given, "lemur", "lemur.png")


def sample_folder(given: Path | None, name: str, photo: str) -> Path:
    """``given``, else ``shared/data/matting/<name>`` inside or next to the checkout."""
    tail = Path("shared", "data", "matting", name)
    for folder in [given] if given else [ROOT / tail, ROOT.parent / tail]:
        if folder is not None and (folder / photo).is_file():
            return folder
    raise SystemExit(f"the {name} sample was not found: pass --{name} FOLDER")


def load_cat(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Photo, trimap and reference mask of the cat (carvekit's sample: its mask is a model's output)."""
    from cutkit.io.image import open_image, to_rgb_array

    rgb = to_rgb_array(open_image(folder / "cat.jpg"))
    trimap = np.asarray(Image.open(folder / "cat_trimap.png").convert("L"))
    reference = np.asarray(Image.open(folder / "cat_mask.png").convert("L"))
    return rgb, trimap, reference


def load(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Photo (RGB uint8), trimap and true alpha (uint8) of the lemur."""
    from cutkit.io.image import open_image, to_rgb_array

    rgb = to_rgb_array(open_image(folder / "lemur.png"))
    trimap = np.asarray(Image.open(folder / "lemur_trimap.png").convert("L"))
    gt = np.asarray(Image.open(folder / "lemur_alpha.png").convert("L"))
    return rgb, trimap, gt


def run(
    remover: Any, label: str, options: dict[str, Any], rgb: np.ndarray, truth: tuple[np.ndarray, np.ndarray]
) -> Measured:
    """The alpha with ``options`` and its errors against ``truth`` (true alpha, trimap)."""
    from cutkit.metrics.matting import matting_errors

    alpha = remover.alpha_batch([rgb], remover.options.replace(**options))[0]
    gt, trimap = truth
    errors = matting_errors(alpha, gt, trimap).as_dict()
    print(f"{label}: " + ", ".join(f"{k} {v:.4f}" for k, v in errors.items()), file=sys.stderr)
    return Measured(label, errors, alpha)


def table(rows: list[Measured], first: str) -> str:
    head = f"| {first} | " + " | ".join(name for _, name in KEYS) + " |"
    lines = [head, "|---|" + "---:|" * len(KEYS)]
    for r in rows:
        values = " | ".join(f"{r.errors[k]:.4f}" if k == "mse" else f"{r.errors[k]:.3f}" for k, _ in KEYS)
        lines.append(f"| {r.label} | {values} |")
    return "\n".join(lines)


def verdict(steps: list[Measured]) -> str:
    """Whether each step lowers SAD, stated either way."""
    parts = []
    for before, after in itertools.pairwise(steps):
        change = after.errors["sad"] - before.errors["sad"]
        word = "improves" if change < 0 else "does **not** improve"
        parts.append(
            f"*{after.label.lstrip('+ ')}* {word} SAD ({before.errors['sad']:.3f} → "
            f"{after.errors['sad']:.3f}, {100 * change / before.errors['sad']:+.0f} %)"
        )
    return "; ".join(parts) + "."


# --- the figure -----------------------------------------------------------------------------------------

CROP = 160  # side of the figure's window (photo pixels), shown at twice the size
LABEL_H = 22


def hardest_window(trimap: np.ndarray, side: int = CROP) -> tuple[slice, slice]:
    """The ``side``² window holding the most unknown (soft, hairy) pixels of the trimap."""
    unknown = ((trimap != 0) & (trimap != 255)).astype(np.float32)
    counts = cv2.boxFilter(unknown, -1, (side, side), normalize=False, borderType=cv2.BORDER_CONSTANT)
    cy, cx = np.unravel_index(int(np.argmax(counts)), counts.shape)
    h, w = trimap.shape
    top, left = min(max(0, cy - side // 2), h - side), min(max(0, cx - side // 2), w - side)
    return slice(top, top + side), slice(left, left + side)


def panels(rgb: np.ndarray, steps: list[Measured], gt: np.ndarray) -> list[list[tuple[str, np.ndarray]]]:
    """Two rows of (label, full-size RGB image): the alphas, then cutouts over a new colour."""
    from cutkit import options as opt
    from cutkit.pipeline.compose import compose_output

    def over(alpha: np.ndarray, decontaminate: bool) -> np.ndarray:
        o = opt.resolve(bg=BACKGROUND, decontaminate=decontaminate)
        return np.asarray(compose_output(rgb, alpha, o).convert("RGB"))

    grey = lambda a: np.dstack([a] * 3)  # noqa: E731
    raw, _, matted = (s.alpha for s in steps)
    return [
        [("photo", rgb)]
        + [(s.label.lstrip("+ "), grey(s.alpha)) for s in steps]
        + [("true alpha", grey(gt))],
        [
            ("raw mask, photo colours", over(raw, False)),
            ("matting, photo colours", over(matted, False)),
            ("matting, decontaminated", over(matted, True)),
            ("true alpha, photo colours", over(gt, False)),
            ("true alpha, decontaminated", over(gt, True)),
        ],
    ]


def figure(rows: list[list[tuple[str, np.ndarray]]], window: tuple[slice, slice], path: Path) -> None:
    """The panels' windows at twice the size, labelled, written as a PNG."""
    from cutkit.io.image import write_atomic

    size = 2 * CROP
    columns = max(len(r) for r in rows)
    sheet = Image.new("RGB", (columns * size, len(rows) * (size + LABEL_H)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, row in enumerate(rows):
        for j, (label, image) in enumerate(row):
            crop = cv2.resize(image[window], (size, size), interpolation=cv2.INTER_NEAREST)
            y = i * (size + LABEL_H)
            sheet.paste(Image.fromarray(crop), (j * size, y + LABEL_H))
            draw.text((j * size + 4, y + 4), label, fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    sheet.save(buf, format="PNG", optimize=True)
    write_atomic(path, buf.getvalue())


# --- the section ----------------------------------------------------------------------------------------


def section(
    steps: list[Measured], variants: list[Measured], cat: list[Measured], command: str, figure_path: Path
) -> str:
    from cutkit.options import OPTIONS_BY_NAME

    defaults = ", ".join(
        f"`{k}={OPTIONS_BY_NAME[k].default}`"
        for k in ("resize", "matting_band", "matting_solver", "matting_max_side", "matting_fg_threshold")
    )
    figure_link = (
        figure_path.relative_to(ROOT / "docs") if figure_path.is_relative_to(ROOT / "docs") else figure_path
    )
    return "\n\n".join(
        [
            SECTION,
            machine_line(),
            f"```\n{command}\n```",
            "pymatting's lemur (680×440, true alpha and trimap), the default model at its own input size, "
            f"default options ({defaults}, `matting_bg_threshold=128`). Errors in the trimap's unknown "
            "region: SAD in thousands, MSE, gradient and connectivity (in thousands), as in "
            "alphamatting.com and Deep Image Matting (`cutkit.metrics.matting`). Speed: "
            "`benchmarks/matting_speed.py` in `docs/benchmarks.md`.",
            table(steps, "step"),
            verdict(steps),
            "Matting variants, each from the guided mask (the first row is the default):",
            table(variants, "matting"),
            "The default band (0.04 of the short side) was chosen on this image, the only one with a true "
            "alpha here, so the matting row is this table's best case; the band rows show how much it "
            "depends on that choice. The working size (384 px) was chosen for speed (`docs/benchmarks.md`); "
            "solving at full size changes little here. rembg's trimap (sure only above 240 / below 10) "
            "leaves the whole soft zone of a soft mask unknown, far more than the edge, and the solver then "
            "does worse than no matting at all.",
            f"![the lemur's hardest window: alphas, then cutouts over a new colour]({figure_link})",
            "Top: the photo, each step's alpha and the true alpha, in the window with the most unknown "
            "pixels (twice the size). Bottom: cutouts over a new colour, with the photo's own colours and "
            "with decontaminated ones (`decontaminate`, on by default).",
            "The second sample, carvekit's cat (2160×1440), has a trimap and a reference mask that is "
            "itself a model's output, not a true alpha; errors in its trimap's unknown region:",
            table(cat, "step"),
            verdict(cat),
            "Here the default model's mask is wrong well beyond the edge: it takes much of the wooden "
            "bench beside the cat as foreground, so the trimap built from it puts the uncertain band in "
            "the wrong place and matting refines the wrong boundary. Matting sharpens an edge the network "
            "has found; it cannot find one the network missed.",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    import cutkit

    cv2.setNumThreads(args.threads)
    rgb, trimap, gt = load(lemur_folder(args.lemur))
    remover = cutkit.Remover(threads=args.threads)
    steps = [run(remover, label, options, rgb, (gt, trimap)) for label, options in STEPS]
    matting = {"upsample": "guided", "matting": True}
    variants = [run(remover, label, {**matting, **o}, rgb, (gt, trimap)) for label, o in VARIANTS]
    figure(panels(rgb, steps, gt), hardest_window(trimap), args.figure)
    cat_rgb, cat_trimap, cat_ref = load_cat(sample_folder(args.cat, "cat", "cat.jpg"))
    cat = [run(remover, label, options, cat_rgb, (cat_ref, cat_trimap)) for label, options in STEPS]
    given = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join([".venv/bin/python", "benchmarks/matting_quality.py", *given])
    text = section(steps, variants, cat, command, args.figure)
    write_section(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
