"""Batch-level mixup/cutmix and normalisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cutkit.data.classify.batch import mix_batch, normalize_batch, soft_targets


def batch(n: int = 6, size: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    # image i is the constant i, so every mixed pixel tells which images it came from
    images = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 3, size, size).clone()
    return images, torch.arange(n) % 4


def test_mixup_blends_images_and_targets_with_one_weight() -> None:
    images, labels = batch()
    mixed, targets = mix_batch(images, labels, 4, alpha=0.4, mode="mixup", generator=np.random.default_rng(0))
    g = np.random.default_rng(0)
    lam, perm = g.beta(0.4, 0.4), g.permutation(6)
    expected = lam * np.arange(6) + (1 - lam) * perm
    np.testing.assert_allclose(mixed[:, 0, 0, 0].numpy(), expected, rtol=1e-6)
    assert torch.equal(mixed, mixed[:, :, :1, :1].expand_as(mixed))  # uniform blend over the image
    one_hot = np.eye(4)[np.arange(6) % 4]
    np.testing.assert_allclose(targets.numpy(), lam * one_hot + (1 - lam) * one_hot[perm], rtol=1e-6)
    np.testing.assert_allclose(targets.sum(1).numpy(), 1.0, rtol=1e-6)
    assert torch.equal(images, batch()[0])  # inputs untouched


def test_cutmix_pastes_one_box_and_weighs_by_its_area() -> None:
    images, labels = batch(size=20)
    shares = set()
    for seed in range(10):
        g = np.random.default_rng(seed)
        mixed, targets = mix_batch(images, labels, 4, alpha=1.0, mode="cutmix", generator=g)
        g = np.random.default_rng(seed)
        g.beta(1.0, 1.0)
        partner = g.permutation(6)
        boxes = mixed[:, 0] != torch.arange(6).view(6, 1, 1)  # where each image shows another one
        moved = [i for i in range(6) if partner[i] != i]
        box = boxes[moved[0]]
        ys, xs = box.nonzero(as_tuple=True)
        assert len(ys) == (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)  # a rectangle
        share = box.float().mean().item()
        shares.add(round(share, 3))
        for i in moved:
            assert torch.equal(boxes[i], box) and torch.all(mixed[i, :, box] == partner[i])
        one_hot = np.eye(4)[np.arange(6) % 4]
        np.testing.assert_allclose(
            targets.numpy(), (1 - share) * one_hot + share * one_hot[partner], atol=1e-6
        )
    assert len(shares) > 5  # the box size varies with the draw


def test_soft_labels_pass_through_and_generators_reproduce() -> None:
    images, labels = batch()
    smooth = soft_targets(labels, 4) * 0.9 + 0.025
    _, targets = mix_batch(images, smooth, 4, alpha=0.2, mode="mixup", generator=np.random.default_rng(1))
    np.testing.assert_allclose(targets.sum(1).numpy(), 1.0, rtol=1e-6)
    assert targets.min() > 0  # the smoothing survived the mix
    runs = [mix_batch(images, labels, 4, 1.0, "cutmix", torch.Generator().manual_seed(3)) for _ in range(2)]
    assert torch.equal(runs[0][0], runs[1][0]) and torch.equal(runs[0][1], runs[1][1])
    other = mix_batch(images, labels, 4, 1.0, "cutmix", torch.Generator().manual_seed(4))
    assert not torch.equal(runs[0][0], other[0])


def test_mix_batch_rejects_bad_arguments() -> None:
    images, labels = batch()
    with pytest.raises(ValueError, match="unknown mix mode 'cutmx' \\(did you mean 'cutmix'\\?\\)"):
        mix_batch(images, labels, 4, 1.0, "cutmx", np.random.default_rng())
    with pytest.raises(ValueError, match="alpha must be a finite number > 0"):
        mix_batch(images, labels, 4, 0.0, "mixup", np.random.default_rng())
    with pytest.raises(TypeError, match="generator must be"):
        mix_batch(images, labels, 4, 1.0, "mixup", 42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="N integers or N x 4 soft targets"):
        mix_batch(images, torch.zeros(6, 3), 4, 1.0, "mixup", np.random.default_rng())


def test_normalize_batch() -> None:
    rgb = torch.randint(0, 256, (2, 5, 4, 3), dtype=torch.uint8)
    out = normalize_batch(rgb, (0.5, 0.4, 0.3), (0.2, 0.25, 0.5))
    expected = (
        rgb.permute(0, 3, 1, 2).double() / 255 - torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1)
    ) / torch.tensor([0.2, 0.25, 0.5]).view(1, 3, 1, 1)
    assert out.shape == (2, 3, 5, 4) and out.dtype == torch.float32
    torch.testing.assert_close(out.double(), expected, rtol=1e-5, atol=1e-5)
    grey = normalize_batch(torch.full((2, 3, 3), 255, dtype=torch.uint8), (0.5,), (0.5,))
    assert grey.shape == (2, 1, 3, 3) and torch.allclose(grey, torch.ones(()))
    with pytest.raises(ValueError, match="1-channel images but mean"):
        normalize_batch(torch.zeros(1, 2, 2, dtype=torch.uint8), (0.5,) * 3, (0.5,) * 3)
