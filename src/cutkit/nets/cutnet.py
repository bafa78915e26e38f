"""CutNet: cutkit's own light salient-object network, a registered backbone and a top-down decoder.

The decoder is a small FPN/U-Net hybrid: starting from the coarsest backbone feature (plus a global-context
vector), each level upsamples the coarser decoder feature bilinearly, adds a 1×1 lateral projection of the
backbone feature at its own reduction, and mixes the sum with a depthwise-separable 3×3 convolution. The
finest level (reduction 2) is the refinement the 1×1 head reads. Side heads on the coarser levels give deep
supervision during training only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from torch import Tensor, nn

from cutkit.nets._backbone import build_backbone
from cutkit.nets._registry import register_net
from cutkit.nets.blocks import upsample_like
from cutkit.nets.mobilenet import ConvBNAct

# Decoder widths per level, coarsest (reduction 32) first: wide where pixels are few, narrow at reduction 2
# where each channel costs 64× more than at reduction 16.
DEFAULT_DECODER_CHANNELS = (96, 64, 48, 32, 24)


class SeparableConv(nn.Sequential):
    """Depthwise 3×3 then pointwise 1×1, each with batch norm and ReLU."""

    def __init__(self, *, in_ch: int, out_ch: int) -> None:
        super().__init__(
            ConvBNAct(in_ch=in_ch, out_ch=in_ch, groups=in_ch, act=nn.ReLU),
            ConvBNAct(in_ch=in_ch, out_ch=out_ch, kernel=1, act=nn.ReLU),
        )


class TopDownLevel(nn.Module):
    """``fuse(upsample(reduce(top)) + lateral(skip))``: one decoder level at the skip's reduction."""

    def __init__(self, *, top_ch: int, skip_ch: int, out_ch: int) -> None:
        super().__init__()
        # narrowing before upsampling: the 1×1 then runs at the coarser resolution, 4× cheaper
        self.reduce = (
            ConvBNAct(in_ch=top_ch, out_ch=out_ch, kernel=1, act=nn.ReLU) if top_ch != out_ch else None
        )
        self.lateral = ConvBNAct(in_ch=skip_ch, out_ch=out_ch, kernel=1, act=nn.ReLU)
        self.fuse = SeparableConv(in_ch=out_ch, out_ch=out_ch)

    def forward(self, top: Tensor, skip: Tensor) -> Tensor:
        """Return the fused feature at the size of ``skip``."""
        if self.reduce is not None:
            top = self.reduce(top)
        return self.fuse(upsample_like(top, skip) + self.lateral(skip))


class CutDecoder(nn.Module):
    """Top-down decoder over backbone features; returns one feature per level, coarsest first.

    Args:
        in_channels: the backbone's ``out_channels``, finest first (the feature contract's order).
        channels: the decoder width per level, coarsest first; as many as ``in_channels``.
    """

    def __init__(self, *, in_channels: Sequence[int], channels: Sequence[int]) -> None:
        super().__init__()
        coarse_first = list(reversed(in_channels))
        # global context: the whole image's mean feature tells every pixel what the salient object looks like
        self.context = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(coarse_first[0], channels[0], 1), nn.ReLU(inplace=True)
        )
        self.top_lateral = ConvBNAct(in_ch=coarse_first[0], out_ch=channels[0], kernel=1, act=nn.ReLU)
        self.top_fuse = SeparableConv(in_ch=channels[0], out_ch=channels[0])
        self.levels = nn.ModuleList(
            TopDownLevel(top_ch=channels[i], skip_ch=coarse_first[i + 1], out_ch=channels[i + 1])
            for i in range(len(channels) - 1)
        )

    def forward(self, feats: Sequence[Tensor]) -> list[Tensor]:
        """Decode backbone features (finest first) into decoder features (coarsest first)."""
        coarse_first = list(reversed(feats))
        x = self.top_fuse(self.top_lateral(coarse_first[0]) + self.context(coarse_first[0]))
        out = [x]
        for level, skip in zip(self.levels, coarse_first[1:], strict=True):
            x = level(x, skip)
            out.append(x)
        return out


