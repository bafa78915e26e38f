"""Shared by the benchmark scripts: each owns one ``## `` section of a Markdown page and rewrites only it."""

from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path


def write_section(path: Path, text: str) -> None:
    """Replace the section of ``path`` headed by ``text``'s first line (a ``## `` heading), or append it.

    The section runs to the next ``## `` heading outside a fenced code block; the other sections stay
    as they are. A missing file is created with a ``# `` title made from its name.

    Raises:
        ValueError: when ``text`` does not start with a ``## `` heading.
    """
    title = text.split("\n", 1)[0].strip()
    if not title.startswith("## "):
        raise ValueError(f"{path}: a section must start with a '## ' heading, got {title!r}")
    old = path.read_text() if path.exists() else f"# {path.stem.replace('_', ' ').capitalize()}\n"
    lines = old.splitlines()
    headings = _headings(lines)
    start = next((i for i in headings if lines[i].strip() == title), None)
    if start is None:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = next((i for i in headings if i > start), len(lines))
        rest = ["", *lines[end:]] if end < len(lines) else []
        new = "\n".join([*lines[:start], *text.rstrip("\n").splitlines(), *rest])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(new.rstrip("\n") + "\n")
    tmp.replace(path)  # atomic: a reader never sees half a page


def _headings(lines: list[str]) -> list[int]:
    """Indices of the ``## `` lines that are headings (not inside a fenced code block)."""
    found, fenced = [], False
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("## "):
            found.append(i)
    return found


def machine_line() -> str:
    """Date, CPU, cores, load and library versions: what measured numbers depend on, in one sentence."""
    import cv2
    import numpy as np
    import torch

    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    cpu = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), None)
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"Measured {dt.date.today().isoformat()} on {cpu or platform.processor() or 'an unknown CPU'}, "
        f"{os.cpu_count()} cores (load average 1/5/15 min at the start: {load}), Python "
        f"{platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}, "
        f"OpenCV {cv2.__version__}."
    )
