"""The classifier contract over every registered classifier, and classifiers as segmentation encoders.

Contract: logits of shape (N, num_classes); ``features`` at ``feature_strides`` with ``feature_channels``;
``head`` maps the last feature to the logits; ``gradcam_layer`` is a spatial layer on the gradient path;
every parameter gets a gradient; the state_dict round-trips; the backbone is the registered backbone of the
same name, so a classification checkpoint initialises ``cutnet``'s encoder (``--backbone NAME
--pretrained RUN``).
"""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from cutkit.nets import build_net
from cutkit.nets._backbone import backbone_names, build_backbone
from cutkit.nets.classify import Classifier, classifier_names
from cutkit.nets.classify.heads import grid_pool
from cutkit.train.checkpoint import load_pretrained, pretrained_state_dict

# Per classifier: the keywords and input (channels, size) of the contract test, small for CPU CI.
CASES: dict[str, list[tuple[dict, int, int]]] = {
    "simple-cnn": [({"in_channels": 1}, 1, 28), ({"in_channels": 3, "width": 0.5}, 3, 32)],
    "resnet18": [({"stem": "imagenet"}, 3, 64), ({"stem": "cifar", "width": 0.25}, 3, 32)],
    "resnet34": [({"stem": "cifar", "width": 0.25}, 3, 32)],
    "resnet50": [({"stem": "imagenet", "width": 0.25}, 3, 64), ({"stem": "cifar", "width": 0.25}, 3, 32)],
    "mobilenet-cls": [
        ({"stem": "imagenet", "width": 0.5}, 3, 64),
        ({"stem": "cifar", "in_channels": 1}, 1, 32),
    ],
}
NUM_CLASSES = 7


def _cases() -> list[tuple[str, dict, int, int]]:
    return [(name, kw, ch, size) for name in classifier_names() for kw, ch, size in CASES[name]]


def test_every_registered_classifier_has_a_case_and_a_backbone_of_its_name() -> None:
    assert set(classifier_names()) == set(CASES)
    assert set(classifier_names()) <= set(backbone_names())
    assert {"simple-cnn", "resnet18", "resnet34", "resnet50", "mobilenet-cls"} <= set(classifier_names())


def _build(name: str, kwargs: dict, seed: int = 0) -> Classifier:
    torch.manual_seed(seed)
    net = build_net(name, num_classes=NUM_CLASSES, **kwargs)
    assert isinstance(net, Classifier)
    return net


