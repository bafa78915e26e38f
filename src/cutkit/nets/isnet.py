"""IS-Net, the dichotomous image segmentation network of DIS (``isnet-general-use.pth``).

Credit: Qin et al., "Highly Accurate Dichotomous Image Segmentation", ECCV 2022; upstream xuebinqin/DIS
(``ISNetDIS``, Apache-2.0). Re-implemented here with the official key layout.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from cutkit.nets._registry import register_net
from cutkit.nets.blocks import RSU4, RSU4F, RSU5, RSU6, RSU7, NestedU, StageSpec, max_pool_ceil, upsample_like


@register_net("isnet")
class ISNet(NestedU):
    """IS-Net: a strided stem, then U²-Net's nested U at half resolution, with no fusion head."""

    def __init__(self, *, in_ch: int = 3, out_ch: int = 1) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(in_ch, 64, 3, stride=2, padding=1)
        # never called: upstream defines it and commented out its use; kept so the module tree matches
        self.pool_in = max_pool_ceil()
        encoder = [
            StageSpec(RSU7, 64, 32, 64),
            StageSpec(RSU6, 64, 32, 128),
            StageSpec(RSU5, 128, 64, 256),
            StageSpec(RSU4, 256, 128, 512),
            StageSpec(RSU4F, 512, 256, 512),
            StageSpec(RSU4F, 512, 256, 512),
        ]
        decoder = [
            StageSpec(RSU4F, 1024, 256, 512),
            StageSpec(RSU4, 1024, 128, 256),
            StageSpec(RSU5, 512, 64, 128),
            StageSpec(RSU6, 256, 32, 64),
            StageSpec(RSU7, 128, 16, 64),
        ]
        self._build(encoder, decoder, out_ch)

    def forward(self, x: Tensor) -> tuple[list[Tensor], list[Tensor]]:
        """Return ``([sigmoid(d1)..sigmoid(d6)], [hx1d, hx2d, hx3d, hx4d, hx5d, hx6])``.

        ``d1`` is the prediction; every ``d`` is at the size of ``x``. The features are the decoder outputs,
        from half the input resolution (``hx1d``) down to 1/32 (``hx6``).
        """
        feats = self._features(self.conv_in(x))
        maps = [torch.sigmoid(upsample_like(d, x)) for d in self._side_logits(feats)]
        return maps, feats
