"""The backbone registry and the feature contract that joins backbones to decoders and heads.

The contract. A backbone is an ``nn.Module`` with

* ``out_channels: tuple[int, ...]`` -- the channel count of each feature map, finest first;
* ``reductions: tuple[int, ...]`` -- the stride of each map relative to the input, increasing, e.g.
  ``(2, 4, 8, 16, 32)``; same length as ``out_channels``;
* ``forward(x) -> list[Tensor]`` -- one feature map per entry, ``out_channels[i]`` channels at
  ``ceil(H / reductions[i])`` × ``ceil(W / reductions[i])`` (exactly ``H / r`` when H and W are multiples of
  the last reduction).

A backbone has no classifier and no pooling head. Classification puts a head on the last (coarsest) feature;
segmentation decoders consume all of them. Constructor keyword arguments are the backbone's whole config
(JSON-serialisable), so a network stores ``backbone`` and ``backbone_kwargs`` among its own kwargs.

Backbones register with ``@register_backbone(name)`` next to their definition; their module is imported from
the explicit list in :mod:`cutkit.nets._families`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from cutkit._util.suggest import unknown
from cutkit.nets._registry import check_kwargs

_BACKBONES: dict[str, Callable[..., nn.Module]] = {}


def register_backbone(name: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Register a backbone class or factory under ``name``."""

    def deco(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _BACKBONES:
            raise ValueError(f"backbone '{name}' is registered twice")
        _BACKBONES[name] = factory
        return factory

    return deco


def backbone_names() -> list[str]:
    """All registered backbone names, sorted."""
    _load_all()
    return sorted(_BACKBONES)


def backbone_defaults(name: str) -> dict[str, Any]:
    """The keyword arguments of backbone ``name`` with their default values."""
    import inspect

    _load_all()
    if name not in _BACKBONES:
        raise KeyError(unknown("backbone", name, _BACKBONES))
    params = inspect.signature(_BACKBONES[name]).parameters.values()
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


def build_backbone(name: str, **kwargs: Any) -> nn.Module:
    """Build the backbone ``name`` and check that it honours the feature contract.

    Args:
        name: a registered backbone name, e.g. ``"mobilenetv2"``.
        **kwargs: constructor keywords; unknown ones are rejected with a suggestion.

    Raises:
        KeyError: an unknown backbone name (with the closest names).
        TypeError: an unknown keyword, or a module that breaks the contract.
    """
    _load_all()
    if name not in _BACKBONES:
        raise KeyError(unknown("backbone", name, _BACKBONES))
    factory = _BACKBONES[name]
    check_kwargs(f"backbone '{name}'", factory, kwargs)
    return _checked(name, factory(**kwargs))


def _checked(name: str, backbone: nn.Module) -> nn.Module:
    # a broken contract surfaces here, at build time, not as a shape error deep inside a decoder
    channels = getattr(backbone, "out_channels", None)
    reductions = getattr(backbone, "reductions", None)
    if not (isinstance(channels, tuple) and isinstance(reductions, tuple) and channels):
        raise TypeError(f"backbone '{name}' must have tuple attributes 'out_channels' and 'reductions'")
    if len(channels) != len(reductions) or list(reductions) != sorted(set(reductions)):
        raise TypeError(
            f"backbone '{name}': out_channels {channels} and reductions {reductions} must have the same "
            f"length, with strictly increasing reductions"
        )
    return backbone


def _load_all() -> None:
    # The one explicit import list: importing the families runs their @register_backbone decorators.
    from cutkit.nets import _families  # noqa: F401