@pytest.mark.parametrize(("name", "kwargs", "channels", "size"), _cases())
def test_logits_features_and_head(name: str, kwargs: dict, channels: int, size: int) -> None:
    net = _build(name, kwargs).eval()
    x = torch.randn(2, channels, size, size + 4, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        logits, feats = net(x), net.features(x)
    assert logits.shape == (2, NUM_CLASSES) and torch.isfinite(logits).all()
    assert net.num_classes == NUM_CLASSES and net.in_channels == channels
    assert isinstance(net.feature_channels, list) and isinstance(net.feature_strides, list)
    assert len(feats) == len(net.feature_channels) == len(net.feature_strides) >= 2
    assert net.feature_strides == sorted(set(net.feature_strides))
    for feat, ch, stride in zip(feats, net.feature_channels, net.feature_strides, strict=True):
        assert tuple(feat.shape) == (2, ch, math.ceil(size / stride), math.ceil((size + 4) / stride))
    with torch.no_grad():
        assert torch.equal(net.head(feats[-1]), logits)


@pytest.mark.parametrize(("name", "kwargs", "channels", "size"), _cases())
def test_backward_reaches_every_parameter_and_the_gradcam_layer(
    name: str, kwargs: dict, channels: int, size: int
) -> None:
    net = _build(name, kwargs).train()
    layer = net.gradcam_layer
    assert any(m is layer for m in net.modules())
    seen: dict[str, torch.Tensor] = {}

    def keep(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        seen["act"] = output
        output.register_hook(lambda grad: seen.__setitem__("grad", grad))

    handle = layer.register_forward_hook(keep)
    logits = net(torch.randn(3, channels, size, size, generator=torch.Generator().manual_seed(2)))
    handle.remove()
    logits[:, 0].sum().backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None]
    assert not missing, f"{name}: parameters without a gradient: {missing[:10]}"
    assert all(torch.isfinite(p.grad).all() for p in net.parameters())
    # Grad-CAM needs a spatial map with a gradient on it
    assert seen["act"].dim() == 4 and seen["act"].shape[2] > 1 and seen["grad"].shape == seen["act"].shape
    assert seen["grad"].abs().sum() > 0


@pytest.mark.parametrize(("name", "kwargs", "channels", "size"), _cases())
def test_state_dict_round_trip_through_safetensors(
    name: str, kwargs: dict, channels: int, size: int, tmp_path: Path
) -> None:
    net = _build(name, kwargs, seed=1)
    with torch.no_grad():  # non-trivial BatchNorm statistics, so the buffers round-trip too
        net.train()(torch.randn(4, channels, size, size))
    sd = net.state_dict()
    assert all(k.startswith(("backbone.", "head.")) for k in sd), "gradcam_layer must not be saved twice"
    save_file({k: v.contiguous() for k, v in sd.items()}, tmp_path / "model.safetensors")

    fresh = _build(name, kwargs, seed=2)  # another init: only the loaded weights can make outputs agree
    fresh.load_state_dict(load_file(tmp_path / "model.safetensors"), strict=True)
    x = torch.randn(2, channels, size, size, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert torch.equal(net.eval()(x), fresh.eval()(x))


@pytest.mark.parametrize(("name", "kwargs", "channels", "size"), _cases())
def test_the_backbone_is_the_registered_backbone_of_the_same_name(
    name: str, kwargs: dict, channels: int, size: int
) -> None:
    net = _build(name, kwargs)
    backbone_kwargs = {k: v for k, v in kwargs.items() if k in ("stem", "width")} | {"in_ch": channels}
    alone = build_backbone(name, **backbone_kwargs)
    shapes = {k: v.shape for k, v in net.backbone.state_dict().items()}
    assert shapes == {k: v.shape for k, v in alone.state_dict().items()}
    assert (alone.out_channels, alone.reductions) == (tuple(net.feature_channels), tuple(net.feature_strides))


def test_sizes_and_strides_of_the_stems() -> None:
    assert build_net("resnet18", stem="imagenet").feature_strides == [2, 4, 8, 16, 32]
    assert build_net("resnet18", stem="cifar").feature_strides == [1, 2, 4, 8]
    assert build_net("resnet50").feature_channels == [64, 256, 512, 1024, 2048]
    assert build_net("mobilenet-cls", stem="cifar").feature_strides == [1, 2, 4, 8, 16]
    assert build_net("simple-cnn").feature_strides == [2, 4]
    params = {n: sum(p.numel() for p in build_net(n).parameters()) for n in ("resnet18", "simple-cnn")}
    assert 11_000_000 < params["resnet18"] < 11_400_000  # the paper's 11.7 M less the 1000-class layer
    assert 300_000 < params["simple-cnn"] < 500_000


@pytest.mark.parametrize(("size", "grid"), [((8, 8), 7), ((7, 9), 7), ((3, 5), 4), ((16, 16), 4)])
def test_grid_pool_is_adaptive_average_pooling(size: tuple[int, int], grid: int) -> None:
    x = torch.randn(2, 3, *size, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(grid_pool(x, grid), nn.functional.adaptive_avg_pool2d(x, grid))


@pytest.mark.parametrize("name", classifier_names())
def test_onnx_export_agrees_with_torch(name: str) -> None:
    import onnxruntime as ort

    kwargs = {} if name == "simple-cnn" else {"width": 0.25, "stem": "cifar"}
    net = _build(name, kwargs).eval()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))  # 8 × 8 → simple-cnn's 7 × 7
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shape-dependent Python values
        torch.onnx.export(net, (x,), buf, dynamo=False, opset_version=17, input_names=["input"],
                          dynamic_axes={"input": {0: "batch"}})  # fmt: skip
    session = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x[:1].numpy()})[0]
    with torch.no_grad():
        np.testing.assert_allclose(got, net(x[:1]).numpy(), atol=1e-4, rtol=1e-4)


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="num_classes must be an int >= 1"):
        build_net("resnet18", num_classes=0)
    with pytest.raises(ValueError, match="in_channels must be an int >= 1"):
        build_net("simple-cnn", in_channels=0)
    with pytest.raises(ValueError, match="stem must be one of imagenet, cifar, got 'cifar10'"):
        build_net("resnet34", stem="cifar10")
    with pytest.raises(ValueError, match="stem must be one of"):
        build_net("mobilenet-cls", stem="tiny")
    with pytest.raises(ValueError, match="dropout must be in"):
        build_net("mobilenet-cls", dropout=1.0)
    with pytest.raises(TypeError, match="did you mean 'num_classes'"):
        build_net("resnet18", num_class=10)
    with pytest.raises(KeyError, match="did you mean 'resnet18'"):
        build_net("resnet-18")


