"""AdamW with sensible parameter groups, and a warm-up + cosine learning-rate schedule."""

from __future__ import annotations

import math

import torch
from torch import nn

from cutkit.train.config import TrainConfig


def build_optimizer(net: nn.Module, cfg: TrainConfig, encoder: nn.Module | None) -> torch.optim.AdamW:
    """AdamW; norms and biases get no weight decay; the encoder has its own groups (for freezing).

    Group ``tag`` values are ``"encoder"`` or ``"rest"``, used by :func:`build_scheduler`.
    """
    enc_ids = {id(p) for p in encoder.parameters()} if encoder is not None else set()
    groups: dict[tuple[str, bool], list[nn.Parameter]] = {}
    for p in net.parameters():
        if p.requires_grad:
            tag = "encoder" if id(p) in enc_ids else "rest"
            groups.setdefault((tag, p.ndim <= 1), []).append(p)
    param_groups = [
        {"params": ps, "tag": tag, "weight_decay": 0.0 if no_decay else cfg.weight_decay}
        for (tag, no_decay), ps in sorted(groups.items())
    ]
    return torch.optim.AdamW(param_groups, lr=cfg.lr, fused=False)


def build_scheduler(
    opt: torch.optim.Optimizer, cfg: TrainConfig, steps_per_epoch: int, freeze_steps: int = 0
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up to ``lr``, then cosine to ``lr * min_lr``; frozen encoder groups get 0 until thawed."""
    total = max(1, cfg.epochs * steps_per_epoch)
    warmup = round(cfg.warmup_epochs * steps_per_epoch)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return cfg.min_lr + (1 - cfg.min_lr) * 0.5 * (1 + math.cos(math.pi * progress))

    def frozen(step: int) -> float:
        return 0.0 if step < freeze_steps else factor(step)

    lambdas = [frozen if g["tag"] == "encoder" else factor for g in opt.param_groups]
    return torch.optim.lr_scheduler.LambdaLR(opt, lambdas)
