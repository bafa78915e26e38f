"""ExtremeC3Net (Park et al., 2019), re-implemented after clovaai/ext_portrait_segmentation (MIT, NAVER)."""

from __future__ import annotations

import torch
from torch import nn

from cutkit.nets._portrait_blocks import BN_EPS, BR, CBR, Conv
from cutkit.nets._registry import register_net

# Dilation rates of the three C3 blocks in each stage.
LEVEL2_0_RATIOS = (1, 2, 3)
LEVEL2_RATIOS = (1, 3, 4)
LEVEL3_0_RATIOS = (1, 3, 5)
LEVEL3_RATIOS = (2, 4, 8)
FINE_RATIOS = (2, 4, 8)


def c3_block(n_in: int, n_out: int, dilation: int) -> nn.Sequential:
    """One concentrated-comprehensive (C3) branch with a 3x3 kernel.

    Rate 1 is a depthwise-separable conv. Larger rates first run a separable ``(2d-1)x1`` then
    ``1x(2d-1)`` depthwise pair (the "concentration" part, with default-eps BNs and one PReLU), then
    a dilated depthwise 3x3 and the pointwise projection.
    """
    if dilation == 1:
        return nn.Sequential(
            nn.Conv2d(n_in, n_in, 3, padding=1, groups=n_in, bias=False),
            nn.Conv2d(n_in, n_out, 1, bias=False),
        )
    span = 2 * dilation - 1
    half = dilation - 1
    return nn.Sequential(
        nn.Conv2d(n_in, n_in, (span, 1), padding=(half, 0), groups=n_in, bias=False),
        nn.BatchNorm2d(n_in),
        nn.PReLU(n_in),
        nn.Conv2d(n_in, n_in, (1, span), padding=(0, half), groups=n_in, bias=False),
        nn.BatchNorm2d(n_in),
        nn.Conv2d(n_in, n_in, 3, padding=dilation, dilation=dilation, groups=n_in, bias=False),
        nn.Conv2d(n_in, n_out, 1, bias=False),
    )


