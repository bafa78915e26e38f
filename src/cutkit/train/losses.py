"""Losses for salient-object / background-removal training, and their combination by a spec string.

Every loss takes LOGITS ``(N, C, h, w)`` and a target ``(N, C, H, W)`` of floats in ``[0, 1]`` (soft edges
allowed) and returns a scalar averaged over the batch. Logits coarser than the target (deep-supervision side
outputs) are bilinearly upsampled to the target size first. The arithmetic runs in float32 with autocast
switched off, so a loss is safe inside ``torch.autocast`` and always returns float32.

Credit: the hybrid BCE + SSIM + IoU loss of BASNet (Qin et al., CVPR 2019), the weighted structure loss of
F3Net (Wei et al., AAAI 2020) and PraNet (Fan et al., MICCAI 2020), focal loss (Lin et al., ICCV 2017).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from cutkit._util.suggest import did_you_mean

LossFn = Callable[[Tensor, Tensor], Tensor]

# Added to numerator and denominator of the overlap ratios (IoU, Dice): an empty target predicted empty
# scores ~0 instead of 0/0, and gradients stay finite. Large masks are barely affected.
SMOOTH = 1.0
# SSIM constants of Wang et al. for a dynamic range of 1 (probabilities).
_SSIM_C1 = 0.01**2
_SSIM_C2 = 0.03**2


def _float32(loss: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """Run ``loss(logits, target, ...)`` on float32 inputs at the target's size, with autocast off."""

    @functools.wraps(loss)
    def wrapper(logits: Tensor, target: Tensor, *args: object, **kwargs: object) -> Tensor:
        _check_shapes(logits, target)
        # conv2d and friends would be re-cast to bf16/fp16 under an enclosing autocast; losses need fp32
        with torch.autocast(device_type=logits.device.type, enabled=False):
            logits, target = logits.float(), target.float()
            if logits.shape[2:] != target.shape[2:]:
                logits = F.interpolate(logits, size=target.shape[2:], mode="bilinear", align_corners=False)
            return loss(logits, target, *args, **kwargs)

    return wrapper


def _check_shapes(logits: Tensor, target: Tensor) -> None:
    if logits.ndim != 4 or target.ndim != 4 or logits.shape[:2] != target.shape[:2]:
        raise ValueError(
            f"loss inputs must be logits (N, C, h, w) and a target (N, C, H, W) with the same N and C; "
            f"got logits {tuple(logits.shape)} and target {tuple(target.shape)}"
        )


@_float32
def bce_loss(logits: Tensor, target: Tensor) -> Tensor:
    """Binary cross-entropy with logits, averaged over pixels."""
    return F.binary_cross_entropy_with_logits(logits, target)


@_float32
def iou_loss(logits: Tensor, target: Tensor) -> Tensor:
    """Soft IoU loss ``1 - sum(p t) / sum(p + t - p t)`` per image (smoothed), averaged over the batch."""
    prob = torch.sigmoid(logits)
    inter = (prob * target).sum(dim=(1, 2, 3))
    union = (prob + target).sum(dim=(1, 2, 3)) - inter
    return (1 - (inter + SMOOTH) / (union + SMOOTH)).mean()


@_float32
def dice_loss(logits: Tensor, target: Tensor) -> Tensor:
    """Soft Dice loss ``1 - 2 sum(p t) / sum(p + t)`` per image (smoothed), averaged over the batch."""
    prob = torch.sigmoid(logits)
    inter = (prob * target).sum(dim=(1, 2, 3))
    total = (prob + target).sum(dim=(1, 2, 3))
    return (1 - (2 * inter + SMOOTH) / (total + SMOOTH)).mean()


def _gaussian_window(size: int, sigma: float, channels: int, like: Tensor) -> Tensor:
    coords = torch.arange(size, dtype=torch.float32, device=like.device) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, size, size).contiguous()


@_float32
def ssim_loss(logits: Tensor, target: Tensor, *, window: int = 11, sigma: float = 1.5) -> Tensor:
    """``1 - SSIM`` of the sigmoid probabilities and the target (BASNet's structural term).

    Local statistics use a ``window``×``window`` Gaussian (σ = ``sigma``) with zero padding, as BASNet does.
    """
    prob = torch.sigmoid(logits)
    channels = prob.shape[1]
    kernel = _gaussian_window(window, sigma, channels, prob)

    def blur(x: Tensor) -> Tensor:
        return F.conv2d(x, kernel, padding=window // 2, groups=channels)

    mu_p, mu_t = blur(prob), blur(target)
    var_p = blur(prob * prob) - mu_p**2
    var_t = blur(target * target) - mu_t**2
    cov = blur(prob * target) - mu_p * mu_t
    num = (2 * mu_p * mu_t + _SSIM_C1) * (2 * cov + _SSIM_C2)
    den = (mu_p**2 + mu_t**2 + _SSIM_C1) * (var_p + var_t + _SSIM_C2)
    return 1 - (num / den).mean()


@_float32
def focal_loss(logits: Tensor, target: Tensor, *, gamma: float = 2.0, alpha: float | None = 0.25) -> Tensor:
    """Binary focal loss with logits, averaged over pixels.

    BCE scaled by ``(1 - p_t)^gamma`` and, unless ``alpha`` is None, by ``alpha`` on foreground and
    ``1 - alpha`` on background. ``gamma=0, alpha=None`` is plain BCE.
    """
    prob = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    p_t = prob * target + (1 - prob) * (1 - target)
    loss = ce * (1 - p_t) ** gamma
    if alpha is not None:
        loss = loss * (alpha * target + (1 - alpha) * (1 - target))
    return loss.mean()


@_float32
def structure_loss(logits: Tensor, target: Tensor) -> Tensor:
    """F3Net/PraNet's weighted BCE + weighted IoU; pixels near edges weigh up to 6×.

    The weight is ``1 + 5 |avgpool31(t) - t|``: large where the target differs from its 31×31 neighbourhood.
    """
    weight = 1 + 5 * torch.abs(F.avg_pool2d(target, kernel_size=31, stride=1, padding=15) - target)
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    wbce = (weight * bce).sum(dim=(2, 3)) / weight.sum(dim=(2, 3))
    prob = torch.sigmoid(logits)
    inter = (prob * target * weight).sum(dim=(2, 3))
    union = ((prob + target) * weight).sum(dim=(2, 3))
    wiou = 1 - (inter + SMOOTH) / (union - inter + SMOOTH)
    return (wbce + wiou).mean()


LOSSES: dict[str, LossFn] = {
    "bce": bce_loss,
    "iou": iou_loss,
    "dice": dice_loss,
    "ssim": ssim_loss,
    "focal": focal_loss,
    "structure": structure_loss,
}


@dataclass(frozen=True)
class LossTerm:
    """One weighted term of a combined loss.

    Attributes:
        name: a key of :data:`LOSSES`.
        weight: its factor in the total, a finite number > 0.
    """

    name: str
    weight: float

    def __post_init__(self) -> None:
        if self.name not in LOSSES:
            raise ValueError(
                f"unknown loss '{self.name}'{did_you_mean(self.name, LOSSES)}; "
                f"choose from: {', '.join(sorted(LOSSES))}"
            )
        if not (isinstance(self.weight, (int, float)) and math.isfinite(self.weight) and self.weight > 0):
            raise ValueError(f"weight of loss '{self.name}' must be a finite number > 0, got {self.weight!r}")


_TERM = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:[:*]\s*(\S+?))?\s*$")


