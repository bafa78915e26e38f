"""Choosing the device: never a silent fallback from CUDA to CPU."""

from __future__ import annotations


class DeviceError(RuntimeError):
    """The requested device is not available."""


def resolve_device(device: str) -> str:
    """``auto`` → ``cuda`` when available else ``cpu``; ``cuda`` without CUDA raises :class:`DeviceError`."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceError(
            f"device '{device}' requested, but CUDA is not available here "
            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'no'}); use --device cpu"
        )
    if device not in ("cpu",) and not device.startswith("cuda"):
        raise DeviceError(f"unknown device '{device}'; choose auto, cpu or cuda")
    return device
