"""Looking up models by name or path."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from cutkit._util.suggest import unknown
from cutkit.zoo.models import DEFAULT_MODEL, MODELS
from cutkit.zoo.spec import ModelSpec, WeightsFile

ONNX_META_KEY = "cutkit_spec"


def list_specs() -> list[ModelSpec]:
    """All named models, in declaration order."""
    return list(MODELS.values())


def get_spec(name: str) -> ModelSpec:
    """The spec named ``name``; an unknown name raises ``KeyError`` with the closest match."""
    if name not in MODELS:
        raise KeyError(unknown("model", name, MODELS))
    return MODELS[name]


def default_model() -> str:
    """The model used when none is given."""
    return DEFAULT_MODEL


def rembg_spec_for(path: str | Path) -> ModelSpec | None:
    """The spec of a known rembg ONNX file, matched by its file name or its rembg name."""
    name = Path(path).name
    for spec in MODELS.values():
        if spec.arch == "onnx" and name in (spec.name, spec.weights.filename):
            return spec
    return None


def rembg_cache_dirs() -> list[Path]:
    """Where rembg keeps its ONNX files: ``$U2NET_HOME``, then ``~/.u2net``."""
    import os

    dirs = [Path(os.environ["U2NET_HOME"]).expanduser()] if os.environ.get("U2NET_HOME") else []
    return [*dirs, Path("~/.u2net").expanduser()]


def spec_to_json(spec: ModelSpec) -> str:
    """Serialise a spec (stored in exported ONNX files so they carry their preprocessing)."""
    return json.dumps(dataclasses.asdict(spec), sort_keys=True)


def spec_from_json(text: str) -> ModelSpec:
    """Inverse of :func:`spec_to_json`."""
    data: dict[str, Any] = json.loads(text)
    weights = WeightsFile(**{k: tuple(v) if k == "urls" else v for k, v in data.pop("weights").items()})
    tuples = {k: tuple(data[k]) for k in ("input_size", "mean", "std", "output")}
    return ModelSpec(**{**data, **tuples, "weights": weights})
