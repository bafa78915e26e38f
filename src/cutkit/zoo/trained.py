"""Models trained with cutkit: ``model.safetensors`` + ``model.json`` (the spec), loadable by path.

``cutkit remove --model runs/salient/NAME`` (the run folder), ``--model .../model.safetensors`` or
``--model .../model.json`` all find the pair; the JSON carries the architecture, its keywords and the
preprocessing, so inference needs nothing from the training run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cutkit.zoo.registry import spec_from_json, spec_to_json
from cutkit.zoo.spec import ModelSpec, WeightsFile

WEIGHTS_NAME = "model.safetensors"
SPEC_NAME = "model.json"


def save_trained(
    net: Any,
    out_dir: Path,
    *,
    name: str,
    arch: str,
    arch_kwargs: dict[str, Any],
    input_size: int,
    mean: Sequence[float],
    std: Sequence[float],
    description: str,
) -> Path:
    """Write ``net``'s weights and its spec into ``out_dir``; returns the weights path."""
    from safetensors.torch import save

    from cutkit.io.image import write_atomic

    spec = ModelSpec(
        name=name, arch=arch, arch_kwargs=arch_kwargs, input_size=(input_size, input_size),
        mean=tuple(mean), std=tuple(std), output=(0,), activation="sigmoid",
        weights=WeightsFile(filename=WEIGHTS_NAME), licence="that of the training data",
        description=description, size_multiple=32,
    )  # fmt: skip
    weights = out_dir / WEIGHTS_NAME
    write_atomic(weights, save({k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}))
    write_atomic(out_dir / SPEC_NAME, (json.dumps(json.loads(spec_to_json(spec)), indent=2) + "\n").encode())
    return weights


class TrainedModelError(ValueError):
    """A path given as a model that is not a usable trained model."""


def find_trained(model: str) -> tuple[ModelSpec, Path] | None:
    """The spec and weights of a trained model named by a path; None when ``model`` is no such path."""
    path = Path(model).expanduser()
    if path.is_dir():
        folder = path
    elif path.is_file() and path.name in (WEIGHTS_NAME, SPEC_NAME):
        folder = path.parent
    elif path.is_file() and path.suffix == ".safetensors" and path.with_suffix(".json").is_file():
        return _read(path.with_suffix(".json")), path
    else:
        return None
    spec_path, weights = folder / SPEC_NAME, folder / WEIGHTS_NAME
    if not (spec_path.is_file() and weights.is_file()):
        raise TrainedModelError(
            f"{path}: not a trained cutkit model (a folder with {SPEC_NAME} and {WEIGHTS_NAME}); "
            "a run writes them when its training ends"
        )
    return _read(spec_path), weights


def _read(spec_path: Path) -> ModelSpec:
    from cutkit.zoo.classifier import FORMAT as CLASSIFIER_FORMAT

    text = spec_path.read_text()
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise TrainedModelError(f"{spec_path}: not a valid model spec ({exc})") from exc
    if isinstance(data, dict) and data.get("format") == CLASSIFIER_FORMAT:
        raise TrainedModelError(
            f"{spec_path.parent}: a trained classifier, not a background-removal model; "
            f"label images with `cutkit predict --model {spec_path.parent} IMAGE...`"
        )
    try:
        return spec_from_json(text)
    except (ValueError, TypeError, KeyError) as exc:
        raise TrainedModelError(f"{spec_path}: not a valid model spec ({exc})") from exc
