"""cutkit: background removal, and a workbench to train, evaluate and ship the networks behind it.

``import cutkit`` is light: the public names below are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "remove": ("cutkit.api", "remove"),
    "Remover": ("cutkit.api", "Remover"),
    "new_session": ("cutkit.api", "new_session"),
    "build_net": ("cutkit.nets", "build_net"),
    "list_models": ("cutkit.zoo", "list_specs"),
    "get_model": ("cutkit.zoo", "get_spec"),
}

__all__ = ["Remover", "__version__", "build_net", "get_model", "list_models", "new_session", "remove"]

if TYPE_CHECKING:  # pragma: no cover
    from cutkit.api import Remover, new_session, remove
    from cutkit.nets import build_net
    from cutkit.zoo import get_spec as get_model
    from cutkit.zoo import list_specs as list_models


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'cutkit' has no attribute '{name}'")
    import importlib

    module, attr = _LAZY[name]
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value
