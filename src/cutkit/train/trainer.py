"""The trainer: a short explicit loop; logging, checkpoints, plots and early stopping are hooks.

One optimiser step is :meth:`Trainer._step` (forward under autocast, backward, and on accumulation
boundaries clip + step + schedule + EMA). Everything that depends on what is learnt lives in the task.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, IterableDataset

from cutkit.train import distributed as dist
from cutkit.train.checkpoint import load_pretrained, pretrained_state_dict, rng_state, set_rng_state
from cutkit.train.config import TrainConfig
from cutkit.train.ema import ModelEMA
from cutkit.train.optim import build_optimizer, build_scheduler
from cutkit.train.sampler import EpochSampler
from cutkit.train.task import Task, TaskData


class TrainingError(RuntimeError):
    """Training cannot go on (a non-finite loss, say); the message says what to change."""


@dataclass
class TrainState:
    """Where the loop stands: the next epoch to run, optimiser steps so far, the best validation result."""

    epoch: int = 0
    step: int = 0
    best: float | None = None
    best_epoch: int | None = None
    history: list[dict[str, float]] = field(default_factory=list)
    stop: bool = False


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def resolve_amp(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype; ``auto`` is bf16 (or fp16 where bf16 is unsupported) on CUDA and off on CPU."""
    if amp == "auto":
        if device.type != "cuda":
            return None
        # native bf16 from Ampere (compute capability 8) on; older GPUs only emulate it, slowly
        return torch.bfloat16 if torch.cuda.get_device_capability(device)[0] >= 8 else torch.float16
    return {"off": None, "bf16": torch.bfloat16, "fp16": torch.float16}[amp]


