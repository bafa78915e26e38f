"""Contract tests over every registered architecture: forward, backward, gradients, save/load, errors.

A new architecture is picked up by ``arch_names()`` automatically; if its input must be a multiple of
something other than 32, or its prediction maps sit inside a larger return value, say so in the tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from cutkit.nets import arch_names, build_net
from cutkit.nets.classify import classifier_names
from cutkit.zoo.checkpoint import load_weights

# 64 is a multiple of every architecture's size multiple (SINet 32, ExtremeC3 8, the U-nets' 5 poolings).
SIZE: dict[str, tuple[int, int]] = {}
DEFAULT_SIZE = (64, 64)
# Where the prediction maps are in the return value; IS-Net also returns its decoder features, which are
# coarser than the input by design.
MAPS_AT: dict[str, tuple[int, ...]] = {"isnet": (0,)}


def _leaves(out: Any) -> Iterator[torch.Tensor]:
    """Every tensor in a (nested) tuple/list return value."""
    if isinstance(out, torch.Tensor):
        yield out
    elif isinstance(out, (tuple, list)):
        for item in out:
            yield from _leaves(item)
    else:
        raise TypeError(f"unexpected output type {type(out).__name__}")


def _maps(arch: str, out: Any) -> list[torch.Tensor]:
    for index in MAPS_AT.get(arch, ()):
        out = out[index]
    return list(_leaves(out))


def _input(arch: str, batch: int, seed: int = 0) -> torch.Tensor:
    h, w = SIZE.get(arch, DEFAULT_SIZE)
    return torch.randn(batch, 3, h, w, generator=torch.Generator().manual_seed(seed))


# Classifiers return logits, not maps: tests/nets/test_classifiers.py holds their contract.
@pytest.fixture(params=sorted(set(arch_names()) - set(classifier_names())))
def arch(request: pytest.FixtureRequest) -> str:
    return request.param


def _trained_once(arch: str) -> tuple[nn.Module, Any, torch.Tensor]:
    torch.manual_seed(0)
    net = build_net(arch).train()
    x = _input(arch, batch=2)
    out = net(x)
    loss = sum(t.float().sum() for t in _leaves(out))
    loss.backward()
    return net, out, x


def test_forward_backward_every_parameter_gets_a_gradient(arch: str) -> None:
    net, out, x = _trained_once(arch)
    maps = _maps(arch, out)
    assert maps, f"{arch}: no prediction map in the output"
    for m in maps:
        assert m.shape[0] == 2 and m.shape[2:] == x.shape[2:], (
            f"{arch}: map {tuple(m.shape)} vs input {tuple(x.shape)}"
        )
        assert torch.isfinite(m).all()
    missing = [n for n, p in net.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"{arch}: parameters without a gradient: {missing[:10]}"
    bad = [n for n, p in net.named_parameters() if p.grad is not None and not torch.isfinite(p.grad).all()]
    assert not bad, f"{arch}: non-finite gradients: {bad[:10]}"


def test_save_load_round_trip(arch: str, tmp_path: Path) -> None:
    torch.manual_seed(1)
    net = build_net(arch)
    with torch.no_grad():  # non-trivial BatchNorm statistics, so the buffers are round-tripped too
        net.train()(_input(arch, batch=2, seed=3))
    path = tmp_path / f"{arch}.pth"
    torch.save(net.state_dict(), path)

    torch.manual_seed(2)  # a different random init: only the loaded weights can make outputs match
    fresh = load_weights(build_net(arch), path)
    x = _input(arch, batch=1, seed=4)
    with torch.no_grad():
        expected, got = _maps(arch, net.eval()(x)), _maps(arch, fresh.eval()(x))
    assert len(expected) == len(got)
    for a, b in zip(expected, got, strict=True):
        assert torch.equal(a, b)


def test_unknown_arch_suggests_the_closest() -> None:
    # 'u2netq' is one edit from 'u2net' and from 'u2netp': the suggestion (not the listing) names u2netp.
    with pytest.raises(KeyError, match=r"did you mean [^)]*'u2netp'"):
        build_net("u2netq")


def test_misspelt_kwarg_names_the_real_one() -> None:
    with pytest.raises(TypeError, match="did you mean 'in_ch'"):
        build_net("u2net", in_chanels=3)