# --- classifiers as segmentation encoders ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["simple-cnn", "resnet18", "resnet50", "mobilenet-cls"])
def test_a_classification_checkpoint_initialises_the_cutnet_encoder(name: str, tmp_path: Path) -> None:
    classifier = _build(name, {"width": 0.25}, seed=3)
    with torch.no_grad():
        classifier.train()(torch.randn(2, 3, 64, 64))  # BN statistics to carry over
    save_file({k: v.contiguous() for k, v in classifier.state_dict().items()}, tmp_path / "model.safetensors")

    seg = build_net("cutnet", backbone=name, backbone_kwargs={"width": 0.25})
    sd, source = pretrained_state_dict(str(tmp_path))
    report = load_pretrained(seg, sd, source)
    encoder_keys = [k for k in seg.state_dict() if k.startswith("encoder.")]
    assert report.renamed == {"backbone": "encoder"}
    assert sorted(report.matched) == sorted(encoder_keys) and not report.mismatched
    assert report.missing and all(k.startswith(("decoder.", "head.", "side_heads.")) for k in report.missing)
    assert report.unexpected and all(k.startswith("head.") for k in report.unexpected)
    for key, value in classifier.backbone.state_dict().items():
        assert torch.equal(seg.encoder.state_dict()[key], value), key
    with torch.no_grad():
        (out,) = seg.eval()(torch.randn(1, 3, 64, 96))
    assert out.shape == (1, 1, 64, 96)


def test_a_shallower_backbone_keeps_the_fine_decoder_widths() -> None:
    cifar = build_net("cutnet", backbone="resnet18", backbone_kwargs={"stem": "cifar", "width": 0.25})
    assert len(cifar.decoder.levels) == 3 and cifar.head.in_channels == 24
    assert [lvl.lateral[0].out_channels for lvl in cifar.decoder.levels] == [48, 32, 24]
    two = build_net("cutnet", backbone="simple-cnn")
    assert two.head.in_channels == 24 and len(two.side_heads) == 1
    with pytest.raises(ValueError, match="decoder_channels must be a positive int or 4 positive ints"):
        build_net("cutnet", backbone="resnet18", backbone_kwargs={"stem": "cifar"}, decoder_channels=(8, 8))


def test_the_default_cutnet_still_loads_the_bundled_weights_exactly() -> None:
    from cutkit.zoo.registry import get_spec
    from cutkit.zoo.weights import bundled_path

    bundled = load_file(bundled_path(get_spec("cutnet-duts").weights))
    net = build_net("cutnet")
    assert {k: v.shape for k, v in net.state_dict().items()} == {k: v.shape for k, v in bundled.items()}
    net.load_state_dict(bundled, strict=True)
