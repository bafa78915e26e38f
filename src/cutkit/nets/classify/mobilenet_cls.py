"""``mobilenet-cls``: a MobileNetV2 classifier on the ``mobilenetv2`` features, with an optional CIFAR stem.

Credit: Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", CVPR 2018. The features are
:class:`cutkit.nets.mobilenet.MobileNetV2` (same key layout), so a ``mobilenet-cls`` run also initialises the
default CutNet encoder; the head is the paper's 1×1 conv to 1280 channels, global pooling, dropout and a
linear layer.
"""

from __future__ import annotations

from torch import nn

from cutkit.nets._backbone import build_backbone, register_backbone
from cutkit.nets.classify._base import Classifier, check_classifier_args, register_classifier
from cutkit.nets.classify.heads import PoolHead
from cutkit.nets.classify.resnet import STEMS
from cutkit.nets.mobilenet import MobileNetV2, make_divisible

HEAD_CHANNELS = 1280


@register_backbone("mobilenet-cls")
def mobilenet_cls_features(*, stem: str = "imagenet", width: float = 1.0, in_ch: int = 3) -> MobileNetV2:
    """MobileNetV2 features: channels (16, 24, 32, 96, 320) at reductions (2, 4, 8, 16, 32) with the
    ``imagenet`` stem, at (1, 2, 4, 8, 16) with the ``cifar`` stem (a stride-1 first conv for 32 px inputs).
    """
    if stem not in STEMS:
        raise ValueError(f"stem must be one of {', '.join(STEMS)}, got {stem!r}")
    features = MobileNetV2(width=width, in_ch=in_ch)
    if stem == "cifar":
        # only the stride changes, so the weights (and their names) stay MobileNetV2's
        features.stem[0].stride = (1, 1)
        features.reductions = tuple(r // 2 for r in features.reductions)
    return features


@register_classifier("mobilenet-cls")
class MobileNetClassifier(Classifier):
    """MobileNetV2 features → 1×1 conv (1280 · max(1, width)) → pool → dropout → linear.

    Grad-CAM reads the 1×1 expansion's output, the last spatial map (as usual for MobileNetV2).

    Args:
        num_classes: output logits.
        in_channels: input channels.
        stem: ``"imagenet"`` or ``"cifar"`` (stride-1 first conv).
        width: channel multiplier.
        dropout: dropout before the linear layer.
    """

    def __init__(
        self,
        *,
        num_classes: int = 10,
        in_channels: int = 3,
        stem: str = "imagenet",
        width: float = 1.0,
        dropout: float = 0.2,
    ) -> None:
        check_classifier_args(num_classes=num_classes, in_channels=in_channels, dropout=dropout)
        backbone = build_backbone("mobilenet-cls", stem=stem, width=width, in_ch=in_channels)
        # the paper keeps 1280 for width < 1: the head's width matters more than its cost
        expand = make_divisible(HEAD_CHANNELS * max(1.0, width))
        head = PoolHead(
            in_ch=backbone.out_channels[-1], num_classes=num_classes, dropout=dropout, expand=expand
        )
        super().__init__(backbone=backbone, head=head, num_classes=num_classes, in_channels=in_channels)

    @property
    def gradcam_layer(self) -> nn.Module:
        """The head's 1×1 expansion (conv + BN + ReLU6)."""
        return self.head.expand
