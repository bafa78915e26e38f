"""Shared building blocks: the residual U-blocks (RSU) of U²-Net and IS-Net, and the nested U around them.

Credit: U²-Net (Qin et al., Pattern Recognition 2020, xuebinqin/U-2-Net) and DIS/IS-Net (Qin et al.,
ECCV 2022, xuebinqin/DIS), both Apache-2.0. Attribute names follow the official checkpoints so their
``state_dict`` loads unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def upsample_like(x: Tensor, ref: Tensor) -> Tensor:
    """Bilinearly resize ``x`` to the spatial size of ``ref`` (``align_corners=False``, as upstream)."""
    # size taken from the tensor, not computed in Python, so an ONNX export keeps H and W dynamic
    return F.interpolate(x, size=ref.shape[2:], mode="bilinear", align_corners=False)


def max_pool_ceil() -> nn.MaxPool2d:
    """2×2 max pool, stride 2, rounding the output size up (the U²-Net/IS-Net pool)."""
    # ceil_mode keeps odd sizes from losing their last row/column, so any H and W work
    return nn.MaxPool2d(2, stride=2, ceil_mode=True)


class REBNConv(nn.Module):
    """3×3 convolution (dilated), batch norm and ReLU: the unit every RSU block is made of."""

    def __init__(self, *, in_ch: int, out_ch: int, dilation: int = 1) -> None:
        super().__init__()
        self.conv_s1 = nn.Conv2d(in_ch, out_ch, 3, padding=dilation, dilation=dilation)
        self.bn_s1 = nn.BatchNorm2d(out_ch)
        self.relu_s1 = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        """Return ``relu(bn(conv(x)))`` at the size of ``x``."""
        return self.relu_s1(self.bn_s1(self.conv_s1(x)))


class RSU(nn.Module):
    """Residual U-block of height ``L``: a small U-Net whose output is added to its input projection.

    Subclasses fix ``height``. The encoder has ``L - 1`` convolutions separated by ``L - 2`` max pools, a
    dilated convolution forms the bottom, and the decoder concatenates each level's skip feature.
    """

    height: int

    def __init__(self, *, in_ch: int, mid_ch: int, out_ch: int) -> None:
        super().__init__()
        depth = self.height
        # registration order = the official state_dict order: rebnconvin, rebnconv1, pool1, rebnconv2, ...
        self.rebnconvin = REBNConv(in_ch=in_ch, out_ch=out_ch)
        self.rebnconv1 = REBNConv(in_ch=out_ch, out_ch=mid_ch)
        for i in range(2, depth):
            self.add_module(f"pool{i - 1}", max_pool_ceil())
            self.add_module(f"rebnconv{i}", REBNConv(in_ch=mid_ch, out_ch=mid_ch))
        self.add_module(f"rebnconv{depth}", REBNConv(in_ch=mid_ch, out_ch=mid_ch, dilation=2))
        for i in range(depth - 1, 1, -1):
            self.add_module(f"rebnconv{i}d", REBNConv(in_ch=2 * mid_ch, out_ch=mid_ch))
        self.rebnconv1d = REBNConv(in_ch=2 * mid_ch, out_ch=out_ch)

    def forward(self, x: Tensor) -> Tensor:
        """Return the block output, at the size of ``x``, with ``out_ch`` channels."""
        depth = self.height
        hxin = self.rebnconvin(x)
        skips = [self.rebnconv1(hxin)]
        for i in range(2, depth):
            pooled = getattr(self, f"pool{i - 1}")(skips[-1])
            skips.append(getattr(self, f"rebnconv{i}")(pooled))
        hx = getattr(self, f"rebnconv{depth}")(skips[-1])
        for i in range(depth - 1, 0, -1):
            hx = getattr(self, f"rebnconv{i}d")(torch.cat((hx, skips[i - 1]), 1))
            if i > 1:
                hx = upsample_like(hx, skips[i - 2])
        return hx + hxin


class RSU7(RSU):
    """RSU of height 7 (five pools): the first and last stage."""

    height = 7


class RSU6(RSU):
    """RSU of height 6 (four pools)."""

    height = 6


class RSU5(RSU):
    """RSU of height 5 (three pools)."""

    height = 5


class RSU4(RSU):
    """RSU of height 4 (two pools)."""

    height = 4


class RSU4F(nn.Module):
    """Pool-free RSU of height 4: dilations 1, 2, 4, 8 replace the pools on the already small deep maps."""

    def __init__(self, *, in_ch: int, mid_ch: int, out_ch: int) -> None:
        super().__init__()
        self.rebnconvin = REBNConv(in_ch=in_ch, out_ch=out_ch)
        self.rebnconv1 = REBNConv(in_ch=out_ch, out_ch=mid_ch)
        self.rebnconv2 = REBNConv(in_ch=mid_ch, out_ch=mid_ch, dilation=2)
        self.rebnconv3 = REBNConv(in_ch=mid_ch, out_ch=mid_ch, dilation=4)
        self.rebnconv4 = REBNConv(in_ch=mid_ch, out_ch=mid_ch, dilation=8)
        self.rebnconv3d = REBNConv(in_ch=2 * mid_ch, out_ch=mid_ch, dilation=4)
        self.rebnconv2d = REBNConv(in_ch=2 * mid_ch, out_ch=mid_ch, dilation=2)
        self.rebnconv1d = REBNConv(in_ch=2 * mid_ch, out_ch=out_ch)

    def forward(self, x: Tensor) -> Tensor:
        """Return the block output, at the size of ``x``, with ``out_ch`` channels."""
        hxin = self.rebnconvin(x)
        hx1 = self.rebnconv1(hxin)
        hx2 = self.rebnconv2(hx1)
        hx3 = self.rebnconv3(hx2)
        hx4 = self.rebnconv4(hx3)
        hx3d = self.rebnconv3d(torch.cat((hx4, hx3), 1))
        hx2d = self.rebnconv2d(torch.cat((hx3d, hx2), 1))
        hx1d = self.rebnconv1d(torch.cat((hx2d, hx1), 1))
        return hx1d + hxin


class StageSpec(NamedTuple):
    """One stage of a nested U: its block class and channel widths."""

    block: type[nn.Module]
    in_ch: int
    mid_ch: int
    out_ch: int

    def build(self) -> nn.Module:
        """Construct the block."""
        return self.block(in_ch=self.in_ch, mid_ch=self.mid_ch, out_ch=self.out_ch)


class NestedU(nn.Module):
    """The six-level nested U shared by U²-Net and IS-Net: RSU encoder, RSU decoder and 3×3 side heads.

    Subclasses call :meth:`_build` in ``__init__`` after registering anything that must come first in the
    ``state_dict`` (IS-Net's ``conv_in``), then use :meth:`_features` and :meth:`_side_logits`.
    """

    def _build(self, encoder: Sequence[StageSpec], decoder: Sequence[StageSpec], out_ch: int) -> None:
        """Register ``stage1..6`` with ``pool12..pool56`` between them, ``stage5d..1d`` and ``side1..6``."""
        for i, spec in enumerate(encoder, start=1):
            if i > 1:
                self.add_module(f"pool{i - 1}{i}", max_pool_ceil())
            self.add_module(f"stage{i}", spec.build())
        for i, spec in zip(range(len(decoder), 0, -1), decoder, strict=True):
            self.add_module(f"stage{i}d", spec.build())
        widths = [spec.out_ch for spec in reversed(decoder)] + [encoder[-1].out_ch]
        for i, width in enumerate(widths, start=1):
            self.add_module(f"side{i}", nn.Conv2d(width, out_ch, 3, padding=1))

    def _features(self, x: Tensor) -> list[Tensor]:
        """Return the decoder features ``[hx1d, hx2d, hx3d, hx4d, hx5d, hx6]``, finest first."""
        skips = [self.stage1(x)]
        for i in range(2, 7):
            pooled = getattr(self, f"pool{i - 1}{i}")(skips[-1])
            skips.append(getattr(self, f"stage{i}")(pooled))
        feats = [skips[-1]]
        for i in range(5, 0, -1):
            up = upsample_like(feats[0], skips[i - 1])
            feats.insert(0, getattr(self, f"stage{i}d")(torch.cat((up, skips[i - 1]), 1)))
        return feats

    def _side_logits(self, feats: Sequence[Tensor]) -> list[Tensor]:
        """Apply ``side1..6`` to the features, each at its own level's resolution."""
        return [getattr(self, f"side{i}")(feat) for i, feat in enumerate(feats, start=1)]
