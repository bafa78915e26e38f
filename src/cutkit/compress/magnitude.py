"""Unstructured magnitude pruning: the smallest weights of all convolutions and dense layers become zero.

The threshold is global (one over the whole network, as in Han et al. 2015), so layers with many small
weights lose more. Until :func:`make_permanent`, :mod:`torch.nn.utils.prune` keeps each weight as
``weight_orig × weight_mask``: fine-tuning then updates the kept weights while the pruned ones stay zero.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import prune

PRUNABLE = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.Linear)


def magnitude_prune(net: nn.Module, *, amount: float) -> list[str]:
    """Zero the fraction ``amount`` of smallest-magnitude weights over every conv and dense layer.

    Biases and normalisation parameters are kept (few values, large effect).

    Args:
        net: the network, pruned in place; its weights become masked (see the module's docstring).
        amount: fraction of those weights to zero, in ``[0, 1)``.

    Returns:
        The names of the pruned modules.
    """
    if not 0 <= amount < 1:
        raise ValueError(f"amount must be in [0, 1), got {amount}")
    targets = [(name, m) for name, m in net.named_modules() if isinstance(m, PRUNABLE)]
    if not targets:
        raise ValueError(f"{type(net).__name__} has no convolution or dense layer to prune")
    with torch.no_grad():  # the masked weights get no autograd history: the network stays deep-copyable
        prune.global_unstructured(
            [(m, "weight") for _, m in targets], pruning_method=prune.L1Unstructured, amount=amount
        )
    return [name for name, _ in targets]


def detach_masked(net: nn.Module) -> nn.Module:
    """Recompute each masked weight without autograd history; returns ``net``.

    A forward pass in grad mode leaves ``weight = weight_orig * weight_mask`` as a non-leaf tensor, which
    ``copy.deepcopy`` (the trainer's EMA, a model copy for export) refuses.
    """
    with torch.no_grad():
        for module in net.modules():
            for name in [n[:-5] for n, _ in module.named_parameters(recurse=False) if n.endswith("_orig")]:
                setattr(module, name, getattr(module, f"{name}_orig") * getattr(module, f"{name}_mask"))
    return net


def make_permanent(net: nn.Module) -> nn.Module:
    """Fold every pruning mask into its weight (plain parameters again, zeros included); returns ``net``."""
    for module in net.modules():
        for name in [n[:-5] for n, _ in module.named_parameters(recurse=False) if n.endswith("_orig")]:
            prune.remove(module, name)
    return net
