"""Blocks shared by SINet and ExtremeC3Net (after clovaai/ext_portrait_segmentation, MIT, NAVER).

Attribute names (``conv``, ``bn``, ``act``) follow upstream so the official checkpoints load as they are.
"""

from __future__ import annotations

import torch
from torch import nn

# Upstream builds nearly every BatchNorm with eps=1e-3; the few default-eps ones are created explicitly.
BN_EPS = 1e-3


class CBR(nn.Module):
    """Bias-free 'same' convolution, BatchNorm (eps 1e-3), per-channel PReLU (upstream ``CBR``)."""

    def __init__(self, n_in: int, n_out: int, kernel: int, stride: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(n_in, n_out, kernel, stride=stride, padding=(kernel - 1) // 2, bias=False)
        self.bn = nn.BatchNorm2d(n_out, eps=BN_EPS)
        self.act = nn.PReLU(n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply conv → BN → PReLU."""
        return self.act(self.bn(self.conv(x)))


class BR(nn.Module):
    """BatchNorm (eps 1e-3) then per-channel PReLU (upstream ``BR``)."""

    def __init__(self, n_out: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(n_out, eps=BN_EPS)
        self.act = nn.PReLU(n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply BN → PReLU."""
        return self.act(self.bn(x))


class Conv(nn.Module):
    """A bias-free 'same' convolution held as ``.conv`` (upstream ``C``)."""

    def __init__(self, n_in: int, n_out: int, kernel: int, stride: int = 1, groups: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            n_in, n_out, kernel, stride=stride, padding=(kernel - 1) // 2, groups=groups, bias=False
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the convolution."""
        return self.conv(x)


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Interleave the channels of ``groups`` equal groups (ShuffleNet), shape-agnostic for ONNX."""
    return x.unflatten(1, (groups, -1)).transpose(1, 2).flatten(1, 2)