def parse_loss(spec: str) -> tuple[LossTerm, ...]:
    """Parse ``"bce"``, ``"bce+iou"`` or ``"bce:1,iou:0.5,ssim:1"`` (``name*weight`` works too).

    Terms are separated by ``+`` or ``,``; a term without a weight has weight 1.

    Raises:
        ValueError: an empty spec, a malformed term, an unknown name (with a suggestion), a weight that is
            not a finite number > 0, or a name given twice.
    """
    if not spec.strip():
        raise ValueError("empty loss spec; e.g. 'bce+iou' or 'bce:1,iou:0.5,ssim:1'")
    terms = tuple(_parse_term(piece, spec) for piece in re.split(r"[+,]", spec))
    names = [t.name for t in terms]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"loss spec '{spec}': {', '.join(twice)} given more than once")
    return terms


def _parse_term(piece: str, spec: str) -> LossTerm:
    match = _TERM.match(piece)
    if match is None:
        raise ValueError(f"loss spec '{spec}': cannot parse term '{piece.strip()}' (expected name[:weight])")
    name, raw = match.group(1).lower(), match.group(2)
    try:
        weight = 1.0 if raw is None else float(raw)
    except ValueError:
        raise ValueError(f"loss spec '{spec}': weight '{raw}' of '{name}' is not a number") from None
    try:
        return LossTerm(name=name, weight=weight)
    except ValueError as exc:  # re-raised with the spec, so the user sees which string was wrong
        raise ValueError(f"loss spec '{spec}': {exc}") from None


class SalientLoss(nn.Module):
    """A weighted sum of loss terms over a main map and its deep-supervision side outputs (U²-Net style).

    Args:
        terms: the weighted terms, or a spec string for :func:`parse_loss`.
        side_weights: the weight of every side output (one number), or one weight per side output; the
            main (first) output always weighs 1.
    """

    def __init__(
        self, *, terms: Sequence[LossTerm] | str, side_weights: float | Sequence[float] = 1.0
    ) -> None:
        super().__init__()
        self.terms = parse_loss(terms) if isinstance(terms, str) else tuple(terms)
        names = [t.name for t in self.terms]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"SalientLoss needs one or more distinct loss terms, got {names}")
        self.side_weights = side_weights if isinstance(side_weights, (int, float)) else tuple(side_weights)
        weights = (self.side_weights,) if isinstance(self.side_weights, (int, float)) else self.side_weights
        if any(not (math.isfinite(w) and w >= 0) for w in weights):
            raise ValueError(f"side_weights must be finite and >= 0, got {side_weights}")

    def forward(self, outputs: Tensor | Sequence[Tensor], target: Tensor) -> dict[str, Tensor]:
        """Return ``{"loss": total, <term name>: detached value, ...}``.

        Args:
            outputs: logits ``(N, C, h, w)``, or a sequence of them: the main map first, then side outputs.
            target: ``(N, C, H, W)`` in ``[0, 1]``.
        """
        maps = [outputs] if isinstance(outputs, Tensor) else list(outputs)
        if not maps:
            raise ValueError("SalientLoss got no output maps")
        out_weights = self._output_weights(len(maps))
        parts = {
            t.name: sum(w * LOSSES[t.name](m, target) for m, w in zip(maps, out_weights, strict=True))
            for t in self.terms
        }
        total = sum(t.weight * parts[t.name] for t in self.terms)
        return {"loss": total, **{name: value.detach() for name, value in parts.items()}}

    def _output_weights(self, n_maps: int) -> list[float]:
        n_sides = n_maps - 1
        if isinstance(self.side_weights, (int, float)):
            return [1.0] + [float(self.side_weights)] * n_sides
        if len(self.side_weights) != n_sides:
            raise ValueError(
                f"side_weights has {len(self.side_weights)} entries but the network returned {n_sides} "
                f"side outputs"
            )
        return [1.0, *map(float, self.side_weights)]
