"""Grad-CAM, Grad-CAM++ and saliency: sanity on a learnt task, the contract classifiers, overlays, errors.

The sanity task: 24 × 24 grey noise images; class 1 holds one bright 5 × 5 square at a random place, class 0
a dim one. A tiny CNN (global max pooling, so it must find the square) learns it in about a second; then the
heatmap of class 1 must peak on the square (within 2 px of it, as the 12 × 12 Grad-CAM layer is upsampled).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cutkit.explain import METHODS, explain, overlay
from cutkit.nets import build_net
from cutkit.nets.classify import classifier_names

SIZE, SQUARE = 24, 5


class TinyNet(nn.Module):
    """conv → conv (stride 2, the Grad-CAM layer) → global max pool → linear."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU())
        self.block = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())
        self.fc = nn.Linear(16, 2)

    @property
    def gradcam_layer(self) -> nn.Module:
        return self.block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.block(self.stem(x)).amax(dim=(2, 3)))


def squares(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """Images, labels and the top-left corner of each square."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.3, size=(n, 1, SIZE, SIZE)).astype(np.float32)
    labels = rng.integers(0, 2, size=n)
    corners = rng.integers(0, SIZE - SQUARE + 1, size=(n, 2))
    for i, (r, c) in enumerate(corners):
        x[i, 0, r : r + SQUARE, c : c + SQUARE] += 3.0 if labels[i] else 0.8
    return torch.from_numpy(x), torch.from_numpy(labels), corners


@pytest.fixture(scope="module")
def trained() -> TinyNet:
    return train_tiny()


def train_tiny() -> TinyNet:
    """The sanity net, trained for 150 steps (about a second on one core)."""
    torch.manual_seed(0)
    net = TinyNet()
    x, y, _ = squares(512, seed=1)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for step in range(150):
        idx = torch.arange(step * 64, step * 64 + 64) % len(x)
        loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    xt, yt, _ = squares(200, seed=2)
    accuracy = (net.eval()(xt).argmax(1) == yt).float().mean().item()
    assert accuracy > 0.95, f"the sanity net did not learn the task (accuracy {accuracy:.2f})"
    return net


@pytest.mark.parametrize("method", sorted(METHODS))
def test_heatmap_peaks_on_the_bright_square(trained: TinyNet, method: str) -> None:
    """Every map is at least 5x hotter on the square than elsewhere (measured: gradcam >= 157x,
    gradcam++ >= 130x, saliency >= 9.8x); the CAMs' maxima lie on it. Saliency's maximum does not always:
    the gradient through a max pool also reaches noise pixels (22 of 34 maxima on the square)."""
    x, labels, corners = squares(64, seed=3)
    keep = labels == 1
    x, corners = x[keep], corners[keep.numpy()]
    result = explain(trained, x, method=method, target=1)
    assert result.maps.shape == (len(x), SIZE, SIZE)
    assert float(result.maps.min()) >= 0 and float(result.maps.max()) <= 1
    peaks = 0
    for heat, (r, c) in zip(result.maps.numpy(), corners, strict=True):
        on = np.zeros(heat.shape, dtype=bool)
        on[max(0, r - 1) : r + SQUARE + 1, max(0, c - 1) : c + SQUARE + 1] = True
        assert heat[on].mean() > 5 * heat[~on].mean(), f"{method}: square at {(r, c)} not hot"
        pr, pc = np.unravel_index(heat.argmax(), heat.shape)
        peaks += bool(on[pr, pc])
    if method != "saliency":
        assert peaks == len(x), f"{method}: the peak is on the square in {peaks}/{len(x)} images"
    assert (result.probs > 0.5).float().mean() > 0.9  # the explained class is the one the net believes


def test_the_predicted_class_is_explained_by_default(trained: TinyNet) -> None:
    x, _, _ = squares(8, seed=4)
    result = explain(trained, x, method="gradcam")
    assert torch.equal(result.targets, trained(x).argmax(1))


def test_explaining_needs_no_gradient_on_the_weights(trained: TinyNet) -> None:
    """A frozen network (an EMA copy, a teacher) under no_grad still gets its heatmaps."""
    frozen = TinyNet()
    frozen.load_state_dict(trained.state_dict())
    frozen.requires_grad_(False).eval()
    x, _, _ = squares(4, seed=5)
    with torch.no_grad():
        maps = explain(frozen, x, method="gradcam++", target=1).maps
    assert torch.allclose(maps, explain(trained, x, method="gradcam++", target=1).maps, atol=1e-6)


@pytest.mark.parametrize("arch", classifier_names())
def test_every_registered_classifier_can_be_explained(arch: str) -> None:
    torch.manual_seed(0)
    net = build_net(arch, num_classes=3, in_channels=3).eval()
    x = torch.randn(2, 3, 32, 32)
    for method in METHODS:
        result = explain(net, x, method=method, target=[0, 2])
        assert result.maps.shape == (2, 32, 32), (arch, method)
        assert torch.isfinite(result.maps).all() and result.targets.tolist() == [0, 2]


def test_bad_requests_are_named() -> None:
    net = TinyNet()
    x = torch.randn(2, 1, SIZE, SIZE)
    with pytest.raises(ValueError, match="did you mean 'gradcam'"):
        explain(net, x, method="gradcan")
    with pytest.raises(ValueError, match="out of range"):
        explain(net, x, target=5)
    with pytest.raises(ValueError, match="2 target classes for"):
        explain(net, torch.randn(3, 1, SIZE, SIZE), target=[0, 1])
    plain = nn.Sequential(nn.Conv2d(1, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    with pytest.raises(ValueError, match="no gradcam_layer"):
        explain(plain, x, method="gradcam")
    assert explain(plain, x, method="gradcam", layer=plain[0]).maps.shape == (2, SIZE, SIZE)


def test_overlay_colours_the_hot_region() -> None:
    image = np.full((20, 30), 128, dtype=np.uint8)
    heat = np.zeros((10, 15), dtype=np.float32)
    heat[:5, :7] = 1.0  # top-left hot, the rest cold
    out = overlay(image, heat, alpha=0.5)
    assert out.shape == (20, 30, 3) and out.dtype == np.uint8
    hot, cold = out[2, 2].astype(int), out[18, 28].astype(int)
    assert hot[0] > hot[2] and cold[2] > cold[0]  # JET: hot is red, cold is blue
    assert np.array_equal(overlay(image, heat, alpha=0.0), np.repeat(image[..., None], 3, axis=2))
    with pytest.raises(ValueError, match="alpha"):
        overlay(image, heat, alpha=2)
