"""``simple-cnn``: the textbook small CNN for MNIST-sized inputs (two conv+pool stages, two dense layers).

With the defaults on 28 × 28 grey images: conv 3×3 (32) → pool → conv 3×3 (64) → pool → dense 128 → dense
``num_classes``, about 0.42 M parameters, most of them in the first dense layer. Batch norm after each
convolution lets one epoch of MNIST reach about 98 % on a CPU.
"""

from __future__ import annotations

from torch import Tensor, nn

from cutkit.nets._backbone import build_backbone, register_backbone
from cutkit.nets.classify._base import Classifier, check_classifier_args, register_classifier
from cutkit.nets.classify.heads import DenseHead
from cutkit.nets.mobilenet import ConvBNAct, make_divisible

STAGE_CHANNELS = (32, 64)


@register_backbone("simple-cnn")
class SimpleCNNFeatures(nn.Module):
    """Two stages of conv 3×3 + BN + ReLU then 2× max pooling: channels (32, 64) at reductions (2, 4).

    Pooling rounds up (``ceil_mode``), so odd sizes keep the contract's ``ceil(H / r)``.

    Args:
        width: channel multiplier; widths are rounded to multiples of 8.
        in_ch: input channels.
    """

    def __init__(self, *, width: float = 1.0, in_ch: int = 3) -> None:
        super().__init__()
        if not width > 0:
            raise ValueError(f"width must be > 0, got {width}")
        if in_ch < 1:
            raise ValueError(f"in_ch must be >= 1, got {in_ch}")
        self.stages = nn.ModuleList()
        ch, channels = in_ch, []
        for base in STAGE_CHANNELS:
            out = make_divisible(base * width)
            conv = ConvBNAct(in_ch=ch, out_ch=out, act=nn.ReLU)
            self.stages.append(nn.Sequential(conv, nn.MaxPool2d(2, ceil_mode=True)))
            ch = out
            channels.append(out)
        self.out_channels: tuple[int, ...] = tuple(channels)
        self.reductions: tuple[int, ...] = (2, 4)

    def forward(self, x: Tensor) -> list[Tensor]:
        """Return the pooled output of each stage, finest first."""
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats


@register_classifier("simple-cnn")
class SimpleCNN(Classifier):
    """The textbook CNN: :class:`SimpleCNNFeatures` and a :class:`~cutkit.nets.classify.heads.DenseHead`.

    Grad-CAM reads the last convolution before its pooling (14 × 14 on a 28 px input).

    Args:
        num_classes: output logits.
        in_channels: input channels (1 for MNIST, 3 for CIFAR).
        width: channel multiplier of the convolutions.
        hidden: units of the hidden dense layer.
        grid: side of the map the dense layers read (7 = 28 px / 4; other inputs are average-pooled to it).
        dropout: dropout before the last dense layer.
    """

    def __init__(
        self,
        *,
        num_classes: int = 10,
        in_channels: int = 3,
        width: float = 1.0,
        hidden: int = 128,
        grid: int = 7,
        dropout: float = 0.25,
    ) -> None:
        check_classifier_args(num_classes=num_classes, in_channels=in_channels, dropout=dropout)
        if hidden < 1 or grid < 1:
            raise ValueError(f"hidden and grid must be >= 1, got hidden={hidden}, grid={grid}")
        backbone = build_backbone("simple-cnn", width=width, in_ch=in_channels)
        head = DenseHead(
            in_ch=backbone.out_channels[-1],
            num_classes=num_classes,
            hidden=hidden,
            grid=grid,
            dropout=dropout,
        )
        super().__init__(backbone=backbone, head=head, num_classes=num_classes, in_channels=in_channels)

    @property
    def gradcam_layer(self) -> nn.Module:
        """The last conv + BN + ReLU, before its pooling halves the map."""
        return self.backbone.stages[-1][0]
