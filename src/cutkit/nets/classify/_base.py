"""The classifier contract and its registration.

A classifier is a registered backbone (:mod:`cutkit.nets._backbone`) with a head on its coarsest feature:

* ``features(x) -> list[Tensor]`` -- the backbone's feature maps, finest first (increasing strides);
* ``feature_channels: list[int]`` and ``feature_strides: list[int]`` -- their channels and strides;
* ``head`` -- the classifier on the last feature map, returning ``(N, num_classes)`` logits;
* ``gradcam_layer`` -- the module whose output activations Grad-CAM weighs (the last spatial map);
* ``forward(x) = head(features(x)[-1])``: logits, never probabilities.

The backbone sits in the attribute ``backbone``, so a classification run's ``backbone.*`` tensors load into a
segmentation network's ``encoder.*`` (see :func:`cutkit.train.checkpoint.load_pretrained`), provided the
segmentation network builds the backbone of the same name: every classifier's name is also a backbone name.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn

from cutkit.nets._registry import arch_names, register_net

_CLASSIFIERS: set[str] = set()


def register_classifier(name: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Register a classifier with :func:`~cutkit.nets.register_net` and remember that it is one."""
    register = register_net(name)

    def deco(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        _CLASSIFIERS.add(name)
        return register(factory)

    return deco


def classifier_names() -> list[str]:
    """The registered architectures that are classifiers, sorted."""
    arch_names()  # imports every family, which runs the decorators
    return sorted(_CLASSIFIERS)


def check_classifier_args(*, num_classes: int, in_channels: int, dropout: float = 0.0) -> None:
    """Reject arguments no classifier can be built with, naming the argument."""
    if not (isinstance(num_classes, int) and num_classes >= 1):
        raise ValueError(f"num_classes must be an int >= 1, got {num_classes!r}")
    if not (isinstance(in_channels, int) and in_channels >= 1):
        raise ValueError(f"in_channels must be an int >= 1, got {in_channels!r}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")


class Classifier(nn.Module):
    """A backbone and a head; subclasses build both and may point :attr:`gradcam_layer` elsewhere.

    Args:
        backbone: a module honouring the backbone contract (``out_channels``, ``reductions``, a list out).
        head: maps the backbone's last feature map to logits.
        num_classes: the number of classes (kept as an attribute).
        in_channels: the input channels (kept as an attribute).
    """

    def __init__(self, *, backbone: nn.Module, head: nn.Module, num_classes: int, in_channels: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head
        self.num_classes = num_classes
        self.in_channels = in_channels

    @property
    def feature_channels(self) -> list[int]:
        """Channels of each feature map, finest first."""
        return list(self.backbone.out_channels)

    @property
    def feature_strides(self) -> list[int]:
        """Stride of each feature map relative to the input, increasing."""
        return list(self.backbone.reductions)

    @property
    def gradcam_layer(self) -> nn.Module:
        """The last backbone stage; a property, so the module is not registered (and saved) twice."""
        return self.backbone.stages[-1]

    def features(self, x: Tensor) -> list[Tensor]:
        """The backbone's feature maps, finest first."""
        return self.backbone(x)

    def forward(self, x: Tensor) -> Tensor:
        """Return ``(N, num_classes)`` logits."""
        return self.head(self.features(x)[-1])
