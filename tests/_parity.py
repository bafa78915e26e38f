"""Helpers for the parity tests: where the shared fixtures live and the synthetic-weight recipe.

The recipe is normative in ``shared/fixtures/parity/<arch>/recipe.md``; it depends only on key names and
shapes, so the tensors are rebuilt here bit for bit without any upstream code.
"""

from __future__ import annotations

import hashlib
import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]


def find_shared() -> Path | None:
    """The shared test-data folder: ``<repo>/shared``, else ``<repo>/../shared``; None if neither exists."""
    for candidate in (REPO / "shared", REPO.parent / "shared"):
        if candidate.is_dir():
            return candidate
    return None


def parity_dir(arch: str) -> Path | None:
    """The parity fixture folder of ``arch``, or None when the shared data is not available."""
    shared = find_shared()
    folder = shared / "fixtures" / "parity" / arch if shared else None
    return folder if folder is not None and folder.is_dir() else None


@cache
def read_json(path: Path) -> Any:
    """Parse a JSON file once per session."""
    return json.loads(path.read_text())


def recipe_tensor(k: int, key: str, shape: tuple[int, ...]) -> np.ndarray:
    """The synthetic value of tensor ``key`` whose index in the sorted key list is ``k`` (see recipe.md)."""
    if key.endswith("num_batches_tracked"):
        return np.zeros(shape, np.int64)  # no random draw for these
    v = np.random.default_rng(1000 + k).standard_normal(shape)
    if len(shape) >= 2:
        return (v * (1.0 / math.sqrt(int(np.prod(shape[1:]))))).astype(np.float32)
    if key.endswith(".running_var"):
        return (0.5 + 0.5 * np.abs(v)).astype(np.float32)
    if key.endswith(".running_mean"):
        return (0.1 * v).astype(np.float32)
    if key.endswith(".weight"):  # 1-D weight = BatchNorm gamma, centred on 1 so the signal survives
        return (1.0 + 0.1 * v).astype(np.float32)
    return (0.1 * v).astype(np.float32)


def recipe_arrays(entries: list[list[Any]]) -> dict[str, np.ndarray]:
    """The recipe tensors for ``keys.json``'s ``state_dict`` entries ``[key, shape, dtype]``, in order."""
    index = {key: k for k, key in enumerate(sorted(e[0] for e in entries))}
    return {key: recipe_tensor(index[key], key, tuple(shape)) for key, shape, _ in entries}


def recipe_state_dict(entries: list[list[Any]]) -> dict[str, torch.Tensor]:
    """The recipe tensors as a torch ``state_dict`` (including ``num_batches_tracked``)."""
    return {key: torch.from_numpy(arr) for key, arr in recipe_arrays(entries).items()}


def sha256_of(arr: np.ndarray) -> str:
    """SHA-256 of an array's C-order bytes, as in ``weights_sha256.json``."""
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()
