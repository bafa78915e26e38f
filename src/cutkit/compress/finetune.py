"""Fine-tuning a pruned classifier on the shared trainer, with the classify task of the run it came from.

:class:`PrunedTask` is that run's :class:`~cutkit.train.classify.ClassifyTask` with one change: the network
is the pruned one (a magnitude-pruned network keeps its masks while it trains, so pruned weights stay zero),
and the export records how it was pruned, which :func:`cutkit.zoo.classifier.load_classifier` needs to
rebuild a channel-pruned network.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

from torch import nn

from cutkit.compress.magnitude import detach_masked, make_permanent


def save_pruned(net: nn.Module, out_dir: Path, spec: Any) -> Path:
    """Write a pruned classifier (masks folded into its weights) as a run's model; returns its weights."""
    from cutkit.zoo.classifier import save_classifier

    return save_classifier(make_permanent(copy.deepcopy(detach_masked(net))).eval(), out_dir, spec)


def saved_config(run_dir: Path) -> dict[str, Any] | None:
    """The resolved ``{"train": ..., "task": ...}`` settings in a run's ``config.json`` (None: no file)."""
    path = run_dir / "config.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())["resolved"]
    except (ValueError, KeyError) as exc:
        raise ValueError(f"{path}: not a cutkit run config ({exc})") from exc


def classify_task(task_settings: dict[str, Any], spec: Any, *, data: str | None) -> Any:
    """The classify task of a run, trained on ``data`` (None: the run's) with the run's normalisation.

    Distillation is off: the pruned network learns from the labels (its teacher may not be at hand).
    """
    from cutkit._util.config_cli import build
    from cutkit.train.classify import ClassifyConfig, ClassifyTask

    names = {f.name for f in dataclasses.fields(ClassifyConfig)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in task_settings.items() if k in names}
    values |= {"mean": tuple(spec.mean), "std": tuple(spec.std), "teacher": None}
    if data is not None:
        values |= {"data": data, "val": None}
    return ClassifyTask(build(ClassifyConfig, values, where="the run's task settings"))


class PrunedTask:
    """A run's classify task training a pruned network.

    Args:
        inner: the classify task (data, loss, validation).
        net: the pruned network; each :meth:`build_model` returns a copy of it.
        spec: the pruned model's spec (its ``pruned`` field says how); renamed to the run on export.
    """

    def __init__(self, *, inner: Any, net: nn.Module, spec: Any) -> None:
        self.inner, self.net, self.spec = inner, net, spec
        self.name, self.fitness, self.fitness_mode = inner.name, inner.fitness, inner.fitness_mode

    def config_dict(self) -> dict[str, Any]:
        return {**self.inner.config_dict(), "pruned": self.spec.pruned}

    def build_model(self) -> nn.Module:
        return copy.deepcopy(detach_masked(self.net))

    def encoder(self, net: nn.Module) -> nn.Module | None:
        return None  # nothing is frozen while a pruned network recovers

    def data(self, seed: int) -> Any:
        return self.inner.data(seed)

    def collate(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        return self.inner.collate(samples)

    def training_step(self, net: nn.Module, batch: dict[str, Any], device: Any) -> dict[str, Any]:
        return self.inner.training_step(net, batch, device)

    def validate(self, net: nn.Module, loader: Any, device: Any, plot: Path | None) -> dict[str, float]:
        return self.inner.validate(net, loader, device, plot)

    def export(self, net: nn.Module, run_dir: Path, run_name: str) -> Path:
        return save_pruned(net, run_dir, dataclasses.replace(self.spec, name=run_name))

    def usage(self, run_dir: Path) -> str:
        return self.inner.usage(run_dir)
