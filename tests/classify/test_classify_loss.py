"""Classification losses against PyTorch and scikit-learn references, and the distillation term."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cutkit.train.classify_loss import (
    ClassifyLoss,
    balanced_class_weights,
    balanced_sample_weights,
    distillation_loss,
    parse_class_weights,
)


@pytest.fixture
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(12, 5, generator=g) * 3, torch.randint(0, 5, (12,), generator=g)


def test_cross_entropy_matches_torch(batch: tuple[torch.Tensor, torch.Tensor]) -> None:
    logits, y = batch
    assert torch.allclose(ClassifyLoss()(logits, y), F.cross_entropy(logits, y), atol=1e-6)


def test_label_smoothing_matches_torch(batch: tuple[torch.Tensor, torch.Tensor]) -> None:
    logits, y = batch
    ours = ClassifyLoss(label_smoothing=0.1)(logits, y)
    assert torch.allclose(ours, F.cross_entropy(logits, y, label_smoothing=0.1), atol=1e-6)


def test_class_weights_match_torch_weighted_mean(batch: tuple[torch.Tensor, torch.Tensor]) -> None:
    logits, y = batch
    w = torch.tensor([0.5, 2.0, 1.0, 3.0, 0.1])
    assert torch.allclose(ClassifyLoss(weight=w)(logits, y), F.cross_entropy(logits, y, weight=w), atol=1e-6)


def test_soft_targets_match_torch(batch: tuple[torch.Tensor, torch.Tensor]) -> None:
    logits, _ = batch
    soft = torch.softmax(torch.randn(12, 5, generator=torch.Generator().manual_seed(1)), dim=1)
    assert torch.allclose(ClassifyLoss()(logits, soft), F.cross_entropy(logits, soft), atol=1e-6)


def test_focal_loss_is_the_textbook_formula(batch: tuple[torch.Tensor, torch.Tensor]) -> None:
    logits, y = batch
    p_t = torch.softmax(logits, 1)[torch.arange(len(y)), y]
    expected = (-((1 - p_t) ** 2) * torch.log(p_t)).mean()
    assert torch.allclose(ClassifyLoss(kind="focal", gamma=2.0)(logits, y), expected, atol=1e-6)
    # gamma 0 is cross-entropy; focusing lowers the loss of every sample
    assert torch.allclose(
        ClassifyLoss(kind="focal", gamma=0.0)(logits, y), F.cross_entropy(logits, y), atol=1e-6
    )
    assert ClassifyLoss(kind="focal")(logits, y) < F.cross_entropy(logits, y)


def test_focal_loss_down_weights_easy_examples() -> None:
    easy = torch.tensor([[6.0, 0.0]])
    hard = torch.tensor([[0.5, 0.0]])
    y = torch.tensor([0])
    ratio_focal = ClassifyLoss(kind="focal")(easy, y) / ClassifyLoss(kind="focal")(hard, y)
    ratio_ce = F.cross_entropy(easy, y) / F.cross_entropy(hard, y)
    assert ratio_focal < ratio_ce / 100


def test_loss_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="unknown loss 'foca'"):
        ClassifyLoss(kind="foca")
    with pytest.raises(ValueError, match="label smoothing"):
        ClassifyLoss(label_smoothing=1.0)


def test_balanced_class_weights_match_sklearn() -> None:
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.array([0] * 50 + [1] * 5 + [2] * 20 + [3] * 1)
    expected = compute_class_weight("balanced", classes=np.arange(4), y=labels)
    assert np.allclose(balanced_class_weights(labels, 4), expected)
    # a class without samples gets 0 instead of a division by zero
    assert balanced_class_weights(labels, 5)[4] == 0


def test_balanced_sample_weights_make_classes_equally_likely() -> None:
    labels = np.array([0] * 90 + [1] * 10)
    w = np.asarray(balanced_sample_weights(labels))
    assert np.isclose(w[labels == 0].sum(), w[labels == 1].sum())


def test_parse_class_weights() -> None:
    labels = np.array([0, 0, 0, 1])
    assert np.allclose(parse_class_weights("auto", labels, 2), [4 / 6, 4 / 2])
    assert np.allclose(parse_class_weights("1,2.5", labels, 2), [1, 2.5])
    with pytest.raises(ValueError, match="2 non-negative weights"):
        parse_class_weights("1,2,3", labels, 2)
    with pytest.raises(ValueError, match="comma-separated numbers"):
        parse_class_weights("one,two", labels, 2)


def test_distillation_loss() -> None:
    g = torch.Generator().manual_seed(3)
    s, t = torch.randn(8, 10, generator=g), torch.randn(8, 10, generator=g)
    assert float(distillation_loss(t, t, temperature=4.0)) == pytest.approx(0.0, abs=1e-6)
    temp = 3.0
    p_t = torch.softmax(t / temp, 1)
    kl = (p_t * (torch.log(p_t) - torch.log_softmax(s / temp, 1))).sum(1).mean()
    assert torch.allclose(distillation_loss(s, t, temperature=temp), kl * temp**2, atol=1e-6)
    # its gradient pulls the student's distribution toward the teacher's
    s = s.clone().requires_grad_(True)
    distillation_loss(s, t, temperature=temp).backward()
    with torch.no_grad():
        moved = s - 0.5 * s.grad
    assert distillation_loss(moved, t, temperature=temp) < distillation_loss(s.detach(), t, temperature=temp)
    with pytest.raises(ValueError, match="temperature"):
        distillation_loss(s, t, temperature=0)
