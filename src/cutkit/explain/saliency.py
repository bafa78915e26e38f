"""Vanilla gradient saliency (Simonyan et al. 2014): how much each pixel moves the class score."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from cutkit.explain._target import backward_score, forward_with_grad, normalise_maps, pick_targets


def saliency(
    net: nn.Module, x: Tensor, *, target: int | Sequence[int] | None = None, layer: nn.Module | None = None
) -> tuple[Tensor, Tensor]:
    """The largest absolute input gradient over the channels, per pixel.

    Args:
        net: a classifier returning ``(N, classes)`` logits.
        x: the normalised input batch ``(N, C, H, W)``.
        target: the class to explain (one for all images, or one per image); None: the predicted class.
        layer: not used (accepted so every method has one signature).

    Returns:
        ``(maps, targets)``: ``(N, H, W)`` maps in ``[0, 1]`` and the explained class of each image.
    """
    del layer  # the input is the "layer" of saliency
    logits, inp = forward_with_grad(net, x)
    targets = pick_targets(logits, target)
    backward_score(logits, targets)
    return normalise_maps(inp.grad.detach().float().abs().amax(dim=1)), targets
