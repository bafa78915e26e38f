"""Grad-CAM (Selvaraju et al. 2017) and Grad-CAM++ (Chattopadhay et al. 2018).

Both weigh the channels of one layer's activations ``A`` by the gradient of the class score and keep the
positive part of the weighted sum; they differ in the weights. Grad-CAM uses the spatial mean of the
gradient; Grad-CAM++ weighs each position's positive gradient by ``g² / (2g² + ΣA·g³)``, which credits
every instance of a class rather than the strongest one.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from cutkit.explain._target import backward_score, forward_with_grad, normalise_maps, pick_targets


def grad_cam(
    net: nn.Module, x: Tensor, *, target: int | Sequence[int] | None = None, layer: nn.Module | None = None
) -> tuple[Tensor, Tensor]:
    """Grad-CAM heatmaps.

    Args:
        net: a classifier returning ``(N, classes)`` logits, in the mode it should be explained in (eval).
        x: the normalised input batch ``(N, C, H, W)``.
        target: the class to explain (one for all images, or one per image); None: the predicted class.
        layer: the module whose output is weighed; None: ``net.gradcam_layer``.

    Returns:
        ``(maps, targets)``: ``(N, H, W)`` heatmaps in ``[0, 1]`` and the explained class of each image.
    """
    acts, grads, targets = _activations_and_grads(net, x, target, layer)
    weights = grads.mean(dim=(2, 3), keepdim=True)
    return _to_maps((weights * acts).sum(dim=1), x), targets


def grad_cam_plus_plus(
    net: nn.Module, x: Tensor, *, target: int | Sequence[int] | None = None, layer: nn.Module | None = None
) -> tuple[Tensor, Tensor]:
    """Grad-CAM++ heatmaps; arguments and return value as :func:`grad_cam`."""
    acts, grads, targets = _activations_and_grads(net, x, target, layer)
    g2, g3 = grads.pow(2), grads.pow(3)
    denom = 2 * g2 + acts.sum(dim=(2, 3), keepdim=True) * g3
    alpha = torch.where(grads != 0, g2 / torch.where(denom != 0, denom, torch.ones_like(denom)), 0.0)
    weights = (alpha * F.relu(grads)).sum(dim=(2, 3), keepdim=True)
    return _to_maps((weights * acts).sum(dim=1), x), targets


def gradcam_layer(net: nn.Module) -> nn.Module:
    """The module Grad-CAM reads by default: the classifier contract's ``gradcam_layer``."""
    layer = getattr(net, "gradcam_layer", None)
    if not isinstance(layer, nn.Module):
        raise ValueError(
            f"{type(net).__name__} has no gradcam_layer (the classifier contract's last spatial module): "
            "pass layer= explicitly"
        )
    return layer


def _activations_and_grads(
    net: nn.Module, x: Tensor, target: int | Sequence[int] | None, layer: nn.Module | None
) -> tuple[Tensor, Tensor, Tensor]:
    """The layer's output and its gradient w.r.t. the target scores (both ``(N, K, h, w)``), the targets."""
    layer = layer if layer is not None else gradcam_layer(net)
    seen: list[Tensor] = []

    def keep(_module: nn.Module, _inputs: object, output: Tensor) -> None:
        if not isinstance(output, Tensor) or output.ndim != 4:
            raise ValueError(
                f"Grad-CAM needs a layer with an (N, K, h, w) output, got {type(output).__name__}"
            )
        output.retain_grad()
        seen.append(output)

    handle = layer.register_forward_hook(keep)
    try:
        logits, _ = forward_with_grad(net, x)
    finally:
        handle.remove()
    if len(seen) != 1:
        raise ValueError(f"the Grad-CAM layer ran {len(seen)} times in one forward pass (expected once)")
    targets = pick_targets(logits, target)
    backward_score(logits, targets)
    acts = seen[0]
    return acts.detach().float(), acts.grad.detach().float(), targets


def _to_maps(cam: Tensor, x: Tensor) -> Tensor:
    """Positive part, upsampled to the input's size (bilinear), each map scaled to ``[0, 1]``."""
    cam = F.interpolate(F.relu(cam)[:, None], size=x.shape[2:], mode="bilinear", align_corners=False)
    return normalise_maps(cam[:, 0])
