"""How long writing a cutout takes, per format and PNG compression level, and how large the file is.

A real photo (``shared/data/photos``, resized to 1024×768) is cut out once with the default model; its RGBA
result is then encoded by :func:`cutkit.io.image.encode` (what ``cutkit remove`` writes) and, for the PNG
levels, by Pillow with each zlib level. Encoding is single-threaded, so the load of the other core matters
little; the median of the timed runs is reported. The section goes into ``docs/benchmarks.md``.

    .venv/bin/python benchmarks/encode_speed.py
    .venv/bin/python benchmarks/encode_speed.py --runs 2 --out /tmp/b.md     # a smoke run
"""

from __future__ import annotations

import argparse
import io
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sections import machine_line, write_section

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Writing the cutout (`benchmarks/encode_speed.py`)"
SIZE = (1024, 768)
PNG_LEVELS = (1, 3, 6, 9)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--photo", type=Path, help="photo to cut out (default: shared/data/photos/bike.jpeg)")
    p.add_argument("--runs", type=int, default=7, help="timed runs per row (median)")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="Markdown file to write")
    return p.parse_args(argv)


def photo_path(given: Path | None) -> Path:
    tail = Path("shared", "data", "photos", "bike.jpeg")
    for path in [given] if given else [ROOT / tail, ROOT.parent / tail]:
        if path is not None and path.is_file():
            return path
    raise SystemExit("no photo found: pass --photo FILE")


def timed(encode: Callable[[], bytes], runs: int) -> tuple[float, int]:
    """Median milliseconds of ``encode`` over ``runs`` runs, and the size of its output in bytes."""
    times, size = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        size = len(encode())
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times), size


def pillow_png(img: Image.Image, level: int) -> Callable[[], bytes]:
    def run() -> bytes:
        buf = io.BytesIO()
        img.save(buf, format="PNG", compress_level=level)
        return buf.getvalue()

    return run


def rows(cutout: Image.Image, runs: int) -> list[tuple[str, float, int]]:
    """(label, ms, bytes) for cutkit's own formats, then Pillow's PNG levels."""
    from cutkit.io.image import PNG_LEVEL, encode

    labelled: list[tuple[str, Callable[[], bytes]]] = [
        (f"cutkit png (level {PNG_LEVEL})", lambda: encode(cutout, "png")),
        ("cutkit webp lossless", lambda: encode(cutout, "webp")),
        ("cutkit webp quality 90", lambda: encode(cutout, "webp", 90)),
        ("cutkit tif (deflate)", lambda: encode(cutout, "tif")),
    ]
    labelled += [(f"Pillow png level {level}", pillow_png(cutout, level)) for level in PNG_LEVELS]
    return [(label, *timed(fn, runs)) for label, fn in labelled]


def section(measured: list[tuple[str, float, int]], command: str) -> str:
    table = ["| encoder | ms ↓ | KiB ↓ |", "|---|---:|---:|"]
    table += [f"| {label} | {ms:.0f} | {size / 1024:.0f} |" for label, ms, size in measured]
    return "\n\n".join(
        [
            SECTION,
            machine_line(),
            f"```\n{command}\n```",
            f"The default model's RGBA cutout of a real photo at {SIZE[0]}×{SIZE[1]}, encoded in memory "
            "(median of the timed runs). Pillow's default PNG level is 6; rembg writes with it.",
            "\n".join(table),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    import cutkit

    photo = Image.open(photo_path(args.photo)).convert("RGB").resize(SIZE)
    cutout = cutkit.Remover(threads=2).remove(photo)
    given = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join([".venv/bin/python", "benchmarks/encode_speed.py", *given])
    text = section(rows(cutout, args.runs), command)
    write_section(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
