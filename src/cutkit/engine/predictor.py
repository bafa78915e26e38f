"""A network plus its output selection and activation: input batch → foreground probability."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from cutkit.zoo.spec import ModelSpec


class Predictor(nn.Module):
    """Wraps a bare network so that ``forward(x)`` returns ``(N, 1, H, W)`` probabilities.

    This is also the module exported to ONNX, so an exported file needs no output bookkeeping.
    """

    def __init__(self, net: nn.Module, *, output: tuple[int, ...], activation: str, fg_channel: int) -> None:
        super().__init__()
        self.net = net
        self.output = tuple(output)
        self.activation = activation
        self.fg_channel = fg_channel

    @classmethod
    def for_spec(cls, net: nn.Module, spec: ModelSpec) -> Predictor:
        return cls(net, output=spec.output, activation=spec.activation, fg_channel=spec.fg_channel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: Any = self.net(x)
        for index in self.output:
            out = out[index]
        return activate(out, self.activation, self.fg_channel)


def flush_subnormals(module: nn.Module) -> nn.Module:
    """Set the subnormal (denormal) floats among ``module``'s parameters and buffers to zero, in place.

    Released checkpoints hold many: SINet.pth ~3.4k and ExtremeC3.pth ~11k values below float32's smallest
    normal, left by weight decay on dead channels. x86 CPUs compute with subnormals tens of times slower
    (measured: SINet at 320x320 on CPU 0.9-2.8 s an image with them, 0.02-0.05 s without), in PyTorch and
    in ONNX Runtime alike. Zeroing them changes no output by more than ~1e-38.
    """
    with torch.no_grad():
        for tensor in (*module.parameters(), *module.buffers()):
            if tensor.is_floating_point():
                tensor.masked_fill_(tensor.abs() < torch.finfo(tensor.dtype).tiny, 0.0)
    return module


def activate(out: torch.Tensor, activation: str, fg_channel: int) -> torch.Tensor:
    """Turn a raw output map into the foreground probability ``(N, 1, H, W)``."""
    if activation == "softmax":
        return torch.softmax(out.float(), dim=1)[:, fg_channel : fg_channel + 1]
    out = out[:, fg_channel : fg_channel + 1].float()
    if activation == "sigmoid":
        return torch.sigmoid(out)
    if activation == "identity":
        return out
    raise ValueError(f"unknown activation '{activation}'")
