"""The architecture registry: ``@register_net`` next to each definition, ``build_net`` to construct one.

Constructor keyword arguments are an architecture's whole config, so a checkpoint can store
``(arch, kwargs)`` and rebuild the network without any training config.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from torch import nn

from cutkit._util.suggest import did_you_mean, unknown

_ARCHS: dict[str, Callable[..., nn.Module]] = {}


def register_net(name: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Register a network class or factory under ``name``."""

    def deco(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _ARCHS:
            raise ValueError(f"architecture '{name}' is registered twice")
        _ARCHS[name] = factory
        return factory

    return deco


def arch_names() -> list[str]:
    """All registered architecture names, sorted."""
    _load_all()
    return sorted(_ARCHS)


def arch_defaults(arch: str) -> dict[str, Any]:
    """The keyword arguments of an architecture with their default values."""
    factory = _factory(arch)
    params = inspect.signature(factory).parameters.values()
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


def build_net(arch: str, **kwargs: Any) -> nn.Module:
    """Build the bare network ``arch``; its ``state_dict()`` has the official key layout.

    Args:
        arch: a registered architecture name, e.g. ``"u2net"``, ``"isnet"``, ``"sinet"``.
        **kwargs: constructor keywords; unknown ones are rejected with a suggestion.
    """
    factory = _factory(arch)
    check_kwargs(f"architecture '{arch}'", factory, kwargs)
    return factory(**kwargs)


def check_kwargs(what: str, factory: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    """Reject a keyword that ``factory`` does not take, naming the closest one it does."""
    allowed = set(inspect.signature(factory).parameters)
    for key in kwargs:
        if key not in allowed:
            raise TypeError(
                f"{what} has no option '{key}'{did_you_mean(key, allowed)}; "
                f"options: {', '.join(sorted(allowed)) or 'none'}"
            )


def _factory(arch: str) -> Callable[..., nn.Module]:
    _load_all()
    if arch not in _ARCHS:
        raise KeyError(unknown("architecture", arch, _ARCHS))
    return _ARCHS[arch]


def _load_all() -> None:
    # The one explicit import list: importing the families runs their @register_net decorators.
    from cutkit.nets import _families  # noqa: F401
