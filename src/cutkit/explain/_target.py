"""What the explanation methods share: a forward pass with gradients, the target class, normalisation."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn


def forward_with_grad(net: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    """Run ``net`` on a copy of ``x`` that requires a gradient; returns ``(logits, that input)``.

    The input carries the gradient so activations get one even when the weights are frozen (an EMA copy or
    a teacher has ``requires_grad=False``); grad mode is forced on in case the caller runs under no_grad.
    """
    inp = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        logits = net(inp)
    if logits.ndim != 2:
        raise ValueError(f"expected (N, classes) logits from {type(net).__name__}, got {tuple(logits.shape)}")
    return logits, inp


def pick_targets(logits: Tensor, target: int | Sequence[int] | None) -> Tensor:
    """The class to explain per image: the predicted one when ``target`` is None."""
    n, classes = logits.shape
    if target is None:
        return logits.detach().argmax(dim=1)
    ids = torch.as_tensor([target] * n if isinstance(target, int) else list(target), device=logits.device)
    if ids.numel() != n:
        raise ValueError(f"{ids.numel()} target classes for {n} images")
    if ((ids < 0) | (ids >= classes)).any():
        raise ValueError(f"target classes {ids.tolist()} out of range for {classes} classes")
    return ids.long()


def backward_score(logits: Tensor, targets: Tensor) -> None:
    """Back-propagate the sum of each image's target logit (images do not mix: each gets its own gradient)."""
    with torch.enable_grad():
        logits.gather(1, targets[:, None]).sum().backward()


def normalise_maps(maps: Tensor) -> Tensor:
    """Scale each ``(H, W)`` map of an ``(N, H, W)`` batch to ``[0, 1]``; a flat map becomes all zeros."""
    flat = maps.flatten(1)
    low = flat.min(dim=1, keepdim=True).values
    span = flat.max(dim=1, keepdim=True).values - low
    out = (flat - low) / span.clamp_min(torch.finfo(maps.dtype).tiny)
    return torch.where(span > 0, out, torch.zeros_like(out)).view_as(maps)
