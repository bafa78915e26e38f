"""Matplotlib figures drawn on an Agg canvas of their own: no pyplot, no global backend switched behind the
user's back (a trainer run from a notebook leaves its plotting alone)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any


def new_figure(**kwargs: Any) -> Any:
    """A ``matplotlib.figure.Figure`` with its own Agg canvas; ``kwargs`` go to ``Figure``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Any, path: Path, **kwargs: Any) -> Path:
    """Render ``fig`` as PNG and write it atomically; ``kwargs`` go to ``savefig``."""
    from cutkit.io.image import write_atomic

    buf = io.BytesIO()
    fig.savefig(buf, format="png", **kwargs)
    write_atomic(Path(path), buf.getvalue())
    return Path(path)
