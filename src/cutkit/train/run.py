"""The run folder ``runs/<task>/<name>/``: resolved config, ``metrics.csv``, TensorBoard logs, weights."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from cutkit.io.image import write_atomic
from cutkit.io.paths import increment_path


def new_run_dir(project: str | Path, task: str, name: str | None, *, exist_ok: bool) -> Path:
    """``project/task/name``, or ``train``, ``train2``, ... when no name is given or the name is taken."""
    path = Path(project) / task / (name or "train")
    return path if exist_ok else increment_path(path)


def find_run(spec: str, project: str | Path, task: str) -> Path:
    """A run named on the command line: a folder, a name under ``project/task``, or a checkpoint file."""
    for candidate in (Path(spec).expanduser(), Path(project) / task / spec):
        if candidate.is_file():
            return candidate.parent.parent if candidate.parent.name == "weights" else candidate.parent
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"run '{spec}' not found (looked for it as a path and under {Path(project) / task})"
    )


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically."""
    write_atomic(path, (json.dumps(data, indent=2, default=str) + "\n").encode())


class MetricsLog:
    """``metrics.csv`` (one row per epoch) and, when enabled, TensorBoard scalars."""

    def __init__(self, run_dir: Path, *, tensorboard: bool) -> None:
        self.path = run_dir / "metrics.csv"
        self.rows: list[dict[str, float]] = []
        self._tb = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(log_dir=str(run_dir / "tensorboard"))

    def load(self, rows: list[dict[str, float]]) -> None:
        """Continue from the rows of a resumed run."""
        self.rows = [dict(r) for r in rows]

    def add(self, row: dict[str, float]) -> None:
        self.rows.append(row)
        keys = list(dict.fromkeys(k for r in self.rows for k in r))
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        write_atomic(self.path, buf.getvalue().encode())
        if self._tb is not None:
            for key, value in row.items():
                if key != "epoch":
                    self._tb.add_scalar(key, value, int(row["epoch"]))
            self._tb.flush()

    def scalar(self, key: str, value: float, step: int) -> None:
        if self._tb is not None:
            self._tb.add_scalar(key, value, step)

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
