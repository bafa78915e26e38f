"""The model zoo as data: every spec is complete and consistent, and specs survive JSON."""

from __future__ import annotations

import re

import pytest

from cutkit.nets import arch_names
from cutkit.zoo import ModelSpec, default_model, get_spec, list_specs
from cutkit.zoo.registry import rembg_spec_for, spec_from_json, spec_to_json

SPECS = list_specs()
IDS = [s.name for s in SPECS]


def test_names_are_unique_and_default_is_listed() -> None:
    assert len(IDS) == len(set(IDS))
    assert default_model() in IDS


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_spec_is_complete(spec: ModelSpec) -> None:
    assert spec.arch == "onnx" or spec.arch in arch_names()
    assert len(spec.input_size) == 2
    assert all(side > 0 and side % spec.size_multiple == 0 for side in spec.input_size)
    assert len(spec.mean) == 3 and len(spec.std) == 3
    assert all(s > 0 for s in spec.std)
    assert spec.channel_order in ("RGB", "BGR")
    assert spec.activation in ("identity", "sigmoid", "softmax")
    # A bundled file ships in the package (tests/zoo/test_bundled.py checks its sha256); others download.
    assert spec.weights.filename and (spec.weights.urls or spec.weights.bundled)
    assert all(url.startswith("https://") for url in spec.weights.urls)
    assert spec.weights.sha256 or spec.weights.md5
    assert not spec.weights.bundled or (spec.weights.sha256 and spec.weights.size)
    if spec.weights.sha256:
        assert re.fullmatch(r"[0-9a-f]{64}", spec.weights.sha256)
    if spec.weights.md5:
        assert re.fullmatch(r"[0-9a-f]{32}", spec.weights.md5)
    assert spec.licence and spec.description


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_spec_json_round_trip(spec: ModelSpec) -> None:
    back = spec_from_json(spec_to_json(spec))
    assert back == spec
    assert isinstance(back.input_size, tuple) and isinstance(back.weights.urls, tuple)


def test_arch_kwargs_are_accepted_by_the_architecture() -> None:
    from cutkit.nets import arch_defaults

    for spec in SPECS:
        if spec.arch != "onnx":
            assert set(spec.arch_kwargs) <= set(arch_defaults(spec.arch)), spec.name


def test_unknown_model_suggests_the_closest() -> None:
    with pytest.raises(KeyError, match=r"did you mean [^)]*'u2netp'"):
        get_spec("u2netpp")


def test_size_multiple_is_enforced() -> None:
    spec = get_spec("sinet")
    with pytest.raises(ValueError, match="multiple of 32"):
        ModelSpec(**{**spec.__dict__, "input_size": (300, 320)})


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("u2netp.onnx", "u2netp.onnx"),
        ("/home/me/.u2net/u2netp.onnx", "u2netp.onnx"),
        ("BiRefNet-general-epoch_244.onnx", "birefnet-general.onnx"),
        ("birefnet-general.onnx", "birefnet-general.onnx"),
    ],
)
def test_rembg_spec_for_known_files(path: str, name: str) -> None:
    spec = rembg_spec_for(path)
    assert spec is not None and spec.name == name


def test_rembg_spec_for_unknown_file() -> None:
    assert rembg_spec_for("my-own-model.onnx") is None
