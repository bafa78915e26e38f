"""Pruning: magnitude pruning reaches its sparsity and keeps it through training; channel pruning really
removes channels (fewer parameters and multiply-adds, same output shape) on tiny nets and on every registered
classifier, and a channel-pruned network is rebuilt from its architecture and weights alone."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from cutkit.compress.channel import output_layers, prune_channels
from cutkit.compress.magnitude import magnitude_prune, make_permanent
from cutkit.compress.measure import parameter_count, sparsity
from cutkit.compress.reshape import fit_to_state_dict
from cutkit.nets import build_net
from cutkit.nets.classify import classifier_names


class Residual(nn.Module):
    """A residual block (its two convolutions' outputs are tied by the addition) then a depthwise stage."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.c1, self.b1 = nn.Conv2d(16, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16)
        self.c2, self.b2 = nn.Conv2d(16, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16)
        self.dw = nn.Sequential(
            nn.Conv2d(16, 32, 1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1, groups=32), nn.BatchNorm2d(32), nn.ReLU(),
        )  # fmt: skip
        self.fc1, self.fc2 = nn.Linear(32 * 4 * 4, 24), nn.Linear(24, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = torch.relu(x + self.b2(self.c2(torch.relu(self.b1(self.c1(x))))))
        x = nn.functional.adaptive_avg_pool2d(self.dw(x), 4).flatten(1)
        return self.fc2(torch.relu(self.fc1(x)))


def _with_stats(net: nn.Module, x: torch.Tensor) -> nn.Module:
    """BatchNorm statistics from a few batches, so eval outputs are not the init's constant."""
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(x)
    return net.eval()


def _macs(net: nn.Module, x: torch.Tensor) -> int:
    import torch_pruning as tp

    return int(tp.utils.count_ops_and_params(net, x)[0])


def test_magnitude_pruning_reaches_the_sparsity_and_keeps_it_while_training() -> None:
    torch.manual_seed(0)
    net = Residual()
    x = torch.randn(4, 3, 16, 16)
    dense = parameter_count(net)
    pruned_modules = magnitude_prune(net, amount=0.6)
    assert set(pruned_modules) == {"stem.0", "c1", "c2", "dw.0", "dw.3", "fc1", "fc2"}
    weights = sum(m.weight.numel() for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    zeros = sum(int((m.weight == 0).sum()) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    assert zeros == round(0.6 * weights)
    assert parameter_count(net) == dense  # the shapes stay: the masked copies are not counted twice
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        net(x).square().mean().backward()
        opt.step()
    assert sum(int((m.weight == 0).sum()) for m in net.modules() if hasattr(m, "weight_mask")) >= zeros
    make_permanent(net)
    keys = net.state_dict().keys()
    assert not any(k.endswith(("_orig", "_mask")) for k in keys)
    assert sparsity(net) >= 0.6 * weights / dense - 1e-6
    assert net(x).shape == (4, 5)


def test_channel_pruning_removes_channels_and_their_dependants() -> None:
    torch.manual_seed(0)
    x = torch.randn(4, 3, 16, 16)
    net = _with_stats(Residual(), x)
    before, macs_before = parameter_count(net), _macs(net, x)
    assert output_layers(net, x) == [net.fc2]
    prune_channels(net, x, amount=0.5)
    assert net.c1.out_channels == 8 and net.c2.out_channels == 8 and net.stem[0].out_channels == 8
    assert net.dw[3].groups == net.dw[3].out_channels == 16  # depthwise stays depthwise
    assert net.fc2.out_features == 5
    assert parameter_count(net) < 0.4 * before
    assert _macs(net, x) < 0.4 * macs_before
    assert net(x).shape == (4, 5)


def test_a_channel_pruned_network_is_rebuilt_from_its_weights() -> None:
    torch.manual_seed(0)
    x = torch.randn(4, 3, 16, 16)
    pruned = prune_channels(_with_stats(Residual(), x), x, amount=0.5)
    sd = pruned.state_dict()
    fresh = Residual()
    resized = fit_to_state_dict(fresh, sd)
    assert {"stem.0", "stem.1", "c1", "b1", "dw.3", "fc1"} <= set(resized)
    fresh.load_state_dict(sd, strict=True)
    assert torch.equal(fresh.eval()(x), pruned(x))
    assert fit_to_state_dict(fresh, sd) == []  # already fitted: nothing to do


def test_fitting_refuses_a_module_it_cannot_resize() -> None:
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.GroupNorm(2, 4))
    sd = {"0.weight": torch.zeros(2, 3, 3, 3), "0.bias": torch.zeros(2), "1.weight": torch.zeros(2)}
    with pytest.raises(ValueError, match=r"cannot resize 1 \(GroupNorm\)"):
        fit_to_state_dict(net, sd)


@pytest.mark.parametrize("arch", classifier_names())
def test_every_registered_classifier_prunes_and_reloads(arch: str) -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 3, 32, 32)  # simple-cnn's head pools 8 x 8 to its 7 x 7 grid
    net = _with_stats(build_net(arch, num_classes=7, in_channels=3), x)
    before = parameter_count(net)
    pruned = prune_channels(copy.deepcopy(net), x, amount=0.5)
    assert parameter_count(pruned) < 0.6 * before, arch
    assert pruned(x).shape == (2, 7)
    fresh = build_net(arch, num_classes=7, in_channels=3)
    fit_to_state_dict(fresh, pruned.state_dict())
    fresh.load_state_dict(pruned.state_dict(), strict=True)
    assert torch.allclose(fresh.eval()(x), pruned(x), atol=1e-5)


class GridPooled(nn.Module):
    """Pools a feature map to 2 x 2 with constant matrices (``rows @ x @ cols``), as ONNX-minded code may."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.fc = nn.Conv2d(3, 8, 3, padding=1), nn.Linear(8 * 2 * 2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bins = torch.kron(torch.eye(2), torch.full((1, 4), 0.25))  # (2, 8): averages of 4 rows
        return self.fc((bins @ self.conv(x) @ bins.T).flatten(1))


def test_a_matrix_product_on_feature_maps_is_refused() -> None:
    """Torch-Pruning's dependency search does not finish on such a graph: a clear error instead of a hang."""
    with pytest.raises(ValueError, match=r"multiplies a feature map \(1, 8, 8, 8\) as a matrix"):
        prune_channels(GridPooled(), torch.randn(1, 3, 8, 8), amount=0.5)


def test_bad_amounts_are_refused() -> None:
    with pytest.raises(ValueError, match="amount"):
        magnitude_prune(Residual(), amount=1.0)
    with pytest.raises(ValueError, match="amount"):
        prune_channels(Residual(), torch.randn(1, 3, 16, 16), amount=-0.1)
