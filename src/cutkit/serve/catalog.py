"""Which models the server offers: the zoo's, with whether their weights are here, and request checks.

A request names a model by its zoo name only (or the exact model the server was started with): a path to an
``.onnx`` or weight file would let a client choose files on the server's disk. A model whose weights are
not here is refused rather than downloaded on a request's behalf (a large download would hold a worker
for minutes); the operator starts the server with ``--model`` once to fetch it.
"""

from __future__ import annotations

from typing import Any

from cutkit._util.suggest import did_you_mean
from cutkit.serve.config import ServeConfig
from cutkit.serve.errors import ApiError
from cutkit.zoo.models import MODELS
from cutkit.zoo.registry import default_model, rembg_cache_dirs
from cutkit.zoo.spec import ModelSpec


def server_default(cfg: ServeConfig) -> str:
    """The model requests get when they name none."""
    return cfg.model or default_model()


def weights_state(spec: ModelSpec) -> tuple[bool, str | None]:
    """Whether ``spec``'s weights are present (bundled, cached or in rembg's cache), and why not."""
    from cutkit.zoo.weights import WeightsError, find_local

    extra = rembg_cache_dirs() if spec.arch == "onnx" else []
    try:
        return find_local(spec.weights, extra) is not None, None
    except WeightsError as exc:  # a truncated or wrong-size file: present but unusable, and said so
        return False, str(exc)


def model_entries(cfg: ServeConfig, loaded_spec: ModelSpec) -> dict[str, Any]:
    """The body of ``GET /v1/models``: the default model's name and one entry per model."""
    entries = [_entry(spec.name, spec) for spec in MODELS.values()]
    default = server_default(cfg)
    if default not in MODELS:  # started with a trained run or an exported file: offer it under that name
        entries.insert(0, {**_entry(default, loaded_spec), "available": True})
    return {"default": default, "models": entries}


def _entry(name: str, spec: ModelSpec) -> dict[str, Any]:
    available, problem = weights_state(spec)
    entry = {"name": name, "description": spec.description, "input_size": list(spec.input_size)}
    entry["available"] = available
    if problem:
        entry["problem"] = problem
    return entry


def check_model(name: str, cfg: ServeConfig) -> str:
    """``name`` if a request may use it: a zoo model with its weights here, or the server's own model.

    Raises:
        ApiError: 400 naming the problem and the models this server offers.
    """
    if name == server_default(cfg):
        return name
    if name not in MODELS:
        raise ApiError(400, f"unknown model '{name}'{did_you_mean(name, MODELS)}; {_offered(cfg)}")
    available, problem = weights_state(MODELS[name])
    if not available:
        why = problem or "its weights are not on this server"
        raise ApiError(400, f"model '{name}' is not available: {why}; {_offered(cfg)}")
    return name


def _offered(cfg: ServeConfig) -> str:
    names = [server_default(cfg)] + [n for n, s in MODELS.items() if weights_state(s)[0]]
    return "available here: " + ", ".join(dict.fromkeys(names))
