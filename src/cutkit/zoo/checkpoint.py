"""Reading weight files into networks: official ``.pth`` (legacy or zip format), ours (safetensors).

Loading is always ``weights_only``: a checkpoint is data, never code.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net", "ema")


class CheckpointError(ValueError):
    """A weight file that cannot be read, or whose keys do not fit the network."""


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a ``state_dict`` from ``.pth``/``.pt`` (any torch format) or ``.safetensors``.

    A ``module.`` prefix (saved from ``DataParallel``/DDP) is stripped, and a dict that wraps the
    weights under ``state_dict``/``model``/... is unwrapped.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: weight file not found")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file; we re-raise with the path
        raise CheckpointError(f"{path}: not a readable torch checkpoint ({exc})") from exc
    return _strip_prefix(_unwrap(obj, path))


def _unwrap(obj: object, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return dict(obj)
    if isinstance(obj, dict):
        for key in _WRAPPER_KEYS:
            if isinstance(obj.get(key), dict):
                return _unwrap(obj[key], path)
    raise CheckpointError(f"{path}: no state_dict of tensors found in the checkpoint")


def _strip_prefix(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # DataParallel/DDP add "module.", torch.compile "_orig_mod."; either or both may wrap the weights.
    for prefix in ("module.", "_orig_mod."):
        if sd and all(k.startswith(prefix) for k in sd):
            sd = {k[len(prefix) :]: v for k, v in sd.items()}
    return sd


def load_into(net: nn.Module, sd: dict[str, torch.Tensor], source: str = "checkpoint") -> nn.Module:
    """Load ``sd`` into ``net`` strictly, tolerating only absent ``num_batches_tracked`` buffers.

    Raises:
        CheckpointError: naming the unexpected and missing keys, or mismatched shapes.
    """
    own = net.state_dict()
    missing = [k for k in own if k not in sd and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in sd if k not in own]
    if missing or unexpected:
        raise CheckpointError(
            f"{source}: keys do not fit {type(net).__name__}: "
            f"{_listing('missing', missing)}; {_listing('unexpected', unexpected)}"
        )
    bad = [
        f"{k} {tuple(sd[k].shape)} vs {tuple(v.shape)}"
        for k, v in own.items()
        if k in sd and sd[k].shape != v.shape
    ]
    if bad:
        raise CheckpointError(f"{source}: shape mismatch: {'; '.join(bad[:10])}")
    full = {k: sd.get(k, v) for k, v in own.items()}
    net.load_state_dict(full, strict=True)
    return net


def load_weights(net: nn.Module, path: str | Path) -> nn.Module:
    """Read ``path`` and load it into ``net`` (see :func:`load_into`)."""
    return load_into(net, read_state_dict(path), source=str(path))


def _listing(what: str, keys: list[str]) -> str:
    if not keys:
        return f"no {what} keys"
    shown = ", ".join(keys[:8]) + (f", ... ({len(keys)} in all)" if len(keys) > 8 else "")
    return f"{what}: {shown}"
