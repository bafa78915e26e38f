"""What happens around the loop, one concern per hook: logs, checkpoints, early stopping, plots, export.

A hook has ``after_epoch(trainer, row)`` and ``after_train(trainer)``; both run on rank 0 only.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from cutkit.train.checkpoint import load_checkpoint, save_checkpoint
from cutkit.train.plots import plot_curves
from cutkit.train.run import MetricsLog

if TYPE_CHECKING:
    from cutkit.train.trainer import Trainer


class Hook:
    def after_epoch(self, trainer: Trainer, row: dict[str, float]) -> None:
        """Called with the epoch's logged row."""

    def after_train(self, trainer: Trainer) -> None:
        """Called once when the loop ends."""


class LogMetrics(Hook):
    """Appends each epoch to ``metrics.csv`` (and TensorBoard) and prints a one-line summary."""

    def __init__(self, log: MetricsLog, *, echo: bool = True) -> None:
        self.log, self.echo = log, echo

    def after_epoch(self, trainer: Trainer, row: dict[str, float]) -> None:
        self.log.add(row)
        if self.echo:
            shown = {k: v for k, v in row.items() if k.startswith(("train/loss", "val/"))}
            text = "  ".join(f"{k} {v:.4f}" for k, v in shown.items())
            print(
                f"epoch {int(row['epoch'])}/{trainer.cfg.epochs}  {text}  ({row['time']:.1f} s)", flush=True
            )

    def after_train(self, trainer: Trainer) -> None:
        self.log.close()


class Checkpoints(Hook):
    """``weights/last.pt`` every epoch and ``weights/best.pt`` when the validation metric improves."""

    def after_epoch(self, trainer: Trainer, row: dict[str, float]) -> None:
        key = f"val/{trainer.task.fitness}"
        value = row.get(key)
        if value is None and any(k.startswith("val/") for k in row):
            raise KeyError(
                f"validation gave no {key}; it gave {', '.join(k for k in row if k.startswith('val/'))}"
            )
        improved = value is None or (not math.isnan(value) and trainer.is_better(value))
        if improved:
            trainer.state.best, trainer.state.best_epoch = value, int(row["epoch"])
        weights = trainer.run_dir / "weights"
        save_checkpoint(weights / "last.pt", trainer.state_dict())
        if improved:
            save_checkpoint(weights / "best.pt", trainer.state_dict())


class EarlyStopping(Hook):
    """Stops when the validation metric has not improved for ``patience`` epochs."""

    def __init__(self, patience: int) -> None:
        self.patience = patience

    def after_epoch(self, trainer: Trainer, row: dict[str, float]) -> None:
        best = trainer.state.best_epoch
        if best is not None and row["epoch"] - best >= self.patience:
            print(f"early stopping: no better val/{trainer.task.fitness} since epoch {best}", flush=True)
            trainer.state.stop = True


class Curves(Hook):
    """``results.png``: every logged quantity against the epoch."""

    def after_epoch(self, trainer: Trainer, row: dict[str, float]) -> None:
        plot_curves(trainer.state.history, trainer.run_dir / "results.png")


class Export(Hook):
    """At the end: the best weights (EMA when kept) exported for inference by the task."""

    def after_train(self, trainer: Trainer) -> None:
        best = trainer.run_dir / "weights" / "best.pt"
        ckpt = load_checkpoint(best if best.is_file() else trainer.run_dir / "weights" / "last.pt")
        net = trainer.task.build_model()
        net.load_state_dict(ckpt["ema"]["module"] if ckpt.get("ema") else ckpt["model"])
        path = trainer.task.export(net.eval(), trainer.run_dir, trainer.run_dir.name)
        # a task other than salient segmentation says how its model is used (classify: cutkit predict)
        usage = getattr(trainer.task, "usage", None)
        hint = usage(trainer.run_dir) if usage else f"cutkit remove --model {trainer.run_dir}"
        print(f"exported {path} (epoch {ckpt['epoch']}); use it with: {hint}")


def default_hooks(trainer_cfg, log: MetricsLog) -> list[Hook]:
    """The standard hooks for a run, in the order they run."""
    hooks: list[Hook] = [LogMetrics(log, echo=True), Checkpoints()]
    if trainer_cfg.patience:
        hooks.append(EarlyStopping(trainer_cfg.patience))
    if trainer_cfg.plots:
        hooks.append(Curves())
    hooks.append(Export())
    return hooks
