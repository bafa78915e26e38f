"""SINet and ExtremeC3Net: official key layout and parity with upstream under the REAL released weights.

The fixtures (``shared/fixtures/parity/<arch>``) hold upstream's key lists, module tree, an input photo
and the logits of the upstream code with the published ``.pth``; the weights live in
``shared/weights/<arch>``. Tests that need them skip without them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from _parity import find_shared, parity_dir, read_json
from cutkit.nets import build_net
from cutkit.zoo.checkpoint import load_weights, read_state_dict

ATOL_LOGITS = 1e-4  # measured fp32 noise <= 2e-5 (fixture README)
FRACTION_TOL = 0.005


@dataclass(frozen=True)
class Case:
    """One released portrait model and what its fixture README states."""

    arch: str
    weights: str
    person_fraction: float  # share of foreground pixels on the fixture photo
    size: tuple[int, int]  # a non-square size the architecture accepts

    def person_mask(self, logits: np.ndarray) -> np.ndarray:
        """Foreground as upstream's demo computes it: argmax for 2-class CE, ``logit > 0`` for Lovasz."""
        return logits.argmax(1) == 1 if logits.shape[1] > 1 else logits[:, 0] > 0


CASES = {
    "sinet": Case("sinet", "SINet.pth", 0.637, (256, 192)),  # multiples of 32
    "extremec3": Case("extremec3", "ExtremeC3.pth", 0.644, (200, 232)),  # multiples of 8
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request: pytest.FixtureRequest) -> Case:
    return CASES[request.param]


def _fixture(arch: str) -> Path:
    folder = parity_dir(arch)
    if folder is None:
        pytest.skip(f"parity fixtures for {arch} not found in <repo>/shared or <repo>/../shared")
    return folder


def _keys(arch: str) -> dict[str, Any]:
    return read_json(_fixture(arch) / "keys.json")


def _weights(case: Case) -> Path:
    shared = find_shared()
    path = shared / "weights" / case.arch / case.weights if shared else None
    if path is None or not path.is_file():
        pytest.skip(f"released weights {case.weights} not found in shared/weights/{case.arch}")
    return path


@pytest.fixture(scope="module")
def loaded_net(case: Case) -> nn.Module:
    return load_weights(build_net(case.arch), _weights(case)).eval()


def test_state_dict_layout_is_official(case: Case) -> None:
    state = build_net(case.arch).state_dict()
    ours = [[k, list(v.shape), str(v.dtype).removeprefix("torch.")] for k, v in state.items()]
    assert ours == _keys(case.arch)["model_state_dict"]


def test_module_tree_is_official(case: Case) -> None:
    reference = _keys(case.arch)["modules"]
    ours = list(build_net(case.arch).named_modules())
    assert [name for name, _ in ours] == [row[0] for row in reference]
    for (name, module), (_, cls, extra) in zip(ours, reference, strict=True):
        # upstream's own classes are named differently here; their torch.nn children carry the details
        if cls.startswith("torch.nn."):
            assert (type(module).__name__, module.extra_repr()) == (cls.rsplit(".", 1)[1], extra), name


def test_released_checkpoint_layout(case: Case) -> None:
    # ExtremeC3.pth predates num_batches_tracked; SINet.pth has them. Both are legacy (non-zip) pickles.
    state = read_state_dict(_weights(case))
    ours = [[k, list(v.shape), str(v.dtype).removeprefix("torch.")] for k, v in state.items()]
    assert ours == _keys(case.arch)["checkpoint_state_dict"]


def test_logits_match_upstream(case: Case, loaded_net: nn.Module) -> None:
    folder = _fixture(case.arch)
    x = torch.from_numpy(np.load(folder / "input.npy"))
    expected = np.load(folder / "outputs.npz")["logits"]
    with torch.no_grad():
        got = loaded_net(x).numpy()
    assert got.shape == expected.shape
    error = float(np.abs(got - expected).max())
    assert error <= ATOL_LOGITS, f"max abs error {error:.3g} over {ATOL_LOGITS}"
    fraction = float(case.person_mask(got).mean())
    assert abs(fraction - case.person_fraction) <= FRACTION_TOL, f"person fraction {fraction:.4f}"


def test_batch_and_non_square_size(case: Case) -> None:
    net = build_net(case.arch).eval()
    x = torch.randn(2, 3, *case.size)
    with torch.no_grad():
        batched = net(x)
        single = net(x[1:])
    assert batched.shape[0] == 2 and batched.shape[2:] == x.shape[2:]
    torch.testing.assert_close(batched[1:], single, atol=1e-5, rtol=1e-5)
