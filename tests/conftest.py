"""Test-wide setup: the helper modules in ``tests/`` (e.g. ``_parity``) are importable from every folder."""

import os
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))

from _parity import find_shared


@pytest.fixture(scope="session", autouse=True)
def _torch_threads_per_worker() -> None:
    """Under pytest-xdist, split the cores between the workers.

    Each worker's PyTorch would otherwise start one OpenMP thread per core; oversubscribed threads spin at
    their barriers, and small CPU inferences ran 10-30x slower (test_api: 36 s instead of 15 s with -n 2).
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


# --- shared data and weights (skip, never fail, when ../shared is absent) ---------------------------


def _shared_path(*parts: str) -> pathlib.Path:
    shared = find_shared()
    path = shared.joinpath(*parts) if shared else None
    if path is None or not path.exists():
        pytest.skip(f"shared/{'/'.join(parts)} not found in <repo>/shared or <repo>/../shared")
    return path


@pytest.fixture(scope="session")
def sinet_weights() -> pathlib.Path:
    """The official SINet checkpoint (``shared/weights/sinet/SINet.pth``)."""
    return _shared_path("weights", "sinet", "SINet.pth")


@pytest.fixture(scope="session")
def extremec3_weights() -> pathlib.Path:
    """The official ExtremeC3Net checkpoint (``shared/weights/extremec3/ExtremeC3.pth``)."""
    return _shared_path("weights", "extremec3", "ExtremeC3.pth")


@pytest.fixture(scope="session")
def people_mini() -> pathlib.Path:
    """``shared/data/human/people-mini``: ``images/*.jpg`` and ``masks/*.png`` matched by stem."""
    return _shared_path("data", "human", "people-mini")


@pytest.fixture(scope="session")
def duts_tr_mini() -> pathlib.Path:
    """``shared/data/sod/duts-tr-mini``: 200 DUTS-TR pairs (``images/*.jpg``, ``masks/*.png``)."""
    return _shared_path("data", "sod", "duts-tr-mini")


@pytest.fixture(scope="session")
def duts_te_mini() -> pathlib.Path:
    """``shared/data/sod/duts-te-mini``: 50 DUTS-TE pairs."""
    return _shared_path("data", "sod", "duts-te-mini")