class C3Block(nn.Module):
    """A C3 branch held as ``.conv`` (upstream ``C3block``)."""

    def __init__(self, n_in: int, n_out: int, dilation: int) -> None:
        super().__init__()
        self.conv = c3_block(n_in, n_out, dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the branch."""
        return self.conv(x)


class _C3Branches(nn.Module):
    """Reduce with ``c1``, run three C3 branches on the same features, concatenate them."""

    def __init__(self, reduce: Conv, n_out: int, ratios: tuple[int, int, int]) -> None:
        super().__init__()
        width = n_out // 3
        self.c1 = reduce
        # The first branch absorbs the remainder when n_out is not a multiple of 3.
        self.d1 = C3Block(width, width + n_out - 3 * width, ratios[0])
        self.d2 = C3Block(width, width, ratios[1])
        self.d3 = C3Block(width, width, ratios[2])

    def branches(self, x: torch.Tensor) -> torch.Tensor:
        """Concatenate the three branch outputs."""
        reduced = self.c1(x)
        return torch.cat([self.d1(reduced), self.d2(reduced), self.d3(reduced)], 1)


class DownAdvancedC3(_C3Branches):
    """Advanced C3 module that halves the resolution with a strided 3x3 reduction."""

    def __init__(self, n_in: int, n_out: int, ratios: tuple[int, int, int]) -> None:
        super().__init__(Conv(n_in, n_out // 3, 3, stride=2), n_out, ratios)
        self.bn = nn.BatchNorm2d(n_out, eps=BN_EPS)
        self.act = nn.PReLU(n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Down-sample by 2."""
        return self.act(self.bn(self.branches(x)))


class AdvancedC3(_C3Branches):
    """Advanced C3 module with a 1x1 reduction and an optional residual."""

    def __init__(self, n_in: int, n_out: int, ratios: tuple[int, int, int], add: bool = True) -> None:
        super().__init__(Conv(n_in, n_out // 3, 1), n_out, ratios)
        self.bn = BR(n_out)
        self.add = add

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Keep the resolution."""
        out = self.branches(x)
        if self.add:
            out = out + x
        return self.bn(out)


class InputProjection(nn.Module):
    """The input image average-pooled ``times`` times by 2 (ESPNet's ``InputProjectionA``)."""

    def __init__(self, times: int) -> None:
        super().__init__()
        self.pool = nn.ModuleList([nn.AvgPool2d(2, stride=2) for _ in range(times)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Down-sample by ``2**times``."""
        for pool in self.pool:
            x = pool(x)
        return x


class ExtremeC3Encoder(nn.Module):
    """The coarse stride-4 encoder (upstream ``ExtremeC3NetCoarse`` without its classifier)."""

    def __init__(self, p: int, q: int) -> None:
        super().__init__()
        self.level1 = CBR(3, 24, 3, 2)
        self.sample1 = InputProjection(1)
        self.sample2 = InputProjection(2)
        self.b1 = BR(24 + 3)
        self.level2_0 = DownAdvancedC3(24 + 3, 48, LEVEL2_0_RATIOS)
        self.level2 = nn.ModuleList([AdvancedC3(48, 48, LEVEL2_RATIOS) for _ in range(p)])
        self.b2 = BR(48 + 48 + 3)
        self.level3_0 = AdvancedC3(48 + 48 + 3, 56, LEVEL3_0_RATIOS, add=False)
        self.level3 = nn.ModuleList([AdvancedC3(56, 56, LEVEL3_RATIOS) for _ in range(q)])
        self.b3 = BR(56 + 56)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the stride-4 features (112 channels)."""
        out1 = self.b1(torch.cat([self.level1(x), self.sample1(x)], 1))
        out2_0 = self.level2_0(out1)
        out2 = out2_0
        for layer in self.level2:
            out2 = layer(out2)
        out3_0 = self.level3_0(self.b2(torch.cat([out2, out2_0, self.sample2(x)], 1)))
        out3 = out3_0
        for layer in self.level3:
            out3 = layer(out3)
        return self.b3(torch.cat([out3_0, out3], 1))


class ExtremeC3Net(nn.Module):
    """ExtremeC3Net: coarse encoder plus a stride-2 fine branch; logits at the input resolution.

    H and W must be multiples of 4 (the input is pooled by 4 and concatenated with stride-4 features);
    upstream documents multiples of 8.
    """

    def __init__(self, classes: int = 1, p: int = 1, q: int = 5) -> None:
        super().__init__()
        self.encoder = ExtremeC3Encoder(p, q)
        self.upsample = nn.Sequential(
            nn.Conv2d(112, 24, 1, bias=False),
            nn.BatchNorm2d(24),
            nn.UpsamplingBilinear2d(scale_factor=2),
        )
        self.Fine = nn.Sequential(Conv(3, 24, 3, stride=2), AdvancedC3(24, 24, FINE_RATIOS))
        self.classifier = nn.Sequential(
            BR(24),
            nn.UpsamplingBilinear2d(scale_factor=2),
            nn.Conv2d(24, classes, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Compute the logits ``(N, classes, H, W)``."""
        return self.classifier(self.upsample(self.encoder(x)) + self.Fine(x))


@register_net("extremec3")
def extremec3(classes: int = 1, p: int = 1, q: int = 5) -> ExtremeC3Net:
    """Build ExtremeC3Net (upstream ``Stage2_ExtremeC3Net``); defaults are the released ``ExtremeC3.pth``.

    Args:
        classes: output channels; the release has 1 (Lovasz hinge, person where ``logit > 0``).
        p: advanced C3 modules in stage 2.
        q: advanced C3 modules in stage 3.
    """
    return ExtremeC3Net(classes=classes, p=p, q=q)
