"""U²-Net and U²-Netp, salient-object segmentation with nested U-structures.

Credit: Qin et al., "U²-Net: Going Deeper with Nested U-Structure for Salient Object Detection", Pattern
Recognition 2020; upstream xuebinqin/U-2-Net (Apache-2.0). Re-implemented here with the official key layout.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from cutkit.nets._registry import register_net
from cutkit.nets.blocks import RSU4, RSU4F, RSU5, RSU6, RSU7, NestedU, StageSpec, upsample_like


class _U2Base(NestedU):
    """A nested U with a 1×1 fusion head ``outconv`` over the six side maps."""

    def __init__(
        self, encoder: list[StageSpec], decoder: list[StageSpec], out_ch: int, sigmoid: bool
    ) -> None:
        super().__init__()
        self._build(encoder, decoder, out_ch)
        self.outconv = nn.Conv2d(6 * out_ch, out_ch, 1)
        self.sigmoid = sigmoid

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        """Return ``(d0, d1, ..., d6)`` at the size of ``x``; ``d0`` is the fused prediction.

        The maps are probabilities as in the official model, or logits with ``sigmoid=False`` (training:
        the losses take logits, which is stable under mixed precision).
        """
        logits = self._side_logits(self._features(x))
        # side1 already works at input resolution; the coarser maps are resized to it
        sides = [logits[0]] + [upsample_like(d, logits[0]) for d in logits[1:]]
        fused = self.outconv(torch.cat(sides, 1))
        maps = (fused, *sides)
        return tuple(torch.sigmoid(d) for d in maps) if self.sigmoid else maps


@register_net("u2net")
class U2Net(_U2Base):
    """U²-Net full (44 M parameters); loads ``u2net.pth`` and its fine-tunes (human_seg, …)."""

    def __init__(self, *, in_ch: int = 3, out_ch: int = 1, sigmoid: bool = True) -> None:
        encoder = [
            StageSpec(RSU7, in_ch, 32, 64),
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
        super().__init__(encoder, decoder, out_ch, sigmoid)


@register_net("u2netp")
class U2NetP(_U2Base):
    """U²-Netp, the 1.1 M-parameter small model: stages 64 wide outside, 16 inside; loads ``u2netp.pth``."""

    def __init__(self, *, in_ch: int = 3, out_ch: int = 1, sigmoid: bool = True) -> None:
        blocks = [RSU7, RSU6, RSU5, RSU4, RSU4F, RSU4F]
        encoder = [StageSpec(block, in_ch if i == 0 else 64, 16, 64) for i, block in enumerate(blocks)]
        decoder = [StageSpec(block, 128, 16, 64) for block in reversed(blocks[:5])]
        super().__init__(encoder, decoder, out_ch, sigmoid)
