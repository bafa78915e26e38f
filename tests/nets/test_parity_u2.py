"""U²-Net, U²-Netp and IS-Net: official key layout, parity with the upstream models, checkpoint loading.

The parity fixtures (``shared/fixtures/parity/<arch>``) hold the upstream key list, an input and the outputs
of the upstream code under the synthetic weights of ``recipe.md``; tests that need them skip without them.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from _parity import parity_dir, read_json, recipe_arrays, sha256_of
from cutkit.nets import build_net
from cutkit.zoo.checkpoint import CheckpointError, load_into, read_state_dict

ARCHS = ["u2net", "u2netp", "isnet"]
ISNET_FEATURES = ["hx1d", "hx2d", "hx3d", "hx4d", "hx5d", "hx6"]
ATOL_MAP = 1e-5  # sigmoid maps; measured fp32 noise <= 2.5e-6 (fixture README)
ATOL_FEATURE = 1e-4  # IS-Net decoder features, unbounded activations


@pytest.fixture(scope="module", params=ARCHS)
def arch(request: pytest.FixtureRequest) -> str:
    # module scope groups the tests per architecture, so each recipe is built once and then freed
    return request.param


def _fixture(arch: str) -> Path:
    folder = parity_dir(arch)
    if folder is None:
        pytest.skip(f"parity fixtures for {arch} not found in <repo>/shared or <repo>/../shared")
    return folder


def _keys(arch: str) -> dict[str, Any]:
    return read_json(_fixture(arch) / "keys.json")


@pytest.fixture(scope="module")
def recipe(arch: str) -> dict[str, np.ndarray]:
    return recipe_arrays(_keys(arch)["state_dict"])


@pytest.fixture(scope="module")
def loaded_net(arch: str, recipe: dict[str, np.ndarray]) -> nn.Module:
    net = build_net(arch)
    load_into(net, {key: torch.from_numpy(arr) for key, arr in recipe.items()}, source=f"{arch} recipe")
    return net.eval()


def _named_outputs(arch: str, out: Any) -> dict[str, torch.Tensor]:
    if arch == "isnet":
        maps, feats = out
        named = {f"d{i}": m for i, m in enumerate(maps, start=1)}
        return named | dict(zip(ISNET_FEATURES, feats, strict=True))
    return {f"d{i}": d for i, d in enumerate(out)}


def test_state_dict_layout_is_official(arch: str) -> None:
    state = build_net(arch).state_dict()
    ours = [[k, list(v.shape), str(v.dtype).removeprefix("torch.")] for k, v in state.items()]
    assert ours == _keys(arch)["state_dict"]


def test_module_tree_is_official(arch: str) -> None:
    reference = _keys(arch)["modules"]
    ours = list(build_net(arch).named_modules())
    assert [name for name, _ in ours] == [row[0] for row in reference]
    for (name, module), (_, cls, extra) in zip(ours, reference, strict=True):
        # upstream's own classes are named differently here; their torch.nn children carry the details
        if cls.startswith("torch.nn."):
            assert (type(module).__name__, module.extra_repr()) == (cls.rsplit(".", 1)[1], extra), name


def test_recipe_matches_published_hashes(arch: str, recipe: dict[str, np.ndarray]) -> None:
    hashes = read_json(_fixture(arch) / "weights_sha256.json")
    published = hashes["per_tensor_sha256_of_little_endian_C_order_bytes"]
    assert list(recipe) == list(published)
    wrong = [key for key, arr in recipe.items() if sha256_of(arr) != published[key]]
    assert not wrong, f"recipe tensors differ from weights_sha256.json: {wrong[:5]}"


def test_outputs_match_upstream(arch: str, loaded_net: nn.Module) -> None:
    folder = _fixture(arch)
    x = torch.from_numpy(np.load(folder / "input.npy"))
    expected = np.load(folder / "outputs.npz")
    with torch.no_grad():
        got = _named_outputs(arch, loaded_net(x))
    assert sorted(got) == sorted(expected.files)
    errors = {}
    for name, tensor in got.items():
        assert tensor.shape == expected[name].shape, name
        errors[name] = float(np.abs(tensor.numpy() - expected[name]).max())
    over = {n: e for n, e in errors.items() if e > (ATOL_FEATURE if n.startswith("hx") else ATOL_MAP)}
    assert not over, f"max abs errors over tolerance: {over} (all: {errors})"


def test_any_batch_and_size(arch: str) -> None:
    net = build_net(arch).eval()
    x = torch.randn(2, 3, 33, 47)  # odd sizes exercise the ceil-mode pools and resizes
    with torch.no_grad():
        out = _named_outputs(arch, net(x))
    for name, tensor in out.items():
        if name.startswith("d"):
            assert tensor.shape == (2, 1, 33, 47), name
            assert bool(((tensor >= 0) & (tensor <= 1)).all()), name
    if arch == "isnet":
        assert out["hx1d"].shape == (2, 64, 17, 24)  # the strided stem halves the input


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_reads_dataparallel_checkpoint_without_num_batches_tracked(tmp_path: Path, legacy: bool) -> None:
    source = build_net("u2netp").state_dict()
    saved = {f"module.{k}": v for k, v in source.items() if not k.endswith("num_batches_tracked")}
    path = tmp_path / "u2netp.pth"
    torch.save(saved, path, _use_new_zipfile_serialization=not legacy)
    assert zipfile.is_zipfile(path) is not legacy
    state = read_state_dict(path)
    assert not any(k.startswith("module.") for k in state)
    net = load_into(build_net("u2netp"), state)  # a fresh, differently initialised net
    for key, value in net.state_dict().items():
        assert torch.equal(value, source[key]), key


def test_unexpected_key_is_named() -> None:
    state = dict(build_net("u2netp").state_dict())
    state["stage1.rebnconv9.conv_s1.weight"] = torch.zeros(1)
    with pytest.raises(CheckpointError, match=re.escape("stage1.rebnconv9.conv_s1.weight")):
        load_into(build_net("u2netp"), state)


def test_missing_key_is_named() -> None:
    state = dict(build_net("u2netp").state_dict())
    del state["side3.bias"]
    with pytest.raises(CheckpointError, match=re.escape("side3.bias")):
        load_into(build_net("u2netp"), state)
