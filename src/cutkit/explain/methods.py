"""The explanation methods by name, and one call that runs any of them with the scores it explains."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from cutkit._util.suggest import unknown
from cutkit.explain.cam import grad_cam, grad_cam_plus_plus
from cutkit.explain.saliency import saliency

METHODS: dict[str, Callable[..., tuple[Tensor, Tensor]]] = {
    "gradcam": grad_cam,
    "gradcam++": grad_cam_plus_plus,
    "saliency": saliency,
}


@dataclass(frozen=True)
class Explanation:
    """Heatmaps and what they explain.

    Attributes:
        maps: ``(N, H, W)`` float heatmaps in ``[0, 1]`` at the input's size.
        targets: the explained class of each image.
        probs: the network's probability of that class.
    """

    maps: Tensor
    targets: Tensor
    probs: Tensor


def explain(
    net: nn.Module,
    x: Tensor,
    *,
    method: str = "gradcam",
    target: int | Sequence[int] | None = None,
    layer: nn.Module | None = None,
) -> Explanation:
    """Explain ``net``'s decision on the normalised batch ``x`` with ``method`` (a key of :data:`METHODS`)."""
    if method not in METHODS:
        raise ValueError(unknown("explanation method", method, METHODS))
    maps, targets = METHODS[method](net, x, target=target, layer=layer)
    with torch.no_grad():
        probs = torch.softmax(net(x).float(), dim=1).gather(1, targets[:, None])[:, 0]
    return Explanation(maps=maps.cpu(), targets=targets.cpu(), probs=probs.cpu())