def default_workers(device: torch.device, world: int) -> int:
    """Data workers: on CPU the network needs the cores, so few; on CUDA up to 8 per process."""
    cpus = os.cpu_count() or 1
    if device.type == "cuda":
        return max(1, min(8, cpus // world))
    return 1 if cpus <= 4 else min(4, cpus // (4 * world))


def _repeat(loader: DataLoader):
    """The loader's batches, started over if it ends early: a stream's share per process is uneven, and
    every process must take the same number of steps or DDP waits forever."""
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise TrainingError("the training data yielded no batch (fewer samples than --batch?)")


class Trainer:
    """Trains ``task``'s network with ``cfg``; rank 0 writes ``run_dir``.

    Args:
        task: what is learnt (network, data, losses, validation, export).
        cfg: the optimisation settings.
        run_dir: the run folder.
        device: where to train.
        workers: data-loading processes.
        info: this process's place in a distributed run.
        hooks: called after every epoch and at the end (see :mod:`cutkit.train.hooks`).
        resuming: a checkpoint will be loaded: ``--pretrained`` weights are not loaded again.
    """

    def __init__(
        self,
        *,
        task: Task,
        cfg: TrainConfig,
        run_dir: Path,
        device: torch.device,
        workers: int,
        info: dist.DistInfo,
        hooks: list[Any],
        resuming: bool = False,
    ) -> None:
        self.task, self.cfg, self.run_dir, self.device = task, cfg, run_dir, device
        self.workers, self.info, self.hooks = workers, info, hooks
        self.state = TrainState()
        self.amp = resolve_amp(cfg.amp, device)
        seed_everything(cfg.seed)
        self.data: TaskData = task.data(cfg.seed)
        self.model = task.build_model()
        self.pretrained_report = self._load_pretrained() if cfg.pretrained and not resuming else None
        self.model.to(
            device, memory_format=torch.channels_last if cfg.channels_last else torch.preserve_format
        )
        self.ema = ModelEMA(self.model, decay=cfg.ema_decay) if cfg.ema else None
        self.net = self._wrap(self.model)
        self.encoder = task.encoder(self.model)
        self._check_options()
        self.batches = self._batches_per_epoch()
        self.steps_per_epoch = self.batches // cfg.accumulate
        self.freeze_steps = cfg.freeze_encoder * self.steps_per_epoch
        self.optimizer = build_optimizer(self.model, cfg, self.encoder)
        self.scheduler = build_scheduler(self.optimizer, cfg, self.steps_per_epoch, self.freeze_steps)
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.amp is torch.float16)

    # ----------------------------------------------------------------------------------- set-up helpers
    def _load_pretrained(self):
        sd, source = pretrained_state_dict(self.cfg.pretrained)
        return load_pretrained(self.model, sd, source)

    def _wrap(self, model: nn.Module) -> nn.Module:
        net = model
        if self.info.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            net = nn.parallel.DistributedDataParallel(model, device_ids=ids)
        return torch.compile(net) if self.cfg.compile else net

    def _batches_per_epoch(self) -> int:
        """Batches per process and epoch, a whole number of accumulation groups (the rest is dropped)."""
        cfg, world = self.cfg, self.info.world
        n = self.data.length // (cfg.batch * world)
        if n < cfg.accumulate:
            raise ValueError(
                f"{self.data.length} training samples per epoch make {n} batches of {cfg.batch} per process "
                f"({world} process(es)); at least {cfg.accumulate} needed (--accumulate): lower --batch"
            )
        return n - n % cfg.accumulate

    def _check_options(self) -> None:
        if self.cfg.freeze_encoder and self.encoder is None:
            raise ValueError(
                f"--freeze-encoder: {type(self.model).__name__} has no separate encoder to freeze "
                "(cutnet has one)"
            )
        if self.cfg.patience and (self.data.val is None or self.data.val_length == 0):
            raise ValueError("--patience needs validation data (--val or --val-fraction > 0)")

    def loader(self, *, train: bool, epoch: int) -> DataLoader:
        """The data of one epoch; its order depends only on (seed, epoch, rank)."""
        ds = self.data.train if train else self.data.val
        if hasattr(ds, "set_epoch"):
            ds.set_epoch(epoch)
        sampler = None
        if train and not isinstance(ds, IterableDataset):
            sampler = EpochSampler(
                len(ds), weights=self.data.weights, num_samples=self.data.length, seed=self.cfg.seed,
                rank=self.info.rank, world=self.info.world,
            )  # fmt: skip
            sampler.set_epoch(epoch)
        return DataLoader(
            ds, batch_size=self.cfg.batch, sampler=sampler, num_workers=self.workers,
            collate_fn=self.task.collate, drop_last=train, pin_memory=self.device.type == "cuda",
            generator=torch.Generator().manual_seed(self.cfg.seed * 7919 + epoch),
        )  # fmt: skip

    # ----------------------------------------------------------------------------------------- the loop
    def fit(self) -> TrainState:
        """Run the remaining epochs, then the hooks' ``after_train`` (export, final plots)."""
        for epoch in range(self.state.epoch, self.cfg.epochs):
            start = time.perf_counter()
            row = {"epoch": epoch + 1, **self.train_epoch(epoch)}
            if self.info.is_main:
                row |= self.validate(epoch)
            row["time"] = round(time.perf_counter() - start, 3)
            self.state.epoch = epoch + 1
            self._after_epoch(row)
            if self.state.stop:
                break
        if self.info.is_main:
            for hook in self.hooks:
                hook.after_train(self)
        dist.barrier()
        return self.state

    def _after_epoch(self, row: dict[str, float]) -> None:
        if self.info.is_main:
            self.state.history.append(row)
            for hook in self.hooks:
                hook.after_epoch(self, row)
        self.state.stop = dist.broadcast_flag(self.state.stop, self.device)

    def train_epoch(self, epoch: int) -> dict[str, float]:
        """One pass over the training data; returns the mean of each loss term and the final lr."""
        self.net.train()
        if self.encoder is not None and epoch < self.cfg.freeze_encoder:
            self.encoder.eval()  # frozen: its BatchNorm statistics stay the pretrained ones too
        loader = self.loader(train=True, epoch=epoch)
        n = self.batches
        sums: dict[str, float] = {}
        bar = self._progress(n, epoch)
        tic, seen = time.perf_counter(), 0
        for i, batch in zip(range(n), _repeat(loader), strict=False):
            losses = self._step(batch, i, n)
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + float(v)
            seen += self.cfg.batch * self.info.world
            bar.set_postfix(
                loss=f"{sums['loss'] / (i + 1):.4f}", img_s=f"{seen / (time.perf_counter() - tic):.1f}"
            )
            bar.update()
        bar.close()
        means = dist.all_mean({f"train/{k}": v / max(1, n) for k, v in sums.items()}, self.device)
        return means | {
            "lr": self.optimizer.param_groups[-1]["lr"],
            "img_s": seen / (time.perf_counter() - tic),
        }

    def _step(self, batch: dict[str, Any], i: int, n: int) -> dict[str, torch.Tensor]:
        boundary = (i + 1) % self.cfg.accumulate == 0 or i + 1 == n
        sync = self.net.no_sync() if self.info.enabled and not boundary else contextlib.nullcontext()
        with sync:
            with self._autocast():
                losses = self.task.training_step(self.net, batch, self.device)
            self._check_finite(losses, i)
            self.scaler.scale(losses["loss"] / self.cfg.accumulate).backward()
        if boundary:
            self._optimizer_step()
        return {k: v.detach() for k, v in losses.items()}

    def _optimizer_step(self) -> None:
        if self.encoder is not None and self.state.step < self.freeze_steps:
            for p in self.encoder.parameters():
                p.grad = None  # frozen: AdamW skips it, and it does not count in the clipped norm
        if self.cfg.clip_grad:
            self.scaler.unscale_(self.optimizer)
            norm = nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.clip_grad)
            if not self.scaler.is_enabled() and not torch.isfinite(norm):  # fp16's scaler skips such steps
                raise TrainingError(
                    f"the gradient became {float(norm)} at epoch {self.state.epoch + 1}, "
                    f"step {self.state.step + 1}, before the weights were changed. "
                    "Try a lower --lr or --amp off"
                )
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.scheduler.step()
        self.state.step += 1
        if self.ema is not None:
            self.ema.update(self.model)

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.amp is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp)

    def _check_finite(self, losses: dict[str, torch.Tensor], i: int) -> None:
        bad = [k for k, v in losses.items() if not torch.isfinite(v).all()]
        if bad:
            lr = self.optimizer.param_groups[-1]["lr"]
            raise TrainingError(
                f"loss {bad[0]} became {float(losses[bad[0]].detach())} at epoch {self.state.epoch + 1}, "
                f"batch {i + 1} (lr {lr:.3g}); the checkpoints of earlier epochs are in "
                f"{self.run_dir / 'weights'}. Try a lower --lr, --amp off or --clip-grad 1"
            )

    def _progress(self, n: int, epoch: int):
        from tqdm import tqdm

        disable = not (self.info.is_main and self.cfg.progress)
        return tqdm(total=n, desc=f"epoch {epoch + 1}/{self.cfg.epochs}", disable=disable, leave=True)

    # ---------------------------------------------------------------------------------------- validation
    def eval_model(self) -> nn.Module:
        """The network that is validated and exported: the EMA when kept, else the trained one."""
        return self.ema.module if self.ema is not None else self.model

    @torch.no_grad()
    def validate(self, epoch: int) -> dict[str, float]:
        if self.data.val is None or self.data.val_length == 0:
            return {}
        net = self.eval_model().eval()
        plot = self.run_dir / "val_predictions.png" if self.cfg.plots else None
        with self._autocast():
            metrics = self.task.validate(net, self.loader(train=False, epoch=epoch), self.device, plot)
        return {f"val/{k}": v for k, v in metrics.items()}

    # ------------------------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Everything an exact resume needs."""
        s = self.state
        return {
            "model": self.model.state_dict(),
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": rng_state(),
            "config": {"train": self.cfg.to_dict(), "task": self.task.config_dict()},
            "auto": {"amp": str(self.amp), "world": self.info.world},
            "epoch": s.epoch,
            "step": s.step,
            "best": s.best,
            "best_epoch": s.best_epoch,
            "history": s.history,
        }

    def load_state_dict(self, ckpt: dict[str, Any]) -> None:
        """Continue from a checkpoint written by :meth:`state_dict`.

        Raises:
            ValueError: the run was trained with another precision or number of processes, which would
                change the schedule, the data split over processes or the gradient scaler.
        """
        saved = ckpt.get("auto", {})
        now = {"amp": str(self.amp), "world": self.info.world}
        for key, value in saved.items():
            if now.get(key) != value:
                raise ValueError(
                    f"cannot resume exactly: the run used {key} {value}, this one would use {now.get(key)} "
                    "(same --amp, device kind and number of processes needed)"
                )
        self.model.load_state_dict(ckpt["model"])
        if self.ema is not None and ckpt.get("ema"):
            self.ema.load_state_dict(ckpt["ema"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.scheduler.load_state_dict(ckpt["scheduler"])
        self.scaler.load_state_dict(ckpt["scaler"])
        set_rng_state(ckpt["rng"])
        self.state = TrainState(
            epoch=ckpt["epoch"], step=ckpt["step"], best=ckpt["best"], best_epoch=ckpt["best_epoch"],
            history=list(ckpt["history"]),
        )  # fmt: skip

    def is_better(self, value: float) -> bool:
        best = self.state.best
        if best is None or math.isnan(best):
            return True
        return value > best if self.task.fitness_mode == "max" else value < best
