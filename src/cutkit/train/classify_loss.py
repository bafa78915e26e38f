"""Classification losses: cross-entropy or focal loss with label smoothing and class weights, soft targets
(mixup/cutmix), knowledge distillation; and the class/sample weights that counter an imbalanced training set.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

LOSSES = ("ce", "focal")


def balanced_class_weights(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """``n / (classes * n_c)`` per class (scikit-learn's ``"balanced"``); a class without samples gets 0.

    Args:
        labels: the training labels.
        num_classes: how many classes there are.
    """
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes).astype(np.float64)
    present = counts > 0
    weights = np.zeros(num_classes)
    weights[present] = len(labels) / (present.sum() * counts[present])
    return weights


def balanced_sample_weights(labels: np.ndarray) -> list[float]:
    """Per-sample weights ``1 / n_c`` of each sample's class: a weighted sampler then draws classes evenly."""
    labels = np.asarray(labels, dtype=np.int64)
    counts = np.bincount(labels)
    return (1.0 / counts[labels]).tolist()


def parse_class_weights(text: str, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """``auto`` (balanced) or one comma-separated weight per class.

    Raises:
        ValueError: a wrong count, a non-number or a negative weight.
    """
    if text == "auto":
        return balanced_class_weights(labels, num_classes)
    try:
        weights = np.array([float(w) for w in text.split(",")])
    except ValueError as exc:
        raise ValueError(
            f"--class-weights: 'auto' or {num_classes} comma-separated numbers, got '{text}'"
        ) from exc
    if len(weights) != num_classes or (weights < 0).any():
        raise ValueError(
            f"--class-weights: {num_classes} non-negative weights needed (one per class), got '{text}'"
        )
    return weights


class ClassifyLoss(nn.Module):
    """Weighted cross-entropy or focal loss over hard (class index) or soft (probability) targets.

    The loss of a sample is ``-sum_c w_c q_c (1 - p_c)^gamma log p_c`` with ``q`` the (smoothed) target
    distribution and ``p`` the softmax; the batch loss divides the sum by ``sum_i sum_c w_c q_ic``, so with
    hard targets and no smoothing it is PyTorch's weighted ``cross_entropy`` (``gamma = 0``) and the focal
    loss of Lin et al. (2017) otherwise.

    Args:
        kind: ``ce`` or ``focal``.
        gamma: the focal loss's focusing parameter.
        label_smoothing: mass moved from the target to a uniform distribution.
        weight: per-class weights (None: all 1).
    """

    def __init__(
        self,
        *,
        kind: str = "ce",
        gamma: float = 2.0,
        label_smoothing: float = 0.0,
        weight: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        if kind not in LOSSES:
            raise ValueError(f"unknown loss '{kind}'; choose from {', '.join(LOSSES)}")
        if not 0 <= label_smoothing < 1:
            raise ValueError(f"label smoothing must be in [0, 1), got {label_smoothing}")
        self.kind, self.gamma, self.label_smoothing = kind, gamma, label_smoothing
        self.register_buffer("weight", weight.float() if weight is not None else None, persistent=False)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logits = logits.float()
        n_cls = logits.shape[1]
        q = F.one_hot(target, n_cls).float() if target.dtype == torch.int64 else target.float()
        if self.label_smoothing:
            q = q * (1 - self.label_smoothing) + self.label_smoothing / n_cls
        if self.weight is not None:
            q = q * self.weight.to(logits.device)
        # Normalised by the (weighted) target mass before focusing, as the focal paper divides by the count.
        mass = q.sum().clamp_min(1e-12)
        logp = F.log_softmax(logits, dim=1)
        if self.kind == "focal":
            q = q * (1 - logp.exp()).pow(self.gamma)
        return -(q * logp).sum() / mass


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, *, temperature: float) -> torch.Tensor:
    """Hinton et al.'s knowledge-distillation term: ``T^2 KL(softmax(teacher / T) || softmax(student / T))``.

    The ``T^2`` keeps its gradients on the scale of the hard-label loss whatever the temperature.
    """
    if temperature <= 0:
        raise ValueError(f"distillation temperature must be positive, got {temperature}")
    log_p_student = F.log_softmax(student.float() / temperature, dim=1)
    log_p_teacher = F.log_softmax(teacher.float() / temperature, dim=1)
    kl = F.kl_div(log_p_student, log_p_teacher, log_target=True, reduction="batchmean")
    return kl * temperature**2
