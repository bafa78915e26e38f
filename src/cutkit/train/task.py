"""What a task gives the trainer: a network, data, a training step, validation and an export.

The trainer owns the loop, optimisation, checkpoints, logging and distribution; a task owns everything that
depends on what is learnt. Classification, detection and GANs are further tasks on the same trainer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn
from torch.utils.data import Dataset


@dataclass
class TaskData:
    """The datasets of a run.

    Attributes:
        train: a map-style or iterable dataset of samples.
        val: the validation dataset (None: no validation).
        weights: per-sample sampling weights of a map-style ``train`` (None: uniform).
        length: samples per epoch.
        val_length: validation samples.
        record: a JSON-serialisable description (sources, split, counts), saved in the run.
    """

    train: Dataset
    val: Dataset | None
    weights: list[float] | None
    length: int
    val_length: int
    record: dict[str, Any]


class Task(Protocol):
    """The task side of training. ``fitness`` names the validation metric that picks ``best``."""

    name: str
    fitness: str
    fitness_mode: str  # "max" or "min"

    def config_dict(self) -> dict[str, Any]: ...

    def build_model(self) -> nn.Module: ...

    def encoder(self, net: nn.Module) -> nn.Module | None: ...

    def data(self, seed: int) -> TaskData: ...

    def collate(self, samples: list[dict[str, Any]]) -> dict[str, Any]: ...

    def training_step(
        self, net: nn.Module, batch: dict[str, Any], device: torch.device
    ) -> dict[str, torch.Tensor]:
        """The losses of one batch; ``"loss"`` is back-propagated, the others are logged."""
        ...

    def validate(
        self, net: nn.Module, loader: Any, device: torch.device, plot: Path | None
    ) -> dict[str, float]:
        """Metrics over the validation loader (and a sample-prediction plot when ``plot`` is given)."""
        ...

    def export(self, net: nn.Module, run_dir: Path, run_name: str) -> Path:
        """Write the final model for inference (``cutkit remove --model RUN``); returns its path."""
        ...
