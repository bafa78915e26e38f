"""SINet (Park et al., WACV 2020), re-implemented after clovaai/ext_portrait_segmentation (MIT, NAVER)."""

from __future__ import annotations

import torch
from torch import nn

from cutkit.nets._portrait_blocks import BN_EPS, BR, CBR, Conv, channel_shuffle
from cutkit.nets._registry import register_net

# (kernel, avg-pool size) of the two S2 blocks in each S2 module, as published with ``Dnc_SINet``.
# Level 2 uses rows 0..p-1 and level 3 rows 2..q+1, so the two ranges may overlap as upstream.
S2_CONFIG: tuple[tuple[tuple[int, int], tuple[int, int]], ...] = (
    ((3, 1), (5, 1)),
    ((3, 1), (3, 1)),
    ((3, 1), (5, 1)),
    ((3, 1), (3, 1)),
    ((5, 1), (3, 2)),
    ((5, 2), (3, 4)),
    ((3, 1), (3, 1)),
    ((5, 1), (5, 1)),
    ((3, 2), (3, 4)),
    ((3, 1), (5, 2)),
)


class SqueezeBlock(nn.Module):
    """Squeeze-excitation whose gate is a PReLU, not a sigmoid (as trained upstream)."""

    def __init__(self, channels: int, divide: float) -> None:
        super().__init__()
        if divide > 1:
            hidden = int(channels / divide)
            self.dense = nn.Sequential(
                nn.Linear(channels, hidden),
                nn.PReLU(hidden),
                nn.Linear(hidden, channels),
                nn.PReLU(channels),
            )
        else:
            self.dense = nn.Sequential(nn.Linear(channels, channels), nn.PReLU(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scale each channel of ``x`` by a weight computed from its global mean."""
        weights = self.dense(x.mean(dim=(2, 3)))
        return x * weights[:, :, None, None]


class SEseparableCBR(nn.Module):
    """Depthwise conv, squeeze-excitation, pointwise conv, BN, PReLU (a strided down-sampler)."""

    def __init__(self, n_in: int, n_out: int, kernel: int, stride: int, divide: float) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(n_in, n_in, kernel, stride=stride, padding=(kernel - 1) // 2, groups=n_in, bias=False),
            SqueezeBlock(n_in, divide),
            nn.Conv2d(n_in, n_out, 1, bias=False),
        )
        self.bn = nn.BatchNorm2d(n_out, eps=BN_EPS)
        self.act = nn.PReLU(n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the separable SE convolution."""
        return self.act(self.bn(self.conv(x)))


class S2Block(nn.Module):
    """Spatial squeeze block: optional avg-pool, depthwise conv-BN, PReLU, 1x1 conv, upsample, BN."""

    def __init__(self, n_in: int, n_out: int, kernel: int, pool: int) -> None:
        super().__init__()
        self.down_res: nn.AvgPool2d | None = None
        self.up_res: nn.UpsamplingBilinear2d | None = None
        if pool > 1:
            self.down_res = nn.AvgPool2d(pool, pool)
            self.up_res = nn.UpsamplingBilinear2d(scale_factor=pool)
        self.conv = nn.Sequential(
            nn.Conv2d(n_in, n_in, kernel, padding=(kernel - 1) // 2, groups=n_in, bias=False),
            nn.BatchNorm2d(n_in, eps=BN_EPS),
        )
        self.act_conv1x1 = nn.Sequential(nn.PReLU(n_in), nn.Conv2d(n_in, n_out, 1, bias=False))
        self.bn = nn.BatchNorm2d(n_out, eps=BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the block; the pooled path returns to the input resolution before the final BN."""
        if self.down_res is not None:
            x = self.down_res(x)
        out = self.act_conv1x1(self.conv(x))
        if self.up_res is not None:
            out = self.up_res(out)
        return self.bn(out)


class S2Module(nn.Module):
    """Group pointwise conv, channel shuffle, two parallel S2 blocks, concat, optional residual, BN-PReLU."""

    def __init__(
        self, n_in: int, n_out: int, config: tuple[tuple[int, int], tuple[int, int]], add: bool = True
    ) -> None:
        super().__init__()
        groups = len(config)
        width = n_out // groups
        # The first block absorbs the remainder when n_out does not split evenly.
        self.c1 = Conv(n_in, width, 1, groups=groups)
        self.d1 = S2Block(width, width + n_out - groups * width, *config[0])
        self.d2 = S2Block(width, width, *config[1])
        self.BR = BR(n_out)
        self.add = add
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Both S2 blocks see the same shuffled features; their outputs are concatenated."""
        shuffled = channel_shuffle(self.c1(x), self.groups)
        out = torch.cat([self.d1(shuffled), self.d2(shuffled)], 1)
        if self.add:
            out = out + x
        return self.BR(out)


class SINetEncoder(nn.Module):
    """The SINet encoder: stride-8 features from two stages of S2 modules and a 1x1 classifier."""

    def __init__(self, classes: int, p: int, q: int, chnn: int) -> None:
        super().__init__()
        dim1 = 16
        dim2 = 48 + 4 * (chnn - 1)
        dim3 = 96 + 4 * (chnn - 1)
        self.level1 = CBR(3, 12, 3, 2)
        self.level2_0 = SEseparableCBR(12, dim1, 3, 2, divide=1)
        self.level2 = nn.ModuleList(
            [S2Module(dim1 if i == 0 else dim2, dim2, S2_CONFIG[i], add=i > 0) for i in range(p)]
        )
        self.BR2 = BR(dim2 + dim1)
        self.level3_0 = SEseparableCBR(dim2 + dim1, dim2, 3, 2, divide=2)
        self.level3 = nn.ModuleList(
            [S2Module(dim2 if i == 0 else dim3, dim3, S2_CONFIG[2 + i], add=i > 0) for i in range(q)]
        )
        self.BR3 = BR(dim3 + dim2)
        self.classifier = Conv(dim3 + dim2, classes, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the stride-4 stage-2 features and the stride-8 coarse logits."""
        out2_0 = self.level2_0(self.level1(x))
        out2 = out2_0
        for layer in self.level2:
            out2 = layer(out2)
        out3_0 = self.level3_0(self.BR2(torch.cat([out2_0, out2], 1)))
        out3 = out3_0
        for layer in self.level3:
            out3 = layer(out3)
        logits = self.classifier(self.BR3(torch.cat([out3_0, out3], 1)))
        return out2, logits


class SINet(nn.Module):
    """SINet with its information-blocking decoder; returns logits at the input resolution.

    H and W must be multiples of 32 (the deepest S2 blocks pool stride-8 features by 4).
    """

    def __init__(self, classes: int = 2, p: int = 2, q: int = 8, chnn: int = 1) -> None:
        super().__init__()
        if p < 1 or q < 1 or p > len(S2_CONFIG) or q + 2 > len(S2_CONFIG):
            raise ValueError(f"SINet needs 1 <= p <= {len(S2_CONFIG)} and 1 <= q <= {len(S2_CONFIG) - 2}")
        dim2 = 48 + 4 * (chnn - 1)
        self.encoder = SINetEncoder(classes, p, q, chnn)
        self.up = nn.UpsamplingBilinear2d(scale_factor=2)
        self.bn_3 = nn.BatchNorm2d(classes, eps=BN_EPS)
        self.level2_C = CBR(dim2, classes, 1, 1)
        self.bn_2 = nn.BatchNorm2d(classes, eps=BN_EPS)
        self.classifier = nn.Sequential(
            nn.UpsamplingBilinear2d(scale_factor=2),
            nn.Conv2d(classes, classes, 3, padding=1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Compute the logits ``(N, classes, H, W)``."""
        out2, coarse = self.encoder(x)
        stage1 = self.bn_3(self.up(coarse))
        # Information blocking: stage-2 detail only enters where the coarse prediction is unsure.
        gate = 1 - torch.softmax(stage1, dim=1).amax(dim=1, keepdim=True)
        stage2 = self.bn_2(self.up(self.level2_C(out2) * gate + stage1))
        return self.classifier(stage2)


@register_net("sinet")
def sinet(classes: int = 2, p: int = 2, q: int = 8, chnn: int = 1) -> SINet:
    """Build SINet (upstream ``Dnc_SINet``); the defaults are the released ``SINet.pth`` config.

    Args:
        classes: output channels (2: background, person; the mask is ``argmax == 1``).
        p: S2 modules in stage 2.
        q: S2 modules in stage 3.
        chnn: channel growth; stage widths are ``48 + 4 (chnn - 1)`` and ``96 + 4 (chnn - 1)``.
    """
    return SINet(classes=classes, p=p, q=q, chnn=chnn)
