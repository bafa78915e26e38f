"""A loaded model: the spec, its resolved weights and an engine, built once and reused."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from cutkit.engine.device import resolve_device
from cutkit.zoo.models import MODELS
from cutkit.zoo.registry import default_model, get_spec, rembg_cache_dirs, rembg_spec_for, spec_from_json
from cutkit.zoo.spec import ModelSpec
from cutkit.zoo.trained import find_trained


class Engine(Protocol):
    name: str

    def predict(self, batch: np.ndarray) -> np.ndarray: ...


@dataclass
class Session:
    """What a removal needs from a model: its spec (preprocessing) and an engine."""

    spec: ModelSpec
    engine: Engine
    weights: Path


def load_session(
    *,
    model: str | None = None,
    weights: str | None = None,
    engine: str | None = None,
    device: str = "auto",
    precision: str = "auto",
    threads: int | None = None,
    input_size: int | None = None,
    progress: bool = True,
) -> Session:
    """Resolve a model name or ONNX path, find its weights and start an engine.

    Raises:
        KeyError: unknown model name (with the closest match).
        cutkit.zoo.weights.WeightsNotFound: weights absent and not downloadable (says where to put them).
        cutkit.engine.device.DeviceError: CUDA requested but absent.
        ValueError: ``input_size`` for an ONNX file, or not a multiple of the model's stride.
    """
    name = model or default_model()
    if name.endswith(".onnx"):
        if input_size is not None:
            raise ValueError(f"{name}: input_size applies to cutkit's PyTorch models, not to an ONNX file")
        return _onnx_session(name, weights, engine, device, threads, progress)
    trained = None if name in MODELS else find_trained(name)  # a zoo name wins over a folder of that name
    if trained is not None:
        spec, path = trained
        path = Path(weights).expanduser() if weights else path
    else:
        spec = get_spec(name)
        path = _resolve(spec, weights, progress)
    spec = with_input_size(spec, input_size)
    if (engine or "torch") == "torch":
        import torch

        from cutkit.engine.torch_engine import TorchEngine

        if threads:
            torch.set_num_threads(threads)

        return Session(
            spec, TorchEngine(spec, path, device=resolve_device(device), precision=precision), path
        )
    from cutkit.engine.onnx_engine import OnnxEngine

    onnx_path = exported_onnx(spec, path)
    return Session(spec, OnnxEngine(spec, onnx_path, device=device, threads=threads, raw_outputs=False), path)


def with_input_size(spec: ModelSpec, size: int | None) -> ModelSpec:
    """``spec`` running at ``size``×``size`` (None: unchanged).

    Raises:
        ValueError: ``size`` is not a multiple of the model's ``size_multiple``.
    """
    if size is None or (size, size) == spec.input_size:
        return spec
    if size % spec.size_multiple:
        raise ValueError(
            f"input_size {size}: model '{spec.name}' needs a multiple of {spec.size_multiple} "
            f"(e.g. {size // spec.size_multiple * spec.size_multiple or spec.size_multiple})"
        )
    return dataclasses.replace(spec, input_size=(size, size))


def _onnx_session(
    name: str, weights: str | None, engine: str | None, device: str, threads: int | None, progress: bool
) -> Session:
    from cutkit.engine.export import META_OUTPUT, META_SPEC, read_metadata
    from cutkit.engine.onnx_engine import OnnxEngine
    from cutkit.zoo.classifier import ONNX_META_KEY

    if engine not in (None, "onnx"):
        raise ValueError(f"{name}: an ONNX file runs on the onnx engine, not '{engine}'")
    path = Path(weights or name).expanduser()
    if path.is_file():
        meta = read_metadata(path)
        if ONNX_META_KEY in meta:
            raise ValueError(
                f"{path}: an exported classifier, not a background-removal model; "
                f"label images with `cutkit predict --model {path} IMAGE...`"
            )
        if META_SPEC in meta:
            spec = spec_from_json(meta[META_SPEC])
            raw = meta.get(META_OUTPUT) != "probability"
            return Session(
                spec, OnnxEngine(spec, path, device=device, threads=threads, raw_outputs=raw), path
            )
    spec = rembg_spec_for(path)
    if spec is None:
        raise ValueError(
            f"{name}: not an ONNX file exported by cutkit, nor a known rembg model "
            f"(known: see `cutkit models`); cannot tell its preprocessing"
        )
    path = path if path.is_file() else _resolve(spec, None, progress)
    return Session(spec, OnnxEngine(spec, path, device=device, threads=threads, raw_outputs=True), path)


def _resolve(spec: ModelSpec, weights: str | None, progress: bool) -> Path:
    from cutkit.zoo.weights import resolve_weights

    extra = rembg_cache_dirs() if spec.arch == "onnx" else []
    return resolve_weights(spec.weights, explicit=weights, extra_dirs=extra, progress=progress)


def exported_onnx(spec: ModelSpec, weights: Path) -> Path:
    """The ONNX export of ``spec`` + ``weights`` in the cache, exported on first use."""
    from cutkit.engine.export import export_onnx
    from cutkit.zoo.weights import cache_dir

    stat = weights.stat()
    from cutkit import __version__

    key = hashlib.sha256(
        f"{__version__}|{spec.input_size}|{weights.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()
    ).hexdigest()[:12]
    out = cache_dir() / "onnx" / f"{spec.name}-{key}.onnx"
    return out if out.is_file() else export_onnx(spec, weights, out)
