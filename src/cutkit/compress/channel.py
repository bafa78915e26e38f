"""Structured channel pruning: whole channels go, with everything that depends on them.

Removing an output channel of a convolution also removes that channel of its BatchNorm, the matching input
channel of every consumer, and, through residual additions, the same channel of every layer that adds into
it. Torch-Pruning (Fang et al., "DepGraph", CVPR 2023) traces the network once and finds these groups; each
group is ranked by the L2 norm of its weights and the weakest go. The result is an ordinary, narrower
network: fewer parameters, fewer multiply-adds, faster on any runtime.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def prune_channels(
    net: nn.Module, example: Tensor, *, amount: float, ignored: list[nn.Module] | None = None
) -> nn.Module:
    """Remove the fraction ``amount`` of channels of every prunable layer, in place.

    The output layer (the one producing the logits) is never narrowed: its width is the number of classes.

    Args:
        net: the network (a classifier returning ``(N, classes)`` or any module returning one tensor).
        example: an input batch the network accepts (traced once to find the channel dependencies).
        amount: fraction of channels to remove per layer, in ``[0, 1)``.
        ignored: further modules whose output channels must stay.

    Returns:
        ``net``, narrower.
    """
    import torch_pruning as tp

    if not 0 <= amount < 1:
        raise ValueError(f"amount must be in [0, 1), got {amount}")
    was_training = net.training
    net.eval()  # tracing in eval mode leaves BatchNorm's running statistics untouched
    _check_traceable(net, example)
    keep = [*output_layers(net, example), *(ignored or [])]
    pruner = tp.pruner.MagnitudePruner(
        net, example, importance=tp.importance.MagnitudeImportance(p=2), pruning_ratio=amount,
        ignored_layers=keep,
    )  # fmt: skip
    pruner.step()
    return net.train(was_training)


def output_layers(net: nn.Module, example: Tensor) -> list[nn.Module]:
    """The layers whose outputs are the network's output: the last dense or conv layer of each output."""
    order: list[nn.Module] = []
    hooks = [
        m.register_forward_hook(lambda mod, _i, _o: order.append(mod))
        for m in net.modules()
        if isinstance(m, (nn.Linear, nn.Conv2d)) and not list(m.children())
    ]
    try:
        with torch.no_grad():
            out = net.eval()(example)
    finally:
        for h in hooks:
            h.remove()
    if not order:
        raise ValueError(f"{type(net).__name__} has no dense or convolution layer to prune")
    width = out.shape[1] if isinstance(out, Tensor) and out.ndim >= 2 else None
    last = order[-1]
    if width is not None and getattr(last, "out_features", getattr(last, "out_channels", None)) != width:
        raise ValueError(
            f"{type(net).__name__}: its last layer ({type(last).__name__}) does not produce its {width}-wide "
            "output; name the output layers with ignored="
        )
    return [last]


def _check_traceable(net: nn.Module, example: Tensor) -> None:
    """Refuse a network whose forward multiplies feature maps as matrices (``rows @ x @ cols``).

    Torch-Pruning reads such a product as coupling the last (spatial) dimension to channels, and its index
    propagation then does not finish (simple-cnn's grid pooling at 32 px ran for minutes at 40 % of memory).
    """
    from torch.overrides import TorchFunctionMode

    seen: list[tuple[int, ...]] = []
    matmuls = {torch.matmul, Tensor.matmul, Tensor.__matmul__, Tensor.__rmatmul__}

    class _Spy(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            if func in matmuls and any(isinstance(a, Tensor) and a.ndim >= 4 for a in args):
                seen.append(tuple(next(a.shape for a in args if isinstance(a, Tensor) and a.ndim >= 4)))
            return func(*args, **(kwargs or {}))

    with torch.no_grad(), _Spy():
        net(example)
    if seen:
        raise ValueError(
            f"{type(net).__name__} multiplies a feature map {seen[0]} as a matrix in its forward pass at "
            f"this input size ({tuple(example.shape[2:])}); channel pruning cannot trace through that. "
            "Use --method magnitude, or make that step a pooling layer"
        )