@register_net("cutnet")
class CutNet(nn.Module):
    """A light salient-object network for fast CPU inference: backbone → top-down decoder → 1×1 head.

    With the default MobileNetV2 backbone: about 1.9 M parameters and 0.64 GMACs (1.3 GFLOPs) at 320×320 (see
    ``tests/nets/test_backbones.py`` for the bound we hold it to). Any registered backbone fits, e.g.
    ``backbone_kwargs={"width": 0.5}`` or ``backbone="mobilenetv2_lite"``, and every classifier's features
    (``backbone="resnet18"``, whose weights a classification run's ``backbone.*`` tensors provide); the input
    channels are the backbone's (``backbone_kwargs={"in_ch": 4}``).

    ``forward(x)`` returns LOGITS, all ``(N, out_ch, H, W)`` at the input size: ``(main, side1, ..., sidek)``
    in training mode (``side_outputs=True``; one side per decoder level but the finest, coarsest last), and
    ``(main,)`` in eval mode, which computes no side head. H and W should be multiples of
    :attr:`size_multiple` (32), so every level aligns exactly; other sizes run but are resampled unevenly.

    Attributes for fine-tuning: ``encoder`` (the backbone: freeze it with ``net.encoder.parameters()``),
    ``decoder``, ``head`` (the main 1×1 conv) and ``side_heads``.

    Args:
        backbone: a registered backbone name (see ``cutkit.nets._backbone.backbone_names()``).
        backbone_kwargs: the backbone's keyword arguments.
        decoder_channels: decoder width, one number for every level or one per level, coarsest first
            (default: :data:`DEFAULT_DECODER_CHANNELS`, its finest entries for a backbone with fewer levels,
            e.g. a ``resnet18`` with ``stem="cifar"`` has four).
        side_outputs: add deep-supervision side heads (used in training mode only).
        out_ch: output channels (1 for a foreground map).
    """

    size_multiple: ClassVar[int] = 32

    def __init__(
        self,
        *,
        backbone: str = "mobilenetv2",
        backbone_kwargs: dict[str, Any] | None = None,
        decoder_channels: int | Sequence[int] | None = None,
        side_outputs: bool = True,
        out_ch: int = 1,
    ) -> None:
        super().__init__()
        if backbone_kwargs is not None and not isinstance(backbone_kwargs, dict):
            raise TypeError(f"backbone_kwargs must be a dict or None, got {type(backbone_kwargs).__name__}")
        self.encoder = build_backbone(backbone, **(backbone_kwargs or {}))
        levels = len(self.encoder.out_channels)
        channels = _decoder_widths(decoder_channels, levels)
        self.decoder = CutDecoder(in_channels=self.encoder.out_channels, channels=channels)
        self.head = nn.Conv2d(channels[-1], out_ch, 1)
        self.side_heads = (
            nn.ModuleList(nn.Conv2d(c, out_ch, 1) for c in channels[:-1]) if side_outputs else None
        )

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        """Return logits at the size of ``x``: ``(main,)`` in eval mode, ``(main, *sides)`` in training."""
        feats = self.decoder(self.encoder(x))
        main = upsample_like(self.head(feats[-1]), x)
        if not self.training or self.side_heads is None:
            return (main,)
        # finest side first, so side outputs get coarser down the tuple, as U²-Net's d1..d6 do
        sides = [upsample_like(h(f), x) for h, f in zip(self.side_heads, feats[:-1], strict=True)]
        return (main, *reversed(sides))


def _decoder_widths(decoder_channels: int | Sequence[int] | None, levels: int) -> tuple[int, ...]:
    if decoder_channels is None:
        # the defaults suit their reductions (coarse wide, fine narrow): fewer levels keep the fine end
        pad = (DEFAULT_DECODER_CHANNELS[0],) * max(0, levels - len(DEFAULT_DECODER_CHANNELS))
        return (*pad, *DEFAULT_DECODER_CHANNELS)[-levels:]
    widths = (decoder_channels,) * levels if isinstance(decoder_channels, int) else tuple(decoder_channels)
    if len(widths) != levels or not all(isinstance(c, int) and c > 0 for c in widths):
        raise ValueError(
            f"decoder_channels must be a positive int or {levels} positive ints (one per backbone level, "
            f"coarsest first), got {decoder_channels!r}"
        )
    return widths
