"""MobileNetV2 backbones: inverted residual blocks with linear bottlenecks, five feature levels.

Credit: Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", CVPR 2018. Written from the
paper; the stage table and the width rounding follow it (and torchvision's reference). The 1×1 conv to 1280
channels and the classifier are left out: a backbone ends at its last feature (see
:mod:`cutkit.nets._backbone`), a classification head adds its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from cutkit.nets._backbone import register_backbone

# One row per inverted-residual group: (expansion t, output channels c, repeats n, stride of the first s).
Group = tuple[int, int, int, int]

# The paper's table, cut into the five stages that end at reductions 2, 4, 8, 16 and 32.
V2_STAGES: tuple[tuple[Group, ...], ...] = (
    ((1, 16, 1, 1),),
    ((6, 24, 2, 2),),
    ((6, 32, 3, 2),),
    ((6, 64, 4, 2), (6, 96, 3, 1)),
    ((6, 160, 3, 2), (6, 320, 1, 1)),
)
# A lighter table for small CPU budgets: expansion 4 at the costly high-resolution stages, fewer repeats.
V2_LITE_STAGES: tuple[tuple[Group, ...], ...] = (
    ((1, 16, 1, 1),),
    ((4, 24, 2, 2),),
    ((4, 32, 2, 2),),
    ((6, 64, 3, 2), (6, 96, 2, 1)),
    ((6, 160, 2, 2), (6, 320, 1, 1)),
)
STEM_CHANNELS = 32


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round a scaled channel count to a multiple of ``divisor``, never more than 10% below ``value``."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class ConvBNAct(nn.Sequential):
    """Convolution (no bias), batch norm and an optional activation; "same" padding for odd kernels.

    Args:
        in_ch: input channels.
        out_ch: output channels.
        kernel: kernel size.
        stride: stride.
        groups: convolution groups (``in_ch`` for a depthwise convolution).
        act: the activation class (``nn.ReLU6``, ``nn.Hardswish``, ...), or None for a linear output.
    """

    def __init__(
        self,
        *,
        in_ch: int,
        out_ch: int,
        kernel: int = 3,
        stride: int = 1,
        groups: int = 1,
        act: type[nn.Module] | None = nn.ReLU6,
    ) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(in_ch, out_ch, kernel, stride=stride, padding=kernel // 2, groups=groups, bias=False),
            nn.BatchNorm2d(out_ch),
        ]
        if act is not None:
            layers.append(act(inplace=True))
        super().__init__(*layers)


class InvertedResidual(nn.Module):
    """1×1 expansion, depthwise 3×3, linear 1×1 projection; a residual add when shapes allow."""

    def __init__(self, *, in_ch: int, out_ch: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = in_ch * expansion
        layers: list[nn.Module] = []
        if expansion != 1:
            layers.append(ConvBNAct(in_ch=in_ch, out_ch=hidden, kernel=1))
        layers += [
            ConvBNAct(in_ch=hidden, out_ch=hidden, stride=stride, groups=hidden),
            # linear bottleneck: no activation after the projection, ReLU would destroy low-dim information
            ConvBNAct(in_ch=hidden, out_ch=out_ch, kernel=1, act=None),
        ]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: Tensor) -> Tensor:
        """Return the block output; ``stride`` 2 halves H and W (rounding up)."""
        out = self.block(x)
        return x + out if self.residual else out


class InvertedResidualBackbone(nn.Module):
    """A stride-2 stem followed by stages of inverted residual groups; one feature per stage.

    Args:
        stages: per stage, its groups ``(expansion, channels, repeats, first stride)``; the stem and the
            first stride of each stage fix the reductions.
        width: channel multiplier; every width is rounded to a multiple of 8.
        in_ch: input channels.
    """

    def __init__(self, *, stages: Sequence[Sequence[Group]], width: float, in_ch: int) -> None:
        super().__init__()
        if not width > 0:
            raise ValueError(f"width must be > 0, got {width}")
        if in_ch < 1:
            raise ValueError(f"in_ch must be >= 1, got {in_ch}")
        ch = make_divisible(STEM_CHANNELS * width)
        self.stem = ConvBNAct(in_ch=in_ch, out_ch=ch, stride=2)
        self.stages = nn.ModuleList()
        channels, reductions, reduction = [], [], 2
        for groups in stages:
            blocks = []
            for expansion, c, repeats, stride in groups:
                out = make_divisible(c * width)
                for i in range(repeats):
                    s = stride if i == 0 else 1
                    blocks.append(InvertedResidual(in_ch=ch, out_ch=out, stride=s, expansion=expansion))
                    ch, reduction = out, reduction * s
            self.stages.append(nn.Sequential(*blocks))
            channels.append(ch)
            reductions.append(reduction)
        self.out_channels: tuple[int, ...] = tuple(channels)
        self.reductions: tuple[int, ...] = tuple(reductions)
        _init_weights(self)

    def forward(self, x: Tensor) -> list[Tensor]:
        """Return one feature map per stage, finest first (see ``out_channels`` and ``reductions``)."""
        feats = []
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats


def _init_weights(module: nn.Module) -> None:
    # He init for ReLU-family nets trained from scratch; BN starts as identity
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


@register_backbone("mobilenetv2")
class MobileNetV2(InvertedResidualBackbone):
    """MobileNetV2 features (1.8 M parameters at ``width=1``): channels (16, 24, 32, 96, 320) at
    reductions (2, 4, 8, 16, 32).

    Args:
        width: channel multiplier (0.35, 0.5, 0.75, 1.0, 1.4 are the usual ones).
        in_ch: input channels.
    """

    def __init__(self, *, width: float = 1.0, in_ch: int = 3) -> None:
        super().__init__(stages=V2_STAGES, width=width, in_ch=in_ch)


@register_backbone("mobilenetv2_lite")
class MobileNetV2Lite(InvertedResidualBackbone):
    """A lighter MobileNetV2 (expansion 4 at reductions 4 and 8, fewer repeats) for tight CPU budgets.

    Same channels and reductions as :class:`MobileNetV2`.

    Args:
        width: channel multiplier.
        in_ch: input channels.
    """

    def __init__(self, *, width: float = 1.0, in_ch: int = 3) -> None:
        super().__init__(stages=V2_LITE_STAGES, width=width, in_ch=in_ch)
