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
