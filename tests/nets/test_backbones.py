"""Contract tests over every registered backbone, and CutNet's own promises (outputs per mode, size)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from cutkit.nets import _backbone, build_net
from cutkit.nets._backbone import backbone_names, build_backbone, register_backbone
from cutkit.nets.mobilenet import ConvBNAct, make_divisible

# CutNet's documented budget with the default MobileNetV2 backbone: ~2 M parameters.
CUTNET_MAX_PARAMS = 3_000_000


@pytest.fixture(params=backbone_names())
def backbone(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.mark.parametrize("size", [(64, 64), (96, 128)])
def test_features_match_the_contract(backbone: str, size: tuple[int, int]) -> None:
    torch.manual_seed(0)
    net = build_backbone(backbone).eval()
    assert isinstance(net.out_channels, tuple) and isinstance(net.reductions, tuple)
    assert len(net.out_channels) == len(net.reductions)
    assert not any(isinstance(m, nn.Linear) for m in net.modules()), "a backbone has no classifier"
    with torch.no_grad():
        feats = net(torch.randn(2, 3, *size))
    assert isinstance(feats, list) and len(feats) == len(net.out_channels)
    for feat, ch, r in zip(feats, net.out_channels, net.reductions, strict=True):
        assert tuple(feat.shape) == (2, ch, size[0] // r, size[1] // r)


def test_odd_sizes_round_up(backbone: str) -> None:
    net = build_backbone(backbone).eval()
    with torch.no_grad():
        feats = net(torch.randn(1, 3, 50, 70))
    for feat, r in zip(feats, net.reductions, strict=True):
        assert feat.shape[2:] == (math.ceil(50 / r), math.ceil(70 / r))


def test_backward_reaches_every_parameter(backbone: str) -> None:
    torch.manual_seed(0)
    net = build_backbone(backbone).train()
    sum(f.sum() for f in net(torch.randn(2, 3, 64, 64))).backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None]
    assert not missing, f"{backbone}: parameters without a gradient: {missing[:10]}"
    assert all(torch.isfinite(p.grad).all() for p in net.parameters())


def test_width_and_input_channels(backbone: str) -> None:
    full, half = build_backbone(backbone), build_backbone(backbone, width=0.5, in_ch=4)
    assert half.out_channels == tuple(make_divisible(c * 0.5) for c in full.out_channels)
    assert all(c % 8 == 0 for c in half.out_channels)
    assert half.reductions == full.reductions
    with torch.no_grad():
        feats = half.eval()(torch.randn(1, 4, 64, 64))
    assert feats[-1].shape[1] == half.out_channels[-1]


def test_make_divisible_rounds_to_eight_and_never_drops_far() -> None:
    assert [make_divisible(v) for v in (32, 16 * 0.35, 24 * 0.75, 96 * 0.5, 12.0)] == [32, 8, 24, 48, 16]
    assert all(make_divisible(v) >= 0.9 * v for v in range(1, 400))


def test_unknown_backbone_and_option_suggest_the_closest() -> None:
    with pytest.raises(KeyError, match=r"did you mean 'mobilenetv2'"):
        build_backbone("mobilenet_v2")
    with pytest.raises(TypeError, match=r"no option 'widht' \(did you mean 'width'\?\)"):
        build_backbone("mobilenetv2", widht=0.5)
    with pytest.raises(ValueError, match="width must be > 0"):
        build_backbone("mobilenetv2", width=0)


def test_registry_rejects_a_module_that_breaks_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    # a private copy of the registry, so the broken entry does not outlive this test
    monkeypatch.setattr(_backbone, "_BACKBONES", dict(_backbone._BACKBONES))
    name = "broken"

    @register_backbone(name)
    class Broken(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.out_channels, self.reductions = (8, 16), (2,)

    with pytest.raises(TypeError, match="same length"):
        build_backbone(name)
    with pytest.raises(ValueError, match="registered twice"):
        register_backbone(name)(Broken)


def test_conv_bn_act_same_padding_and_linear_variant() -> None:
    block = ConvBNAct(in_ch=3, out_ch=8, kernel=3, stride=2, act=nn.Hardswish)
    assert block(torch.randn(1, 3, 16, 16)).shape == (1, 8, 8, 8)
    assert isinstance(block[-1], nn.Hardswish)
    assert len(ConvBNAct(in_ch=3, out_ch=8, act=None)) == 2


# --- CutNet -------------------------------------------------------------------------------------------


def test_cutnet_eval_returns_one_map_and_train_one_per_level() -> None:
    torch.manual_seed(0)
    net = build_net("cutnet")
    x = torch.randn(2, 3, 96, 128)
    with torch.no_grad():
        (main,) = net.eval()(x)
        train_out = net.train()(x)
    levels = len(net.encoder.reductions)
    assert len(train_out) == 1 + (levels - 1)
    assert all(m.shape == (2, 1, 96, 128) for m in (main, *train_out))
    assert net.side_heads is not None and len(net.side_heads) == levels - 1


def test_cutnet_without_side_outputs_returns_only_the_main_map() -> None:
    net = build_net("cutnet", side_outputs=False).train()
    out = net(torch.randn(2, 3, 64, 64))
    assert len(out) == 1
    out[0].sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_cutnet_parameter_budget_and_parts() -> None:
    net = build_net("cutnet")
    total = sum(p.numel() for p in net.parameters())
    assert 1_000_000 < total < CUTNET_MAX_PARAMS
    parts = sum(sum(p.numel() for p in getattr(net, name).parameters()) for name in ("encoder", "decoder"))
    parts += sum(p.numel() for p in net.head.parameters()) + sum(
        p.numel() for p in net.side_heads.parameters()
    )
    assert parts == total, "encoder, decoder, head and side_heads must hold every parameter"


def test_cutnet_other_backbones_widths_and_channels() -> None:
    half = build_net("cutnet", backbone_kwargs={"width": 0.5})
    assert half.encoder.out_channels == build_backbone("mobilenetv2", width=0.5).out_channels
    assert sum(p.numel() for p in half.parameters()) < sum(
        p.numel() for p in build_net("cutnet").parameters()
    )
    rgba = build_net("cutnet", backbone="mobilenetv2_lite", backbone_kwargs={"in_ch": 4}, decoder_channels=32)
    with torch.no_grad():
        (out,) = rgba.eval()(torch.randn(1, 4, 64, 96))
    assert out.shape == (1, 1, 64, 96)


def test_cutnet_freezing_the_encoder_leaves_the_decoder_trainable() -> None:
    net = build_net("cutnet").train()
    for p in net.encoder.parameters():
        p.requires_grad_(False)
    sum(m.sum() for m in net(torch.randn(2, 3, 64, 64))).backward()
    assert all(p.grad is None for p in net.encoder.parameters())
    assert all(p.grad is not None for p in net.decoder.parameters())


def test_cutnet_option_errors() -> None:
    with pytest.raises(ValueError, match="decoder_channels must be a positive int or 5 positive ints"):
        build_net("cutnet", decoder_channels=(64, 32))
    with pytest.raises(ValueError, match="decoder_channels"):
        build_net("cutnet", decoder_channels=0)
    with pytest.raises(TypeError, match="did you mean 'width'"):
        build_net("cutnet", backbone_kwargs={"widht": 0.5})
    with pytest.raises(KeyError, match=r"unknown backbone 'resnet51' \(did you mean [^)]*'resnet50'"):
        build_net("cutnet", backbone="resnet51")
    with pytest.raises(TypeError, match="backbone_kwargs must be a dict"):
        build_net("cutnet", backbone_kwargs=[("width", 0.5)])
