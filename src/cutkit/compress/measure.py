"""How big a network is: parameters, non-zero parameters, sparsity."""

from __future__ import annotations

from torch import Tensor, nn


def parameter_count(net: nn.Module) -> int:
    """Number of weights the network stores (pruning masks and their dense copies counted once)."""
    return sum(t.numel() for _, t in _weights(net))


def nonzero_count(net: nn.Module) -> int:
    """Number of weights that are not zero (what a sparse format would store)."""
    return sum(int(t.count_nonzero()) for _, t in _weights(net))


def sparsity(net: nn.Module) -> float:
    """Fraction of the weights that are zero."""
    total = parameter_count(net)
    return 1 - nonzero_count(net) / total if total else 0.0


def _weights(net: nn.Module) -> list[tuple[str, Tensor]]:
    """Each parameter as the forward pass sees it: a pruned ``weight`` rather than ``weight_orig``."""
    out = []
    for module_name, module in net.named_modules():
        for name, p in module.named_parameters(recurse=False):
            if name.endswith("_orig"):  # torch.nn.utils.prune keeps the dense copy; the masked one is used
                out.append((f"{module_name}.{name[:-5]}", getattr(module, name[:-5])))
            else:
                out.append((f"{module_name}.{name}", p))
    return out
