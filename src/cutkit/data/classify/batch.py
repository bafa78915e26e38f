"""Batch-level operations on classification batches (PyTorch): normalisation, mixup and cutmix.

Mixup (Zhang et al., 2018) blends two images with weight ``lam ~ Beta(alpha, alpha)``; cutmix (Yun et al.,
2019) pastes a box of the other image covering ``1 - lam`` of the area. Either way the batch is paired with
a permutation of itself and the targets become the same blend of the two one-hot labels, so the loss is a
cross-entropy against soft targets (``torch.nn.functional.cross_entropy`` accepts them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from cutkit._util.suggest import unknown

MIX_MODES = ("mixup", "cutmix")

__all__ = ["MIX_MODES", "mix_batch", "normalize_batch", "soft_targets"]


def normalize_batch(images: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """uint8 ``N x H x W`` (grey) or ``N x H x W x C`` images → float32 ``N x C x H x W``,
    ``(pixel / 255 - mean) / std`` per channel, on the images' device."""
    if images.dtype != torch.uint8 or images.ndim not in (3, 4):
        raise ValueError(f"expected uint8 N x H x W [x C] images, got {images.dtype} {tuple(images.shape)}")
    x = (images.unsqueeze(-1) if images.ndim == 3 else images).permute(0, 3, 1, 2).float().div_(255)
    m = torch.as_tensor(mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    s = torch.as_tensor(std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    if m.shape[1] != x.shape[1] or s.shape[1] != x.shape[1]:
        raise ValueError(f"{x.shape[1]}-channel images but mean {list(mean)} and std {list(std)}")
    return (x - m) / s


def soft_targets(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Float ``N x num_classes`` targets: one-hot rows for integer labels, soft rows passed through."""
    if labels.ndim == 1 and not labels.is_floating_point():
        return F.one_hot(labels.long(), num_classes).float()
    if labels.ndim == 2 and labels.shape[1] == num_classes:
        return labels.float()
    raise ValueError(
        f"labels must be N integers or N x {num_classes} soft targets, got {tuple(labels.shape)}"
    )


def _numpy_rng(generator: np.random.Generator | torch.Generator) -> np.random.Generator:
    """``generator`` itself, or a NumPy generator seeded from one draw of a torch generator."""
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, torch.Generator):
        seed = torch.randint(0, 2**62, (1,), generator=generator, device=generator.device)
        return np.random.default_rng(int(seed))
    raise TypeError(
        f"generator must be a numpy Generator or a torch Generator, got {type(generator).__name__}"
    )


def _cut_box(hw: tuple[int, int], lam: float, rng: np.random.Generator) -> tuple[int, int, int, int]:
    """A box ``(y0, y1, x0, x1)`` of about ``1 - lam`` of the area, centred uniformly, clipped."""
    h, w = hw
    ratio = math.sqrt(1.0 - lam)
    ch, cw = round(h * ratio), round(w * ratio)
    cy, cx = int(rng.integers(0, h)), int(rng.integers(0, w))
    return max(0, cy - ch // 2), min(h, cy + ch - ch // 2), max(0, cx - cw // 2), min(w, cx + cw - cw // 2)


def mix_batch(
    images: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int,
    alpha: float,
    mode: str,
    generator: np.random.Generator | torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mix a batch with a permutation of itself; returns ``(images, soft targets)`` as new tensors.

    Args:
        images: float ``N x C x H x W``.
        labels: ``N`` integer labels, or ``N x num_classes`` soft targets (e.g. already label-smoothed).
        num_classes: the number of classes.
        alpha: the Beta distribution's parameter (> 0); 0.2 is usual for mixup, 1.0 for cutmix.
        mode: ``mixup`` or ``cutmix``. For cutmix the weight is the pasted box's exact area share.
        generator: every random draw comes from it (a NumPy or a torch generator).
    """
    if mode not in MIX_MODES:
        raise ValueError(unknown("mix mode", mode, MIX_MODES))
    if not (alpha > 0 and math.isfinite(alpha)):
        raise ValueError(f"alpha must be a finite number > 0, got {alpha}")
    if images.ndim != 4 or len(images) != len(labels):
        raise ValueError(
            f"expected N x C x H x W images and N labels, got {tuple(images.shape)}, {len(labels)}"
        )
    targets = soft_targets(labels, num_classes).to(images.device)
    rng = _numpy_rng(generator)
    lam = float(rng.beta(alpha, alpha))
    perm = torch.as_tensor(rng.permutation(len(images)), device=images.device)
    if mode == "mixup":
        mixed = images * lam + images[perm] * (1.0 - lam)
    else:
        y0, y1, x0, x1 = _cut_box((images.shape[2], images.shape[3]), lam, rng)
        mixed = images.clone()
        mixed[:, :, y0:y1, x0:x1] = images[perm][:, :, y0:y1, x0:x1]
        lam = 1.0 - (y1 - y0) * (x1 - x0) / (images.shape[2] * images.shape[3])
    return mixed, targets * lam + targets[perm] * (1.0 - lam)
