"""ResNet-18/34/50 classifiers and their backbones, with an ImageNet or a CIFAR stem.

Credit: He et al., "Deep Residual Learning for Image Recognition", CVPR 2016. Written from the paper; the
bottleneck puts its stride on the 3×3 convolution ("ResNet v1.5", as torchvision does), and the last batch
norm of every residual branch starts at zero ("Bag of Tricks", Goyal et al. 2017), so each block starts as
the identity. Key names are cutkit's own (``backbone.stem``, ``backbone.stages.N``, ``head.fc``).

Stems. ``imagenet``: conv 7×7 stride 2 then 3×3 max pooling stride 2; features at reductions
(2, 4, 8, 16, 32), the stem's output being the first. ``cifar``: one conv 3×3 stride 1, no pooling, for
32 px images; features at reductions (1, 2, 4, 8).
"""

from __future__ import annotations

from torch import Tensor, nn

from cutkit.nets._backbone import build_backbone, register_backbone
from cutkit.nets.classify._base import Classifier, check_classifier_args, register_classifier
from cutkit.nets.classify.heads import PoolHead
from cutkit.nets.mobilenet import ConvBNAct, make_divisible

STEMS = ("imagenet", "cifar")


def _shortcut(in_ch: int, out_ch: int, stride: int) -> nn.Module:
    if stride == 1 and in_ch == out_ch:
        return nn.Identity()
    return ConvBNAct(in_ch=in_ch, out_ch=out_ch, kernel=1, stride=stride, act=None)


class BasicBlock(nn.Module):
    """Two 3×3 convolutions and a shortcut (ResNet-18/34)."""

    expansion = 1

    def __init__(self, *, in_ch: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = ConvBNAct(in_ch=in_ch, out_ch=planes, stride=stride, act=nn.ReLU)
        self.conv2 = ConvBNAct(in_ch=planes, out_ch=planes, act=None)
        self.shortcut = _shortcut(in_ch, planes, stride)
        self.act = nn.ReLU(inplace=True)
        nn.init.zeros_(self.conv2[1].weight)

    def forward(self, x: Tensor) -> Tensor:
        """Return ``relu(branch(x) + shortcut(x))``."""
        return self.act(self.conv2(self.conv1(x)) + self.shortcut(x))


class Bottleneck(nn.Module):
    """1×1 reduce, 3×3 (strided), 1×1 expand ×4, and a shortcut (ResNet-50)."""

    expansion = 4

    def __init__(self, *, in_ch: int, planes: int, stride: int) -> None:
        super().__init__()
        out_ch = planes * self.expansion
        self.conv1 = ConvBNAct(in_ch=in_ch, out_ch=planes, kernel=1, act=nn.ReLU)
        self.conv2 = ConvBNAct(in_ch=planes, out_ch=planes, stride=stride, act=nn.ReLU)
        self.conv3 = ConvBNAct(in_ch=planes, out_ch=out_ch, kernel=1, act=None)
        self.shortcut = _shortcut(in_ch, out_ch, stride)
        self.act = nn.ReLU(inplace=True)
        nn.init.zeros_(self.conv3[1].weight)

    def forward(self, x: Tensor) -> Tensor:
        """Return ``relu(branch(x) + shortcut(x))``."""
        return self.act(self.conv3(self.conv2(self.conv1(x))) + self.shortcut(x))


# depth → (block, blocks per stage)
LAYOUTS: dict[int, tuple[type[BasicBlock] | type[Bottleneck], tuple[int, ...]]] = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
}


class ResNetFeatures(nn.Module):
    """A ResNet without its classifier: a stem and four stages, one feature map each (see the module doc).

    Args:
        depth: 18, 34 or 50.
        stem: ``"imagenet"`` or ``"cifar"``.
        width: channel multiplier (64 · width channels in the first stage), rounded to multiples of 8.
        in_ch: input channels.
    """

    def __init__(self, *, depth: int, stem: str, width: float, in_ch: int) -> None:
        super().__init__()
        _check_args(depth, stem, width, in_ch)
        block, repeats = LAYOUTS[depth]
        ch = make_divisible(64 * width)
        imagenet = stem == "imagenet"
        self.stem = ConvBNAct(
            in_ch=in_ch, out_ch=ch, kernel=7 if imagenet else 3, stride=2 if imagenet else 1, act=nn.ReLU
        )
        self.pool = nn.MaxPool2d(3, stride=2, padding=1) if imagenet else nn.Identity()
        self.stem_is_level = imagenet  # at stride 2 the stem's map is a useful level; at stride 1 it repeats
        channels, reductions = ([ch], [2]) if imagenet else ([], [])
        reduction = 4 if imagenet else 1
        self.stages = nn.ModuleList()
        for i, n in enumerate(repeats):
            planes, stride = make_divisible(64 * width * 2**i), 1 if i == 0 else 2
            blocks = [block(in_ch=ch if j == 0 else planes * block.expansion, planes=planes,
                            stride=stride if j == 0 else 1) for j in range(n)]  # fmt: skip
            self.stages.append(nn.Sequential(*blocks))
            ch, reduction = planes * block.expansion, reduction * stride
            channels.append(ch)
            reductions.append(reduction)
        self.out_channels: tuple[int, ...] = tuple(channels)
        self.reductions: tuple[int, ...] = tuple(reductions)

    def forward(self, x: Tensor) -> list[Tensor]:
        """Return the feature maps, finest first (see ``out_channels`` and ``reductions``)."""
        x = self.stem(x)
        feats = [x] if self.stem_is_level else []
        x = self.pool(x)
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats


def _check_args(depth: int, stem: str, width: float, in_ch: int) -> None:
    if depth not in LAYOUTS:
        raise ValueError(f"ResNet depth must be one of {', '.join(map(str, LAYOUTS))}, got {depth}")
    if stem not in STEMS:
        raise ValueError(f"stem must be one of {', '.join(STEMS)}, got {stem!r}")
    if not width > 0:
        raise ValueError(f"width must be > 0, got {width}")
    if in_ch < 1:
        raise ValueError(f"in_ch must be >= 1, got {in_ch}")


@register_backbone("resnet18")
def resnet18_features(*, stem: str = "imagenet", width: float = 1.0, in_ch: int = 3) -> ResNetFeatures:
    """ResNet-18 features: channels (64, 64, 128, 256, 512) at reductions (2, 4, 8, 16, 32)."""
    return ResNetFeatures(depth=18, stem=stem, width=width, in_ch=in_ch)


@register_backbone("resnet34")
def resnet34_features(*, stem: str = "imagenet", width: float = 1.0, in_ch: int = 3) -> ResNetFeatures:
    """ResNet-34 features: channels (64, 64, 128, 256, 512) at reductions (2, 4, 8, 16, 32)."""
    return ResNetFeatures(depth=34, stem=stem, width=width, in_ch=in_ch)


@register_backbone("resnet50")
def resnet50_features(*, stem: str = "imagenet", width: float = 1.0, in_ch: int = 3) -> ResNetFeatures:
    """ResNet-50 features: channels (64, 256, 512, 1024, 2048) at reductions (2, 4, 8, 16, 32)."""
    return ResNetFeatures(depth=50, stem=stem, width=width, in_ch=in_ch)


class ResNet(Classifier):
    """A ResNet classifier: the backbone ``resnet{depth}`` and a global-pool linear head.

    Args:
        depth: 18, 34 or 50.
        num_classes: output logits.
        in_channels: input channels.
        stem: ``"imagenet"`` (224 px-style inputs) or ``"cifar"`` (32 px inputs).
        width: channel multiplier.
        dropout: dropout before the linear layer.
    """

    def __init__(
        self, *, depth: int, num_classes: int, in_channels: int, stem: str, width: float, dropout: float
    ) -> None:
        check_classifier_args(num_classes=num_classes, in_channels=in_channels, dropout=dropout)
        backbone = build_backbone(f"resnet{depth}", stem=stem, width=width, in_ch=in_channels)
        head = PoolHead(in_ch=backbone.out_channels[-1], num_classes=num_classes, dropout=dropout)
        super().__init__(backbone=backbone, head=head, num_classes=num_classes, in_channels=in_channels)


@register_classifier("resnet18")
def resnet18(
    *, num_classes: int = 10, in_channels: int = 3, stem: str = "imagenet", width: float = 1.0,
    dropout: float = 0.0,
) -> ResNet:  # fmt: skip
    """ResNet-18 (11.2 M parameters at width 1 with 10 classes)."""
    return ResNet(depth=18, num_classes=num_classes, in_channels=in_channels, stem=stem, width=width,
                  dropout=dropout)  # fmt: skip


@register_classifier("resnet34")
def resnet34(
    *, num_classes: int = 10, in_channels: int = 3, stem: str = "imagenet", width: float = 1.0,
    dropout: float = 0.0,
) -> ResNet:  # fmt: skip
    """ResNet-34 (21.3 M parameters at width 1 with 10 classes)."""
    return ResNet(depth=34, num_classes=num_classes, in_channels=in_channels, stem=stem, width=width,
                  dropout=dropout)  # fmt: skip


@register_classifier("resnet50")
def resnet50(
    *, num_classes: int = 10, in_channels: int = 3, stem: str = "imagenet", width: float = 1.0,
    dropout: float = 0.0,
) -> ResNet:  # fmt: skip
    """ResNet-50 (23.5 M parameters at width 1 with 10 classes)."""
    return ResNet(depth=50, num_classes=num_classes, in_channels=in_channels, stem=stem, width=width,
                  dropout=dropout)  # fmt: skip
